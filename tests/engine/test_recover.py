"""A `running` record whose run died (kill -9) is an interrupted attempt: fake swift (fault injection)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from swiftpipe.commands.plan import plan
from swiftpipe.commands.run import run
from swiftpipe.core.errors import StageFailed
from swiftpipe.engine.lock import LOCK_NAME
from swiftpipe.engine.manifest import load_manifest
from swiftpipe.engine.select import Selection


@pytest.fixture
def pipeline(tmp_path: Path, fake_venv: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}")
    (tmp_path / "train.jsonl").write_text('{"messages": []}\n')
    monkeypatch.setenv("FAKE_SWIFT_LOG", str(tmp_path / "calls.jsonl"))
    path = tmp_path / "pipeline.yaml"
    path.write_text(f"""
name: t
model: model
stages:
  sft:
    venv: {fake_venv}
    dataset: [train.jsonl]
    args: {{max_steps: 4}}
""")
    return path


def sft_calls(pipeline: Path) -> list[list[str]]:
    return [json.loads(line) for line in (pipeline.parent / "calls.jsonl").read_text().splitlines()]


def living(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text() if entry.name.isdigit() else ""
        except OSError:
            continue
        if stat and int(stat[stat.rfind(")") + 2 :].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def start_hanging_run(pipeline: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """`swiftpipe run` whose fake swift hangs (silent) after writing checkpoint-2."""
    env = {**os.environ, "FAKE_SWIFT_HANG": "2"}
    proc = subprocess.Popen([sys.executable, "-m", "swiftpipe", "run", str(pipeline)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workdir = pipeline.parent / "runs" / "t"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        manifest = load_manifest(workdir) if (workdir / "manifest.json").exists() else None
        run_dir = manifest.stages["sft"].outputs.get("run_dir") if manifest and "sft" in manifest.stages else None
        if run_dir and (Path(run_dir) / "checkpoint-2" / "trainer_state.json").exists():
            return proc, Path(run_dir)
        time.sleep(0.02)
    proc.kill()
    raise AssertionError("the fake swift never wrote checkpoint-2")


def test_a_run_killed_during_sft_is_resumed_by_the_next_run(
    pipeline: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    proc, run_dir = start_hanging_run(pipeline)
    try:
        plan(pipeline, overrides=[], selection=Selection())
        assert "sft: run (last attempt running)" in capsys.readouterr().out  # its owner still lives
        below = children(proc.pid)
        tree = below + [c for pid in below for c in children(pid)]
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 3
    while any(living(p) for p in tree) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(tree) >= 2 and not [p for p in tree if living(p)]

    workdir = pipeline.parent / "runs" / "t"
    before = (workdir / "manifest.json").read_bytes()
    plan(pipeline, overrides=[], selection=Selection())
    out, err = capsys.readouterr()
    message = f"interrupted: the run that owned it (pid {proc.pid}) died"
    assert f"note: sft: {message}; its attempt is recorded as interrupted" in err
    assert "sft: run (last attempt interrupted)" in out
    assert f"resumes the interrupted run from {run_dir / 'checkpoint-2'} (step 2)" in out
    assert (workdir / "manifest.json").read_bytes() == before  # plan writes nothing

    run(pipeline, overrides=[], selection=Selection(), keep_serving=False)
    assert f"note: sft: {message}; its attempt is recorded as interrupted" in capsys.readouterr().err
    resumed = sft_calls(pipeline)[-1]
    assert resumed[resumed.index("--resume_from_checkpoint") + 1] == str(run_dir / "checkpoint-2")
    record = load_manifest(workdir).stages["sft"]  # type: ignore[union-attr]
    assert [a.status for a in record.attempts] == ["interrupted", "succeeded"]
    assert record.attempts[0].ended is not None and record.status == "succeeded"


def test_a_reused_pid_does_not_keep_a_record_running(
    pipeline: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FAKE_SWIFT_CRASH_AFTER", "2")
    with pytest.raises(StageFailed):
        run(pipeline, overrides=[], selection=Selection(), keep_serving=False)
    workdir = pipeline.parent / "runs" / "t"
    manifest = json.loads((workdir / "manifest.json").read_text())
    manifest["stages"]["sft"]["status"] = "running"
    (workdir / "manifest.json").write_text(json.dumps(manifest))
    # A living process holds the recorded PID, but it started at another time: not the owner.
    lock = {"pid": os.getppid(), "host": socket.gethostname(), "start_ticks": 1}
    (workdir / LOCK_NAME).write_text(json.dumps(lock))
    capsys.readouterr()
    plan(pipeline, overrides=[], selection=Selection())
    out, err = capsys.readouterr()
    assert f"sft: interrupted: the run that owned it (pid {os.getppid()}) died" in err
    assert "sft: run (last attempt interrupted)" in out


def test_a_unit_of_work_started_again_interrupts_only_its_own_running_records() -> None:
    from swiftpipe.engine.manifest import Attempt, Manifest, StageRecord
    from swiftpipe.engine.recover import mark_interrupted
    from swiftpipe.engine.status import Status

    manifest = Manifest("p", "w", updated="2026-12-03T08:00:10+0000")
    for name in ("sft", "other"):
        manifest.stages[name] = StageRecord(status=Status.RUNNING, started="2026-12-03T08:00:00+0000",
                                            attempts=[Attempt(started="2026-12-03T08:00:00+0000")])
    assert mark_interrupted(manifest, ["sft", "missing"], "interrupted: its job was requeued") == ["sft"]
    sft = manifest.stages["sft"]
    assert (sft.status, sft.message, sft.duration_s) == (
        Status.INTERRUPTED, "interrupted: its job was requeued", 10.0)
    assert sft.attempts[-1].status == Status.INTERRUPTED and sft.status.resumable
    assert manifest.stages["other"].status == Status.RUNNING  # another job's stage, still running
