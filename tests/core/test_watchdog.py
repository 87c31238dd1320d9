"""The watchdog between swiftpipe and a child: the child's status comes through, and the child
never outlives swiftpipe. Each test runs the real watchdog script with a lifeline of its own."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from swiftpipe.core import watchdog


@pytest.fixture
def lifeline() -> Iterator[tuple[int, int]]:
    """A pipe (read end, write end) of this test's own; closing the write end is swiftpipe dying."""
    read, write = os.pipe()
    yield read, write
    for fd in (read, write):
        with contextlib.suppress(OSError):
            os.close(fd)


def supervise(fd: int, owner: int, *command: str) -> subprocess.Popen[str]:
    argv = [sys.executable, "-I", watchdog.__file__, str(fd), str(owner), "--", *command]
    return subprocess.Popen(argv, pass_fds=[fd], stderr=subprocess.PIPE, text=True)


def test_usage_without_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert watchdog.main(["3", "1"]) == 2
    assert capsys.readouterr().err == "usage: watchdog.py FD OWNER_PID -- COMMAND...\n"


def test_supervised_argv_runs_the_command_under_this_watchdog() -> None:
    argv, fd = watchdog.supervised_argv(["swift", "sft"])
    assert argv == [sys.executable, "-I", watchdog.__file__, str(fd), str(os.getpid()), "--", "swift", "sft"]
    assert watchdog.supervised_argv(["other"])[1] == fd  # one lifeline for all children


def test_the_childs_exit_code_is_the_watchdogs(lifeline: tuple[int, int]) -> None:
    proc = supervise(lifeline[0], os.getpid(), sys.executable, "-c", "import sys; sys.exit(7)")
    assert proc.wait(timeout=60) == 7


def test_a_signal_death_of_the_child_is_repeated(lifeline: tuple[int, int]) -> None:
    code = "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"
    proc = supervise(lifeline[0], os.getpid(), sys.executable, "-c", code)
    assert proc.wait(timeout=60) == -signal.SIGTERM


def test_a_program_that_cannot_start_exits_127_and_says_why(lifeline: tuple[int, int], tmp_path: Path) -> None:
    proc = supervise(lifeline[0], os.getpid(), str(tmp_path / "no-such-program"))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 127
    assert err.startswith(f"swiftpipe: cannot start {tmp_path / 'no-such-program'}: [Errno 2] No such file")


def test_a_watchdog_whose_owner_is_already_gone_starts_nothing(lifeline: tuple[int, int], tmp_path: Path) -> None:
    marker = tmp_path / "started"
    proc = supervise(lifeline[0], 1, sys.executable, "-c", f"open({str(marker)!r}, 'w')")
    assert proc.wait(timeout=60) == 1
    assert not marker.exists()


def test_when_the_lifeline_closes_the_child_is_killed(lifeline: tuple[int, int], tmp_path: Path) -> None:
    marker = tmp_path / "child.pid"
    code = f"import os, pathlib, time; pathlib.Path({str(marker)!r}).write_text(str(os.getpid())); time.sleep(600)"
    proc = supervise(lifeline[0], os.getpid(), sys.executable, "-c", code)
    deadline = time.monotonic() + 60
    while not (marker.exists() and marker.read_text()):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.02)
    child = int(marker.read_text())
    os.close(lifeline[1])  # as the kernel does when swiftpipe dies, however it dies
    assert proc.wait(timeout=60) == 1
    assert not Path(f"/proc/{child}").exists() or Path(f"/proc/{child}/stat").read_text().split()[2] == "Z"
