from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from swiftpipe.core import process

# A parent that ignores SIGINT/SIGTERM and starts a grandchild that does the same,
# like `swift deploy` whose real server is a child of the `swift` process.
STUBBORN = textwrap.dedent("""
    import os, signal, subprocess, sys, time
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    child = subprocess.Popen([sys.executable, "-c",
        "import signal,time,pathlib,os;"
        "signal.signal(signal.SIGINT, signal.SIG_IGN);signal.signal(signal.SIGTERM, signal.SIG_IGN);"
        f"pathlib.Path({sys.argv[1]!r}).write_text(str(os.getpid()));time.sleep(600)"])
    time.sleep(600)
""")


def wait_for(path: Path, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return path.read_text()
        time.sleep(0.02)
    raise AssertionError(f"{path} never appeared")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(f"/proc/{pid}/stat").exists() else "X"
    return state != "Z"


def test_stop_group_escalates_to_sigkill_and_leaves_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "grandchild.pid"
    proc = process.spawn([sys.executable, "-c", STUBBORN, str(marker)], dict(os.environ))
    grandchild = int(wait_for(marker))
    how = process.stop_group(proc.pid, proc, int_grace=0.3, term_grace=0.3)
    assert how == "SIGKILL"
    assert not process.group_alive(proc.pid)
    assert proc.poll() is not None
    assert not alive(grandchild)


def test_stop_group_stops_at_sigint_for_a_polite_child() -> None:
    proc = process.spawn([sys.executable, "-c", "import time; time.sleep(600)"], dict(os.environ))
    time.sleep(0.2)  # let the interpreter install its default SIGINT handler
    assert process.stop_group(proc.pid, proc, int_grace=10) == "SIGINT"


def test_run_tees_output_and_splits_carriage_returns(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    lines: list[str] = []
    code = "import sys; sys.stdout.write('10%\\r50%\\r100%\\ndone\\n'); sys.exit(3)"
    rc = process.run([sys.executable, "-c", code], env=dict(os.environ), log_path=tmp_path / "x.log",
                     on_line=lines.append)
    assert rc == 3
    assert lines == ["10%", "50%", "100%", "done"]
    assert (tmp_path / "x.log").read_bytes().endswith(b"10%\r50%\r100%\ndone\n")
    assert "done" in capfd.readouterr().out


def test_child_env_overlay_unsets_with_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEEP", "1")
    monkeypatch.setenv("DROP", "1")
    env = process.child_env({"DROP": None, "NEW": "2"})
    assert env["KEEP"] == "1" and env["NEW"] == "2" and "DROP" not in env


def test_interrupt_stops_the_whole_group(tmp_path: Path) -> None:
    """SIGTERM to a swiftpipe-like parent: its child group is gone before it exits."""
    marker = tmp_path / "grandchild.pid"
    script = textwrap.dedent(f"""
        import os, sys
        from pathlib import Path
        from swiftpipe.core import process
        process.install_signal_handlers()
        process.INT_GRACE_S = process.TERM_GRACE_S = 0.3
        try:
            process.run([sys.executable, "-c", {STUBBORN!r}, {str(marker)!r}],
                        env=dict(os.environ), log_path=Path({str(tmp_path / 'run.log')!r}), echo=False)
        except KeyboardInterrupt:
            sys.exit(130)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script])
    grandchild = int(wait_for(marker))
    parent.send_signal(signal.SIGTERM)
    assert parent.wait(timeout=30) == 130
    assert not alive(grandchild)


# A silent child (SIGTERM ends it, as it ends the `swift` wrapper) that starts two grandchildren
# that ignore SIGTERM: one in its process group, one in a session of its own (as torchrun starts
# its workers). Once the child is gone they are orphans: only a subreaper still sees them.
SILENT_TREE = textwrap.dedent("""
    import os, signal, subprocess, sys, time
    from pathlib import Path
    code = ("import signal,sys,time,pathlib; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
            "pathlib.Path(sys.argv[1]).touch(); time.sleep(600)")
    ready = [Path(sys.argv[1] + ".same"), Path(sys.argv[1] + ".own")]
    same = subprocess.Popen([sys.executable, "-c", code, str(ready[0])])
    own = subprocess.Popen([sys.executable, "-c", code, str(ready[1])], start_new_session=True)
    while not all(p.exists() for p in ready):  # both ignore SIGTERM from now on
        time.sleep(0.01)
    Path(sys.argv[1]).write_text(f"{os.getpid()} {same.pid} {own.pid}")
    time.sleep(600)
""")


def gone_within(pids: list[int], seconds: float) -> list[int]:
    """The PIDs still alive after up to `seconds` (polled, returns as soon as all are gone)."""
    deadline = time.monotonic() + seconds
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [p for p in pids if alive(p)]


def test_kill_9_of_swiftpipe_leaves_no_child_or_grandchild(tmp_path: Path) -> None:
    marker = tmp_path / "tree.pids"
    script = textwrap.dedent(f"""
        import os, sys
        from pathlib import Path
        from swiftpipe.core import process
        process.run([sys.executable, "-c", {SILENT_TREE!r}, {str(marker)!r}],
                    env=dict(os.environ), log_path=Path({str(tmp_path / 'run.log')!r}), echo=False)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        pids = [int(p) for p in wait_for(marker).split()]
    finally:
        parent.kill()
        parent.wait()
    left = gone_within(pids, 3.0)
    for pid in left:  # do not leave them behind for the next tests
        os.kill(pid, signal.SIGKILL)
    assert left == []


def test_run_reports_the_signal_that_killed_the_child(tmp_path: Path) -> None:
    code = "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"
    rc = process.run([sys.executable, "-c", code], env=dict(os.environ), log_path=tmp_path / "x.log", echo=False)
    assert rc == -signal.SIGTERM


def test_a_supervised_child_runs_in_the_watchdogs_group(tmp_path: Path) -> None:
    proc = process.spawn([sys.executable, "-c", "import os; print(os.getpgrp())"], dict(os.environ),
                         supervised=True)
    out, _ = proc.communicate(timeout=60)
    assert int(out) == proc.pid and proc.returncode == 0


def tee_through(chunks: list[bytes], secrets: list[str]) -> tuple[bytes, list[str]]:
    import io

    log, lines = io.BytesIO(), list[str]()
    tee = process.Tee(log, echo=False, on_line=lines.append, redact=secrets)
    for chunk in chunks:
        tee.feed(chunk)
    tee.close()
    return log.getvalue(), lines


def test_tee_masks_secrets_split_at_every_chunk_boundary() -> None:
    text = b"run sh: swift --hub_token tok-ABCDEFG1 --x tok-ABCDEFG1\rpart sw-k\ndone sw-k"
    want = b"run sh: swift --hub_token *** --x ***\rpart ***\ndone ***"
    for i in range(len(text) + 1):
        for j in range(i, len(text) + 1, 7):
            log, lines = tee_through([text[:i], text[i:j], text[j:]], ["tok-ABCDEFG1", "sw-k"])
            assert log == want, (i, j)
            assert lines == ["run sh: swift --hub_token *** --x ***", "part ***", "done ***"]


def test_tee_with_secrets_writes_whole_lines_and_most_of_an_unfinished_one() -> None:
    import io

    log = io.BytesIO()
    tee = process.Tee(log, echo=False, on_line=None, redact=["secret-value"])
    tee.feed(b"Uvicorn running\n")  # a whole line is written at once (a server's ready line)
    assert log.getvalue() == b"Uvicorn running\n"
    tee.feed(b"Train:  50%|#####     | 1/2 ")  # a progress bar redrawn without a line end
    assert log.getvalue().startswith(b"Uvicorn running\nTrain:  50%|")
    tee.close()
    assert log.getvalue() == b"Uvicorn running\nTrain:  50%|#####     | 1/2 "


def test_run_masks_secret_values_in_the_log_the_terminal_and_on_line(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    code = "import os, sys; print(' '.join(sys.argv[1:])); print('key', os.environ['MY_API_KEY'], flush=True)"
    argv = [sys.executable, "-c", code, "--hub_token", "hub-SECRET-1", "--swanlab_secret=web-SECRET-2",
            "--model_kwargs", '{"api_key": "json-SECRET-3"}']
    lines: list[str] = []
    rc = process.run(argv, env={**os.environ, "MY_API_KEY": "env-SECRET-4"}, log_path=tmp_path / "x.log",
                     on_line=lines.append)
    assert rc == 0
    log = (tmp_path / "x.log").read_text()
    out = capfd.readouterr().out
    for secret in ("hub-SECRET-1", "web-SECRET-2", "json-SECRET-3", "env-SECRET-4"):
        assert secret not in log and secret not in out and secret not in "".join(lines)
    assert log.splitlines()[0].endswith('--hub_token *** --swanlab_secret=*** --model_kwargs {"api_key":"***"}')
    assert lines == ['--hub_token *** --swanlab_secret=*** --model_kwargs {"api_key": "***"}', "key ***"]
