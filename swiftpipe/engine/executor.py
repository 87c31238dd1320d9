"""The executor seam: where the stages a run selected execute, and how their work is found again.

An executor is one package under swiftpipe/executors/ whose module defines `EXECUTOR` (an
`ExecutorKind`); the registry (swiftpipe/executors/__init__.py) maps `executor.type` to it. The
commands, the engine and the config know only this protocol: the default runs the stages here,
one after another; others hand them to a scheduler as jobs. Whatever the executor, a stage says its size with
`launch:` (engine/launch.py); an executor that places processes itself fills in the rendezvous.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from swiftpipe.config.validate import Problem
from swiftpipe.engine.manifest import Manifest
from swiftpipe.engine.pipeline import LoadedPipeline
from swiftpipe.engine.select import Selection
from swiftpipe.engine.stage import RunOptions


@dataclass(frozen=True)
class RunRequest:
    """One `swiftpipe run`: the stages selected (graph order) and how to say where to resume."""

    loaded: LoadedPipeline
    manifest: Manifest
    names: list[str]
    selection: Selection
    options: RunOptions
    resume_hint: str
    detach: bool = False  # return once the work is handed over (executors that queue it)


class Executor(Protocol):
    def execute(self, request: RunRequest) -> bool:
        """Run the selected stages, recording them in the manifest; True when any stage was run
        (so the report is rewritten). Raises StageFailed naming the stage to resume from."""
        ...

    def run_part(self, loaded: LoadedPipeline, stages: list[str], resume_hint: str) -> None:
        """Inside a unit of work this executor started elsewhere (`swiftpipe run --job STAGES`): run
        those stages (with the servers they read) and write only their records."""
        ...

    def live(self, manifest: Manifest) -> dict[str, str]:
        """stage -> "<work id> <state>" for the stages whose work is still queued or running."""
        ...

    def describe(self, manifest: Manifest) -> dict[str, str]:
        """stage -> "<work id> <state>" for every stage this executor handed out (for `status`)."""
        ...

    def cancel(self, loaded: LoadedPipeline, manifest: Manifest) -> list[str]:
        """Cancel this pipeline's work still queued or running (ours only); one line per unit."""
        ...


def _no_problems(loaded: LoadedPipeline) -> list[Problem]:
    return []


@dataclass(frozen=True)
class ExecutorKind:
    """What an executor declares about itself, for loading and checking a pipeline."""

    name: str
    doc: str
    settings: type[Any]  # a dataclass: the keys of `executor:` besides `type`
    make: Callable[[], Executor]
    # A per-stage key it reads (`<key>:` on a stage, e.g. a job's memory) and the dataclass its value builds.
    stage_key: str | None = None
    resources: type[Any] | None = None
    # Problems of a loaded pipeline on this executor (paths it cannot write, a launch it cannot place).
    check: Callable[[LoadedPipeline], list[Problem]] = _no_problems


class Executors(Protocol):
    """The registry (swiftpipe/executors/__init__.py), as those who load a pipeline see it."""

    def get(self, name: str) -> ExecutorKind: ...

    def names(self) -> list[str]: ...
