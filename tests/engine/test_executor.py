"""The executor seam: what an ExecutorKind declares when it says nothing more."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from swiftpipe.engine.executor import ExecutorKind
from swiftpipe.executors.local import LocalExecutor
from swiftpipe.loading import load_pipeline


@dataclass(frozen=True)
class NoSettings:
    pass


def test_an_executor_kind_without_stage_keys_or_checks(write_pipeline: Callable[[str], Path]) -> None:
    kind = ExecutorKind(name="here", doc="runs here", settings=NoSettings, make=LocalExecutor)
    assert (kind.stage_key, kind.resources) == (None, None)
    loaded = load_pipeline(write_pipeline("name: g\nmodel: m\nstages: {}\n"), env={})
    assert kind.check(loaded) == []
    assert isinstance(kind.make(), LocalExecutor)
