"""The Stage protocol and the context a stage sees: all the runner shares with a kind.

A stage *plans* (pure: the exact argv, environment overlay, the inputs its fingerprint
covers, and typed parameters for `run`; no side effects) and *runs* (executes a plan through
the launcher and reports outputs and artifacts). Outputs are what downstream stages read,
typed (engine/outputs.py: sft's TrainingRun, export's Model); a stage reads them through its
input slots with `ctx.input(slot, type)`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol

from typing_extensions import TypeVar

from swiftpipe.engine.launch import Launcher, LocalLauncher
from swiftpipe.engine.manifest import Artifact, StageRecord
from swiftpipe.engine.outputs import TYPES, Outputs

if TYPE_CHECKING:
    from swiftpipe.config.schema import Pipeline
    from swiftpipe.engine.graph import Node
    from swiftpipe.engine.pipeline import LoadedPipeline

# Set for every child so nothing tries a hub download and logs arrive live.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "MODELSCOPE_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
}
ALWAYS_ENV = {"PYTHONUNBUFFERED": "1"}

# A kind's config (the dataclass under its stage in pipeline.yaml) and its plan's typed params;
# bare `StageContext`/`StagePlan` (shared helpers that work for any kind) mean Any.
C = TypeVar("C", default=Any)
P = TypeVar("P", default=Any)
OutputsT = TypeVar("OutputsT", bound=Outputs)


@dataclass
class StagePlan(Generic[P]):
    """What a stage would run.

    `ready` is False while the fingerprint inputs depend on outputs that do not exist yet.
    `params` holds the kind's own typed values for `run` (never read back out of argv).
    `promised` are outputs known before running (an ephemeral stage's model and settings),
    so stages after it can tell whether they must run before it is started.
    """

    argv: list[str]
    env: dict[str, str | None] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    ready: bool = True
    notes: list[str] = field(default_factory=list)
    # Every plan that is ready has them; one that is not may leave them out.
    params: P = field(default=None)  # type: ignore[assignment]
    promised: dict[str, Any] = field(default_factory=dict)


@dataclass
class StageResult:
    """What a run produced; `outputs` is None only on a machine that writes nothing (node_rank > 0)."""

    outputs: Outputs | None = None
    artifacts: list[Artifact] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunOptions:
    """Command-line choices that stages may need to know about."""

    keep_serving: bool = False
    echo: bool = True


# name -> that stage's usable outputs (None: not available, values may be Pending).
OutputsLookup = Callable[[str], "dict[str, Any] | None"]


class StageContext(Generic[C]):
    """What one stage may see: its node, the pipeline, its own record, its inputs' outputs."""

    def __init__(
        self,
        pipeline: LoadedPipeline,
        node: Node,
        lookup: OutputsLookup,
        record: StageRecord | None = None,
        options: RunOptions | None = None,
        launcher: Launcher | None = None,
        previous: dict[str, Any] | None = None,
        on_output: Callable[[str, Any], None] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.node = node
        self.name = node.name
        self.cfg: C = node.config
        self.where = node.where
        self._lookup = lookup
        self.record = record
        self.options = options or RunOptions()
        self.launcher: Launcher = launcher or LocalLauncher()
        # What the stage's record held before this attempt reset it (a server an earlier,
        # dead run left behind), for run() to clean up or name.
        self.previous: dict[str, Any] = previous or {}
        self._on_output = on_output

    @property
    def config(self) -> Pipeline:
        return self.pipeline.config

    @property
    def workdir(self) -> Path:
        return self.pipeline.workdir

    @property
    def stage_dir(self) -> Path:
        """Where this stage writes: `<workdir>/<stage name>`."""
        return self.workdir / self.name

    def upstream(self, slot: str) -> Node | None:
        name = self.node.upstream.get(slot)
        return self.pipeline.graph[name] if name is not None else None

    def available(self, slot: str) -> bool:
        """Whether the stage feeding `slot` has outputs now (False when there is none)."""
        node = self.upstream(slot)
        return node is not None and self._lookup(node.name) is not None

    def input(self, slot: str, kind: type[OutputsT]) -> OutputsT | None:
        """The outputs of the stage feeding `slot`, typed; None when no stage feeds it.

        What does not exist yet (the upstream has not run, or promised only part of it) reads
        as Pending placeholders such as `<sft.run_dir>`."""
        node = self.upstream(slot)
        if node is None:
            return None
        produced = TYPES[self.pipeline.graph.kind(node.name).produces]
        if not issubclass(produced, kind):
            raise TypeError(f"slot {slot} of {self.name} reads {produced.__name__}, not {kind.__name__}")
        return produced.from_dict(self._lookup(node.name) or {}, pending=node.name)

    def report_output(self, key: str, value: Any) -> None:
        """Persist an output found mid-run (sft's run folder), so a failed run can resume."""
        if self._on_output is not None:
            self._on_output(key, value)

    def log_path(self, suffix: str = "") -> Path:
        return self.workdir / "logs" / f"{self.name}{suffix}.log"

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
    """One step of the pipeline; one object per stage per run. Kinds live in swiftpipe/kinds/."""

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


class FileStage:
    """Defaults for stages whose outputs are files: stale when an artifact is gone; no close."""

    def stale(self, ctx: StageContext, record: StageRecord) -> str | None:
        from swiftpipe.engine.artifacts import stale_reason

        return stale_reason(record.artifacts)

    def close(self, ctx: StageContext) -> None:
        return None
