"""The log relay (a real `python -m swiftpipe.serving.serverlog` process) and the LogFollower."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from swiftpipe.serving import serverlog
from swiftpipe.serving.serverlog import REDACT_ENV, LogFollower

KEY = "sk-relay-S3CRET-0042"
REPO = Path(__file__).parents[2]


def child(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def relay(log: Path, argv: list[str], secrets: list[str] | None = None) -> subprocess.Popen[bytes]:
    """Start the relay as Server.start does: in a new process group, secrets in its environment."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    if secrets is not None:
        env[REDACT_ENV] = json.dumps(secrets)
    return subprocess.Popen(serverlog.relay_argv(log, argv), env=env, start_new_session=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for(path: Path, text: str) -> None:
    deadline = time.monotonic() + 20
    while not (path.exists() and text in path.read_text()):
        assert time.monotonic() < deadline, f"{text!r} never reached {path}"
        time.sleep(0.01)


def test_relay_argv_runs_this_module_with_this_python(tmp_path: Path) -> None:
    assert serverlog.relay_argv(tmp_path / "d.log", ["swift", "deploy", "--port", "1"]) == [
        sys.executable, "-m", "swiftpipe.serving.serverlog", str(tmp_path / "d.log"), "--",
        "swift", "deploy", "--port", "1"]


def test_the_relay_copies_output_appends_and_returns_the_exit_code(tmp_path: Path) -> None:
    log = tmp_path / "deploy.log"
    log.write_bytes(b"$ swift deploy\n")
    code = "import sys; print('out line'); print('err line', file=sys.stderr); sys.exit(3)"
    proc = relay(log, child(code))
    assert proc.wait(timeout=30) == 3
    assert log.read_text() in ("$ swift deploy\nout line\nerr line\n", "$ swift deploy\nerr line\nout line\n")


def test_a_key_split_across_two_writes_is_masked(tmp_path: Path) -> None:
    """The first half is written and seen by the relay before the second half exists."""
    log, go = tmp_path / "deploy.log", tmp_path / "go"
    code = (
        "import os, time\n"
        f"os.write(1, b\"starting\\napi_key='{KEY[:7]}\")\n"
        f"while not os.path.exists({str(go)!r}): time.sleep(0.01)\n"
        f"os.write(1, b\"{KEY[7:]}', port=1\\nagain {KEY}\")\n"
    )
    proc = relay(log, child(code), [KEY])
    wait_for(log, "starting\n")
    go.touch()
    assert proc.wait(timeout=30) == 0
    assert log.read_text() == "starting\napi_key='***', port=1\nagain ***"


def test_the_secrets_do_not_reach_the_server_and_it_shares_the_relay_s_group(tmp_path: Path) -> None:
    log = tmp_path / "deploy.log"
    code = f"import os; print(os.environ.get({REDACT_ENV!r}), os.getpgid(0), os.getppid())"
    proc = relay(log, child(code), [KEY])
    assert proc.wait(timeout=30) == 0
    assert log.read_text() == f"None {proc.pid} {proc.pid}\n"


def test_sigterm_to_the_relay_alone_does_not_cut_the_log(tmp_path: Path) -> None:
    """The server decides when it is done; the relay keeps copying until its output ends."""
    log, go = tmp_path / "deploy.log", tmp_path / "go"
    code = (
        "import os, time\n"
        "print('up', flush=True)\n"
        f"while not os.path.exists({str(go)!r}): time.sleep(0.01)\n"
        "print('shutting down', flush=True)\n"
    )
    proc = relay(log, child(code))
    wait_for(log, "up\n")
    proc.send_signal(signal.SIGTERM)
    proc.send_signal(signal.SIGINT)
    go.touch()
    assert proc.wait(timeout=30) == 0
    assert log.read_text() == "up\nshutting down\n"


def test_a_bad_command_line_is_usage_and_exit_2(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for args in ([str(tmp_path / "l.log")], [str(tmp_path / "l.log"), "x", "echo"]):
        done = subprocess.run([sys.executable, "-m", "swiftpipe.serving.serverlog", *args], env=env,
                              capture_output=True, text=True, timeout=30)
        assert (done.returncode, done.stderr) == (
            2, "usage: python -m swiftpipe.serving.serverlog LOG -- COMMAND...\n")
    assert not (tmp_path / "l.log").exists()


def test_follower_reads_only_lines_after_its_offset(tmp_path: Path) -> None:
    log = tmp_path / "deploy.log"
    log.write_bytes(b"$ swift deploy\nold run line\n")
    follower = LogFollower(log, offset=len(b"$ swift deploy\n"))
    assert follower.new_lines() == ["old run line"]
    assert follower.new_lines() == []
    with log.open("ab") as fh:
        fh.write(b"INFO: Started server process [42]\n")
    assert follower.new_lines() == ["INFO: Started server process [42]"]


def test_follower_holds_a_partial_line_until_it_ends(tmp_path: Path) -> None:
    log = tmp_path / "deploy.log"
    log.write_bytes(b"Uvicorn running on http://127.0.0.1")
    follower = LogFollower(log, 0)
    assert follower.new_lines() == []
    with log.open("ab") as fh:
        fh.write(b":8000 (Press CTRL+C to quit)\n\n  \nnext")
    assert follower.new_lines() == ["Uvicorn running on http://127.0.0.1:8000 (Press CTRL+C to quit)"]


def test_follower_splits_progress_bars_on_carriage_returns(tmp_path: Path) -> None:
    log = tmp_path / "deploy.log"
    log.write_bytes(b"Loading 10%\rLoading 50%\rLoading 100%\r\n\xff bad byte\n")
    assert LogFollower(log, 0).new_lines() == ["Loading 10%", "Loading 50%", "Loading 100%", "\ufffd bad byte"]


def test_follower_of_a_missing_log_sees_nothing(tmp_path: Path) -> None:
    follower = LogFollower(tmp_path / "not-yet.log", 0)
    assert follower.new_lines() == [] and follower.tail() == ""


def test_tail_keeps_the_last_lines_and_reads_new_ones_first(tmp_path: Path) -> None:
    log = tmp_path / "deploy.log"
    log.write_text("".join(f"line {i}\n" for i in range(30)))
    follower = LogFollower(log, 0, keep=3)
    assert follower.new_lines()[-1] == "line 29"
    with log.open("a") as fh:
        fh.write("ValueError: boom\n")
    assert follower.tail() == "line 28\nline 29\nValueError: boom"
    assert list(follower.last) == ["line 28", "line 29", "ValueError: boom"]
