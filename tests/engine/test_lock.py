from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from swiftpipe.engine.lock import LOCK_NAME, workdir_lock
from swiftpipe.errors import UserError

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
