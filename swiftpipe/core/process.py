"""The one subprocess helper: spawn in its own process group, tee output, stop cleanly.

`swift <cmd>` runs the real work in a *child* of the `swift` process, so signalling
only the PID we started leaves that child running (and holding a port or a GPU).
Every child therefore gets its own session, and every stop is sent to the whole
process group, in stages: SIGINT, then SIGTERM, then SIGKILL.

A child that `run` starts also dies with swiftpipe, however swiftpipe dies (kill -9
included, which no handler sees): it is started under a small supervisor
(swiftpipe/core/watchdog.py, the group's leader) that watches swiftpipe through a pipe
only swiftpipe holds, a parent-death signal and its parent PID, and then kills the
whole process tree under it, torchrun workers in their own sessions included. It
does not wait for the child to write, so a silent child is stopped too. Servers are
spawned without it: `--keep-serving` leaves them running on purpose.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, BinaryIO

from swiftpipe.core import watchdog
from swiftpipe.core.argv import mask_argv, redact, secret_values
from swiftpipe.core.errors import UserError

LineCallback = Callable[[str], None]

# How long each shutdown step waits for the group to exit before escalating.
INT_GRACE_S = 5.0
TERM_GRACE_S = 10.0


def child_env(overlay: Mapping[str, str | None]) -> dict[str, str]:
    """The parent's environment with `overlay` applied; a None value unsets a variable."""
    env = dict(os.environ)
    for key, value in overlay.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def resolve_program(name: str, env: Mapping[str, str], where: str) -> str:
    """Find `name` on the child's PATH, or fail with a user-facing error."""
    if os.sep in name:
        if os.access(name, os.X_OK):
            return name
        raise UserError(f"{where}: program {name} does not exist or is not executable")
    found = shutil.which(name, path=env.get("PATH", os.defpath))
    if found is None:
        raise UserError(
            f"{where}: program '{name}' not found on PATH; "
            "run 'make install' or set the stage's 'venv' to an environment that has it"
        )
    return found


def spawn(
    argv: list[str],
    env: Mapping[str, str],
    cwd: Path | None = None,
    *,
    new_session: bool = True,
    stdout: int | IO[bytes] = subprocess.PIPE,
    supervised: bool = False,
) -> subprocess.Popen[bytes]:
    """Start `argv` in a new session (its own process group) with no stdin.

    `new_session=False` keeps the child in the caller's group (the server log relay
    uses it so that stopping the relay's group reaches the server too); `stdout` may
    be an open file instead of a pipe. `supervised=True` starts it under the watchdog
    (see the module docstring): the Popen is then the watchdog's, which leads the
    group and exits with the child's status.
    """
    pass_fds: tuple[int, ...] = ()
    if supervised:
        argv, fd = watchdog.supervised_argv(argv)
        pass_fds = (fd,)
    return subprocess.Popen(
        argv,
        env=dict(env),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.STDOUT,
        start_new_session=new_session,
        pass_fds=pass_fds,
    )


class Tee:
    """Copy a child's output to a log file (and optionally our stdout), line by line.

    Output is forwarded in chunks so progress bars that redraw with '\\r' stay live;
    `on_line` sees complete lines, split on '\\n' and '\\r'. With `redact`, every
    occurrence of those strings is written as '***' (and `on_line` sees it so); the last
    few bytes of an unfinished line (fewer than the longest secret) are held back until
    the next chunk, so a secret split across two chunks is still caught.
    """

    def __init__(
        self,
        log: BinaryIO,
        *,
        echo: bool,
        on_line: LineCallback | None,
        redact: Sequence[str] = (),
    ) -> None:
        self._log = log
        self._echo = echo
        self._on_line = on_line
        self._partial = b""
        self._secrets = sorted({s.encode() for s in redact if s}, key=len, reverse=True)
        self._whole_lines = not any(b"\n" in s or b"\r" in s for s in self._secrets)
        self._held = b""

    def _redacted(self, chunk: bytes, final: bool) -> bytes:
        if not self._secrets:
            return chunk
        data = self._held + chunk
        cut = len(data) if final else self._safe_cut(data)
        data, self._held = data[:cut], data[cut:]
        for secret in self._secrets:
            data = data.replace(secret, b"***")
        return data

    def _safe_cut(self, data: bytes) -> int:
        """Where to stop writing: no secret may span the cut, and what follows it is too
        short to hold a whole secret (it may be the start of one). A complete line is
        always written (servers are watched for their ready line); no secret spans one."""
        cut = max(0, len(data) - len(self._secrets[0]) + 1)
        if self._whole_lines:
            cut = max(cut, data.rfind(b"\n") + 1, data.rfind(b"\r") + 1)
        moved = True
        while moved:
            moved = False
            for secret in self._secrets:
                start = data.find(secret, max(0, cut - len(secret) + 1))
                if -1 < start < cut < start + len(secret):
                    cut, moved = start, True
        return cut

    def feed(self, chunk: bytes, *, final: bool = False) -> None:
        chunk = self._redacted(chunk, final)
        if not chunk:
            return
        self._log.write(chunk)
        self._log.flush()
        if self._echo:
            sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
        if self._on_line is not None:
            self._split(chunk)

    def _split(self, chunk: bytes) -> None:
        data = (self._partial + chunk).replace(b"\r", b"\n")
        *lines, self._partial = data.split(b"\n")
        for line in lines:
            if line and self._on_line is not None:
                self._on_line(line.decode("utf-8", "replace"))

    def close(self) -> None:
        if self._held:
            self.feed(b"", final=True)
        if self._partial and self._on_line is not None:
            self._on_line(self._partial.decode("utf-8", "replace"))
        self._partial = b""

    def pump(self, stream: IO[bytes]) -> None:
        """Forward everything from `stream` until EOF."""
        fd = stream.fileno()
        while chunk := os.read(fd, 65536):
            self.feed(chunk)
        self.close()


def group_alive(pgid: int) -> bool:
    """True while any process of the group is alive; zombies do not count.

    A zombie holds no port, memory or GPU. It matters because a server left
    running by an earlier swiftpipe is an orphan, and where PID 1 does not reap
    orphans (some containers) its killed processes stay zombies for good.
    """
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if not os.path.isdir("/proc"):
        return True
    return bool(group_members(pgid))


def leads_group(pid: int, pgid: int) -> bool:
    """True when process `pid` lives and leads group `pgid`: its own pid is the group's id.

    A group is signalled only through a process proven to lead it; a recorded pgid alone
    could name any group (the user's shell, swiftpipe's own).
    """
    if pid != pgid or pid <= 0:
        return False
    try:
        return os.getpgid(pid) == pgid
    except ProcessLookupError:
        return False


def group_members(pgid: int) -> list[int]:
    """PIDs of the living (not zombie) processes of group `pgid`, read from /proc."""
    members = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # Fields after the parenthesised command name: state, ppid, pgrp, ...
        state, _ppid, pgrp = stat[stat.rfind(")") + 2 :].split()[:3]
        if int(pgrp) == pgid and state not in ("Z", "X"):
            members.append(int(entry.name))
    return members


def _wait_group(pgid: int, timeout: float, proc: subprocess.Popen[bytes] | None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None:
            proc.poll()  # reap our direct child so it does not linger as a zombie
        if not group_alive(pgid):
            return True
        time.sleep(0.05)
    return not group_alive(pgid)


def stop_group(
    pgid: int,
    proc: subprocess.Popen[bytes] | None = None,
    *,
    int_grace: float = INT_GRACE_S,
    term_grace: float = TERM_GRACE_S,
    interrupt: bool = True,
) -> str:
    """Stop every process in group `pgid`; return the signal that finished it.

    SIGINT first (as Ctrl-C would), unless `interrupt` is False, then SIGTERM, then SIGKILL.
    """
    steps = ((signal.SIGINT, int_grace), (signal.SIGTERM, term_grace))
    for sig, grace in steps if interrupt else steps[1:]:
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return "exited"
        if _wait_group(pgid, grace, proc):
            return sig.name
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        return "exited"
    _wait_group(pgid, 5.0, proc)
    return "SIGKILL"


def run(
    argv: list[str],
    *,
    env: Mapping[str, str],
    log_path: Path,
    echo: bool = True,
    on_line: LineCallback | None = None,
    cwd: Path | None = None,
) -> int:
    """Run `argv` to completion in its own process group, teeing output to `log_path`.

    On Ctrl-C or SIGTERM (see `install_signal_handlers`) the whole group is stopped
    before the exception propagates, so no child outlives swiftpipe; should swiftpipe
    die without a chance to do that, the watchdog does it (see the module docstring).
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        secrets = secret_values(argv, env)
        log.write(f"$ {redact(' '.join(mask_argv(argv)), secrets)}\n".encode())
        proc = spawn(argv, env, cwd, supervised=True)
        assert proc.stdout is not None
        tee = Tee(log, echo=echo, on_line=on_line, redact=secrets)
        try:
            tee.pump(proc.stdout)
            return proc.wait()
        except BaseException:
            stop_group(proc.pid, proc)
            raise
        finally:
            proc.stdout.close()


def install_signal_handlers() -> None:
    """Turn SIGINT/SIGTERM/SIGHUP into an exception so cleanup runs the same way for all.

    SIGINT is installed explicitly: a process started in the background by a
    non-interactive shell inherits SIGINT as ignored, and Python then never raises
    KeyboardInterrupt, so a Ctrl-C sent to the group would be lost.
    """

    def handler(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)
