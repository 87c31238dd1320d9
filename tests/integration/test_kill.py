"""kill -9 of `swiftpipe run` during the real `swift sft`: nothing survives, the next run resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from swiftpipe.msswift import checkpoints
from tests.integration.tiny import write_sft_pipeline, write_train

pytestmark = pytest.mark.integration



@pytest.fixture
def project(tmp_path: Path, tiny_model: Path) -> Path:
    write_train(tmp_path / "train.jsonl", 16)
    write_sft_pipeline(tmp_path, tiny_model, {"max_steps": 12, "save_steps": 4})
    return tmp_path


def descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat[stat.rfind(")") + 2 :].split()[1]), []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        for pid in children.get(todo.pop(), []):
            found.add(pid)
            todo.append(pid)
    return found


def living(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X"):
            alive.add(pid)
    return alive


def first_complete_checkpoint(workdir: Path, proc: subprocess.Popen[bytes]) -> Path:
    """Poll the manifest until the recorded run folder holds a complete checkpoint."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            run_dir = json.loads((workdir / "manifest.json").read_text())["stages"]["sft"]["outputs"]["run_dir"]
        except (OSError, ValueError, KeyError):
            run_dir = None
        if run_dir:
            ckpt, _ = checkpoints.last_complete(Path(run_dir))
            if ckpt is not None:
                return Path(run_dir)
        time.sleep(0.05)
    raise AssertionError(f"no complete checkpoint appeared (swiftpipe exit code {proc.poll()})")


def test_kill_9_during_sft_leaves_nothing_and_the_next_run_resumes(project: Path) -> None:
    workdir = project / "runs" / "it"
    with (project / "first.log").open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "swiftpipe", "run", "pipeline.yaml"], cwd=project,
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        run_dir = first_complete_checkpoint(workdir, proc)
        tree = descendants(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert tree, "the run had no child processes"
    deadline = time.monotonic() + 3
    while living(tree) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not living(tree), (project / "first.log").read_text()[-3000:]
    manifest = json.loads((workdir / "manifest.json").read_text())
    assert manifest["stages"]["sft"]["status"] == "running"
    newest, _ = checkpoints.last_complete(run_dir)
    assert newest is not None and newest.step < 12, "the run finished before it was killed"

    again = subprocess.run([sys.executable, "-m", "swiftpipe", "run", "pipeline.yaml"], cwd=project,
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"sft: interrupted: the run that owned it (pid {proc.pid}) died" in again.stderr
    sft = json.loads((workdir / "manifest.json").read_text())["stages"]["sft"]
    assert [a["status"] for a in sft["attempts"]] == ["interrupted", "succeeded"]
    argv = sft["argv"]
    assert argv[argv.index("--resume_from_checkpoint") + 1] == str(newest.path)
    assert sft["metrics"]["global_step"] == 12
    assert Path(sft["outputs"]["last_checkpoint"]).name == "checkpoint-12"
