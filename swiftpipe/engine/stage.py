"""The Stage protocol: all the runner knows about a stage.

A stage *plans* (pure: the exact argv, environment overlay and the inputs its
fingerprint covers; no side effects) and *runs* (executes a plan and reports
outputs and artifacts). Outputs are what downstream stages read, e.g. sft's
`checkpoint` or export's `merged_dir`; they come from this run or from the
stage's last succeeded record in the manifest.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from swiftpipe.config.schema import LoadedPipeline
from swiftpipe.engine.manifest import Artifact, Manifest, StageRecord

# Set for every child so nothing tries a hub download and logs arrive live.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "MODELSCOPE_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
}
ALWAYS_ENV = {"PYTHONUNBUFFERED": "1"}


class Pending(str):
    """An output of an upstream stage that does not exist yet; shown as `<sft.checkpoint>`."""


@dataclass
class StagePlan:
    """What a stage would run. `ready` is False while it depends on Pending outputs."""

    argv: list[str]
    env: dict[str, str | None] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    ready: bool = True
    notes: list[str] = field(default_factory=list)


@dataclass
class StageResult:
    outputs: dict[str, Any] = field(default_factory=dict)
    artifacts: list[Artifact] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunOptions:
    """Command-line choices that stages may need to know about."""

    keep_serving: bool = False
    echo: bool = True


class StageContext:
    """What a stage may see: the pipeline, its workdir, and upstream outputs."""

    def __init__(
        self, pipeline: LoadedPipeline, manifest: Manifest, options: RunOptions | None = None
    ) -> None:
        self.pipeline = pipeline
        self.config = pipeline.config
        self.workdir = pipeline.workdir
        self.manifest = manifest
        self.options = options or RunOptions()
        self.fresh: dict[str, StageResult] = {}  # results of stages run in this invocation
        # Stages that will run before this one in the current plan: their recorded
        # outputs are about to be replaced, so downstream plans see them as Pending.
        self.invalidated: set[str] = set()
        # What each stage's record held before the current attempt reset it (e.g. a
        # server an earlier, dead run left behind), for run() to clean up or name.
        self.previous: dict[str, dict[str, Any]] = {}
        # The runner persists outputs a stage discovers mid-run (e.g. sft's run folder),
        # so a failed or interrupted attempt can still be resumed or inspected.
        self.on_output: Callable[[str, str, Any], None] | None = None

    def outputs(self, stage: str) -> dict[str, Any] | None:
        """Outputs of `stage` from this run, else from its last succeeded record."""
        if stage in self.fresh:
            return self.fresh[stage].outputs
        if stage in self.invalidated:
            return None
        record = self.manifest.stages.get(stage)
        if record is not None and record.status in ("succeeded", "skipped") and record.outputs:
            return record.outputs
        return None

    def output(self, stage: str, key: str) -> Any:
        """One upstream output, or a Pending placeholder when it does not exist yet."""
        values = self.outputs(stage)
        if values is None or values.get(key) is None:
            return Pending(f"<{stage}.{key}>")
        return values[key]

    def report_output(self, stage: str, key: str, value: Any) -> None:
        if self.on_output is not None:
            self.on_output(stage, key, value)

    def record(self, stage: str) -> StageRecord | None:
        return self.manifest.stages.get(stage)

    def log_path(self, stage: str) -> Path:
        return self.workdir / "logs" / f"{stage}.log"

    def env(self, stage_env: dict[str, str], venv: str | None) -> dict[str, str | None]:
        """The overlay for a child: offline switches, pipeline env, stage env, venv PATH."""
        overlay: dict[str, str | None] = dict(ALWAYS_ENV)
        if self.config.offline:
            overlay.update(OFFLINE_ENV)
        overlay.update(self.config.env)
        overlay.update(stage_env)
        # Tools installed beside swiftpipe come first; a stage venv comes before them.
        bin_dir = Path(sys.executable).parent
        if venv is not None:
            bin_dir = self.pipeline.path(venv) / "bin"
            overlay["VIRTUAL_ENV"] = str(self.pipeline.path(venv))
        overlay["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', os.defpath)}"
        return overlay


class Stage(Protocol):
    """One step of the pipeline. Implementations live in swiftpipe/stages/<name>.py."""

    name: ClassVar[str]
    # True when the stage's output does not outlive the run (a server stopped in close()
    # unless kept): a later stage that fails must be resumed from this one.
    ephemeral: ClassVar[bool]

    def plan(self, ctx: StageContext) -> StagePlan:
        """The exact command and environment; must not change anything on disk."""
        ...

    def run(self, ctx: StageContext, plan: StagePlan) -> StageResult:
        """Execute `plan`; raise StageFailed (with the log's tail) when it fails."""
        ...

    def stale(self, ctx: StageContext, record: StageRecord) -> str | None:
        """Why a succeeded record can no longer be reused (e.g. an artifact is gone)."""
        ...

    def close(self, ctx: StageContext) -> None:
        """Called once at the end of every run, success or not (servers stop here)."""
        ...
