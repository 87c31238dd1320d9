from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from swiftpipe.core.errors import UserError
from swiftpipe.engine.lock import LOCK_NAME, MARKER, Owner, claim, read_owner, start_ticks, workdir_lock

HOLD = """
import sys, time
from pathlib import Path
from swiftpipe.engine.lock import workdir_lock
with workdir_lock(Path(sys.argv[1])):
    Path(sys.argv[2]).write_text("held")
    time.sleep(60)
"""


def test_second_run_is_refused_with_the_pid(tmp_path: Path) -> None:
    marker = tmp_path / "held"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path), str(marker)])
    try:
        deadline = time.monotonic() + 20
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        with pytest.raises(UserError) as info, workdir_lock(tmp_path):
            pass
        assert str(info.value) == (
            f"{tmp_path}: another swiftpipe run (PID {holder.pid}) is using this workdir; "
            "wait for it to finish or stop it"
        )
    finally:
        holder.kill()
        holder.wait()


def test_lock_of_a_dead_process_is_taken_over(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(dead.stdout)
    (tmp_path / LOCK_NAME).write_text(json.dumps({"pid": pid}))
    with workdir_lock(tmp_path):
        assert json.loads((tmp_path / LOCK_NAME).read_text())["pid"] != pid
    assert f"taking over the lock left by PID {pid}" in capsys.readouterr().err


def test_clean_exit_leaves_no_pid(tmp_path: Path) -> None:
    with workdir_lock(tmp_path):
        pass
    assert (tmp_path / LOCK_NAME).read_text() == ""


def test_the_lock_records_pid_host_and_process_start_time(tmp_path: Path) -> None:
    with workdir_lock(tmp_path) as previous:
        held = json.loads((tmp_path / LOCK_NAME).read_text())
        owner = read_owner(tmp_path)
    assert previous is None
    stat = Path("/proc/self/stat").read_text()
    assert held["pid"] == os.getpid() and held["host"] == socket.gethostname()
    assert held["start_ticks"] == int(stat[stat.rfind(")") + 2 :].split()[19])
    assert owner == Owner(os.getpid(), socket.gethostname(), held["start_ticks"])
    assert owner.alive()
    assert read_owner(tmp_path) is None  # a clean exit empties the file


def test_a_reused_pid_is_not_the_owner() -> None:
    ticks = start_ticks(os.getpid())
    assert ticks is not None
    host = socket.gethostname()
    assert Owner(os.getpid(), host, ticks).alive()
    assert not Owner(os.getpid(), host, ticks + 1).alive()  # same PID, another process


def test_a_dead_owner_is_not_alive_and_another_host_cannot_be_checked() -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(dead.stdout)
    assert start_ticks(pid) is None
    assert not Owner(pid, socket.gethostname(), None).alive()
    assert Owner(pid, "some-other-host", None).alive()


def test_the_lock_yields_the_owner_a_killed_run_left(tmp_path: Path) -> None:
    (tmp_path / LOCK_NAME).write_text(json.dumps({"pid": 4242, "host": "h", "start_ticks": 7}))
    with workdir_lock(tmp_path) as previous:
        assert previous == Owner(4242, "h", 7)
    (tmp_path / LOCK_NAME).write_text("not json")
    with workdir_lock(tmp_path) as previous:
        assert previous is None


@pytest.mark.parametrize("left", [None, "manifest.json", LOCK_NAME, MARKER])
def test_a_new_empty_or_swiftpipe_made_folder_is_claimed_and_marked(tmp_path: Path, left: str | None) -> None:
    workdir = tmp_path / "w"
    if left is not None:  # a workdir of an earlier version holds a manifest or a lock, not the marker
        workdir.mkdir()
        (workdir / left).write_text("{}")
        (workdir / "report.json").write_text("{}")
    claim(workdir, "p.yaml › workdir")
    marker = json.loads((workdir / MARKER).read_text())
    assert marker == {} if left == MARKER else marker["by"] == "swiftpipe"  # an existing marker is kept
    assert (workdir / "report.json").is_file() == (left is not None)


def test_an_empty_existing_folder_is_claimed(tmp_path: Path) -> None:
    claim(tmp_path, "workdir")
    assert sorted(p.name for p in tmp_path.iterdir()) == [MARKER]


def test_a_symlink_at_the_lock_name_is_not_followed(tmp_path: Path) -> None:
    (tmp_path / MARKER).write_text("{}")
    (tmp_path / "victim").write_text("keep me\n")
    (tmp_path / LOCK_NAME).symlink_to(tmp_path / "victim")
    with pytest.raises(UserError) as info, workdir_lock(tmp_path, "p.yaml › workdir"):
        pass
    assert str(info.value) == (f"p.yaml › workdir: {tmp_path / LOCK_NAME}: cannot be opened as swiftpipe's lock file "
                               "(Too many levels of symbolic links); remove it")
    assert (tmp_path / "victim").read_text() == "keep me\n"
