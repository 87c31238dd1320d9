"""The local executor: its check of multi-machine launches, and what it refuses or has not."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import pytest

from swiftpipe.config.validate import Problem
from swiftpipe.core.errors import UserError
from swiftpipe.engine.executor import RunRequest
from swiftpipe.engine.manifest import Manifest
from swiftpipe.engine.pipeline import LoadedPipeline
from swiftpipe.engine.select import Selection
from swiftpipe.engine.stage import RunOptions
from swiftpipe.executors import local
from swiftpipe.executors.local import EXECUTOR, LocalExecutor, check
from swiftpipe.loading import load_pipeline

Write = Callable[[str], Path]

PIPELINE = """
name: g
model: m
executor: {{type: {executor}}}
data: {{sources: [{{path: d.jsonl}}]}}
stages:
  sft: {{launch: {launch}}}
  export: {{}}
"""
ADDR = Problem("stages.sft.launch.master_addr", "required with nnodes > 1; set it to the address of node 0")
PORT = Problem("stages.sft.launch.master_port", "auto picks a free port on one machine only; with nnodes > 1 "
               "set the port every node uses, e.g. 29500")


def loaded(write: Write, launch: str, executor: str = "slurm") -> LoadedPipeline:
    """Loaded under `executor` (slurm places the nodes itself, so its load accepts any launch)."""
    return load_pipeline(write(PIPELINE.format(executor=executor, launch=launch)), env={})


def test_several_machines_need_an_address_and_a_fixed_port(write_pipeline: Write) -> None:
    assert check(loaded(write_pipeline, "{nnodes: 2}")) == [ADDR, PORT]
    assert check(loaded(write_pipeline, "{nnodes: 2, master_port: 29500}")) == [ADDR]
    assert check(loaded(write_pipeline, "{nnodes: 2, master_addr: 10.0.0.1}")) == [PORT]
    assert check(loaded(write_pipeline, "{nnodes: 2, master_addr: 10.0.0.1, master_port: 29500}")) == []
    assert check(loaded(write_pipeline, "{nnodes: 1}")) == []


def test_loading_for_the_local_executor_reports_both_at_once(write_pipeline: Write) -> None:
    path = write_pipeline(PIPELINE.format(executor="local", launch="{nnodes: 2}"))
    with pytest.raises(UserError) as info:
        load_pipeline(path, env={})
    assert str(info.value) == (f"{path}:6 › {ADDR.path}: {ADDR.message}\n"
                               f"{path}:6 › {PORT.path}: {PORT.message}")


def test_run_part_is_refused() -> None:
    with pytest.raises(UserError) as info:
        LocalExecutor().run_part(None, ["sft"], "swiftpipe run p.yaml")  # type: ignore[arg-type]
    assert str(info.value) == ("--job: the local executor runs every stage in `swiftpipe run` itself; "
                               "--job is for the jobs another executor starts")


def test_nothing_is_queued_so_nothing_is_live_described_or_cancelled(write_pipeline: Write) -> None:
    pipeline = loaded(write_pipeline, "{nnodes: 1}", executor="local")
    manifest = Manifest(str(pipeline.source), str(pipeline.workdir))
    manifest.stage("sft").job = {"id": "12", "name": "swiftpipe-g-sft", "state": "RUNNING"}
    executor = LocalExecutor()
    assert (executor.live(manifest), executor.describe(manifest), executor.cancel(pipeline, manifest)) == ({}, {}, [])


def test_execute_runs_the_stages_here_and_says_whether_any_ran(
    write_pipeline: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[list[str], Selection, str]] = []

    class Recorder:
        fresh: ClassVar[list[str]] = []

        def __init__(self, pipeline: LoadedPipeline, manifest: Manifest, options: RunOptions) -> None:
            pass

        def execute(self, names: list[str], selection: Selection, resume_hint: str) -> None:
            calls.append((names, selection, resume_hint))

    monkeypatch.setattr(local, "Runner", Recorder)
    pipeline = loaded(write_pipeline, "{nnodes: 1}", executor="local")
    request = RunRequest(pipeline, Manifest(str(pipeline.source), str(pipeline.workdir)), ["sft"],
                         Selection(only="sft"), RunOptions(), "swiftpipe run p.yaml")
    assert LocalExecutor().execute(request) is False
    Recorder.fresh = ["sft"]
    assert LocalExecutor().execute(request) is True
    assert calls == [(["sft"], Selection(only="sft"), "swiftpipe run p.yaml")] * 2
    assert request.detach is False


def test_the_local_executor_declares_no_stage_key() -> None:
    assert (EXECUTOR.name, EXECUTOR.stage_key, EXECUTOR.resources, EXECUTOR.check) == ("local", None, None, check)
