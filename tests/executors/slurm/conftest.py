"""Shared by the SLURM executor's unit tests: fake sbatch, squeue, scancel, scontrol (and srun) on PATH.

They only record each call and print canned answers; the real cluster is tests/executors/slurm/cluster.py.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from swiftpipe.engine.pipeline import LoadedPipeline
from swiftpipe.loading import load_pipeline

DEMO = """
name: demo
model: m
executor: {type: slurm, partition: gpu}
data: {sources: [{path: d.jsonl}]}
stages:
  sft:
    launch: {nnodes: 2}
    slurm: {gpus_per_node: 8, mem: 64G}
  export: {}
  deploy: {port: 8123, slurm: {mem: 16G}}
  eval:
    datasets: {general_mcq: {local_path: x}}
    slurm: {time: "00:10:00"}
"""
TOOLS = ("sbatch", "squeue", "scancel", "scontrol", "srun")

FAKE = """\
import json, os, pathlib, sys
root = pathlib.Path(__file__).resolve().parent.parent
tool = pathlib.Path(sys.argv[0]).name
with open(root / "calls.jsonl", "a") as fh:
    fh.write(json.dumps([tool, *sys.argv[1:]]) + "\\n")
answers = root / "answers" / (tool + ".json")
for match, out, err, rc in json.loads(answers.read_text()) if answers.exists() else []:
    if match is None or match in sys.argv[1:]:
        sys.stdout.write(out)
        sys.stderr.write(err)
        sys.exit(rc)
"""


class FakeSlurm:
    """The fake tools' folder: `answer` what a tool prints, `calls` what was run (tool first)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.bin = root / "bin"

    def answer(self, tool: str, stdout: str, *, when: str | None = None, stderr: str = "", rc: int = 0) -> None:
        """`tool` prints `stdout` (and `stderr`, exits `rc`) when one of its arguments is `when`
        (any call when None); the first answer that matches wins."""
        path = self.root / "answers" / f"{tool}.json"
        known = json.loads(path.read_text()) if path.exists() else []
        path.write_text(json.dumps([*known, [when, stdout, stderr, rc]]))

    def calls(self) -> list[list[str]]:
        log = self.root / "calls.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def only(self, *tools: str) -> str:
        """A PATH on which just `tools` are found (for checks of what is missing)."""
        folder = self.root / "some-bin"
        folder.mkdir(exist_ok=True)
        for tool in tools:
            (folder / tool).symlink_to(self.bin / tool)
        return str(folder)


@pytest.fixture
def fake_slurm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeSlurm:
    fake = FakeSlurm(tmp_path / "fakeslurm")
    fake.bin.mkdir(parents=True)
    (fake.root / "answers").mkdir()
    for tool in TOOLS:
        script = fake.bin / tool
        script.write_text(f"#!{sys.executable}\n{FAKE}")
        script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.bin}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("SLURM_JOB_NODELIST", raising=False)
    return fake


@pytest.fixture
def demo(write_pipeline: Callable[[str], Path]) -> LoadedPipeline:
    """DEMO loaded: data, sft on two nodes, export, deploy and eval (a server and its reader)."""
    return load_pipeline(write_pipeline(DEMO), env={})
