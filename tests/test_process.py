from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from swiftpipe import process

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
        from swiftpipe import process
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
