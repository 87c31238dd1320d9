"""The supervisor between swiftpipe and a child it runs: the child never outlives swiftpipe.

Run as `python -I watchdog.py FD OWNER -- COMMAND...` by `process.spawn(supervised=True)`.
It leads the child's process group (it is what swiftpipe started), starts COMMAND in that
group and exits with COMMAND's status (a signal death is repeated on itself). Its only
other job is to notice that swiftpipe (PID OWNER) is gone and then kill everything below
it. Three independent signs, whichever comes first:

* FD is the read end of a pipe whose write end only swiftpipe holds: the kernel closes it
  when swiftpipe dies, however it dies (kill -9 included), so the read sees end-of-file;
* a parent-death signal (PR_SET_PDEATHSIG, SIGUSR1) on this process;
* once a second, `getppid()` no longer being OWNER (a forked copy of swiftpipe may hold
  the pipe's write end).

None of them depends on the child writing anything, so a silent child is caught too.
"Everything below it" is the process tree, not just the group: torchrun starts each
worker in a session of its own (`start_new_session=True`), so a group kill misses them.
The watchdog is a child subreaper (PR_SET_CHILD_SUBREAPER), so a worker whose torchrun
died is re-parented to the watchdog rather than to init and stays in its tree. On owner
death the tree and the group get SIGTERM, then SIGKILL after KILL_GRACE_S.

SIGINT and SIGTERM sent to the group (swiftpipe's staged stop) are ignored here: the
watchdog waits for the child to exit and then exits too. This file imports nothing from
swiftpipe: it runs with `-I`, whatever PYTHONPATH the stage's environment sets.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import signal
import subprocess
import sys
import time

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
KILL_GRACE_S = 1.0
CHECK_EVERY_S = 1.0


_LIFELINE: list[int] = []  # in swiftpipe: [read end, write end]; only it holds the write end


def supervised_argv(argv: list[str]) -> tuple[list[str], int]:
    """`argv` run under the watchdog, and the fd the watchdog must inherit (pass_fds)."""
    if not _LIFELINE:
        _LIFELINE.extend(os.pipe())  # both ends close on exec: no other child inherits them
    fd = _LIFELINE[0]
    return [sys.executable, "-I", os.path.abspath(__file__), str(fd), str(os.getpid()), "--", *argv], fd


def _forget_lifeline() -> None:
    # A forked copy must not hold the parent's write end (the watchdogs would not see the
    # parent die while the copy lives); its own children get a pipe of their own.
    for fd in _LIFELINE:
        with contextlib.suppress(OSError):
            os.close(fd)
    _LIFELINE.clear()


os.register_at_fork(after_in_child=_forget_lifeline)


class OwnerGone(Exception):
    """swiftpipe, which started this watchdog, is no longer running."""


_gone: list[bool] = []  # set once OwnerGone was raised: the other signs must not raise it again


def _owner_gone() -> None:
    if not _gone:
        _gone.append(True)
        raise OwnerGone


def _prctl(option: int, value: int) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the pipe and the ppid check remain
        pass


def _die_with_watchdog() -> None:
    # preexec_fn of the child: should the watchdog itself be killed, the child goes too.
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _tree(root: int) -> list[int]:
    """Living (not zombie) descendants of `root`, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"{entry.path}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        state, ppid = stat[stat.rfind(")") + 2 :].split()[:2]
        if state not in ("Z", "X"):
            children.setdefault(int(ppid), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for pid in children.get(todo.pop(), []):
            found.append(pid)
            todo.append(pid)
    return found


def _signal_all(sig: int) -> None:
    for pid in _tree(os.getpid()):
        with contextlib.suppress(OSError):
            os.kill(pid, sig)


def _reap() -> None:
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def kill_tree() -> None:
    """SIGTERM every descendant, then SIGKILL what is left after KILL_GRACE_S."""
    _signal_all(signal.SIGTERM)
    deadline = time.monotonic() + KILL_GRACE_S
    while time.monotonic() < deadline:
        _reap()
        if not _tree(os.getpid()):
            return
        time.sleep(0.05)
    _signal_all(signal.SIGKILL)
    _reap()


def _wait(proc: subprocess.Popen[bytes], lifeline: int, owner: int) -> int:
    """The child's exit status; raises OwnerGone as soon as swiftpipe is gone."""
    try:
        pidfd: int | None = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        pidfd = None
    watched = [lifeline] + ([pidfd] if pidfd is not None else [])
    timeout = CHECK_EVERY_S if pidfd is not None else 0.1
    while True:
        code = proc.poll()
        if code is not None:
            return code
        if os.getppid() != owner:
            _owner_gone()
        ready, _, _ = select.select(watched, [], [], timeout)
        if lifeline in ready and not os.read(lifeline, 1):
            _owner_gone()


def main(args: list[str]) -> int:
    if len(args) < 4 or args[2] != "--":
        print("usage: watchdog.py FD OWNER_PID -- COMMAND...", file=sys.stderr)
        return 2
    lifeline, owner, command = int(args[0]), int(args[1]), args[3:]

    def owner_died(_signum: int, _frame: object) -> None:
        # The signal also comes when only the spawning thread ends; and once the pipe told
        # us, a late signal must not raise again in the middle of kill_tree.
        if os.getppid() != owner:
            _owner_gone()

    signal.signal(signal.SIGINT, lambda *_: None)  # a handler, not SIG_IGN: exec resets it
    signal.signal(signal.SIGTERM, lambda *_: None)
    signal.signal(signal.SIGUSR1, owner_died)
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    _prctl(PR_SET_PDEATHSIG, signal.SIGUSR1)
    try:
        if os.getppid() != owner:
            return 1
        try:
            proc = subprocess.Popen(command, preexec_fn=_die_with_watchdog)
        except OSError as exc:
            print(f"swiftpipe: cannot start {command[0]}: {exc}", file=sys.stderr, flush=True)
            return 127
        code = _wait(proc, lifeline, owner)
    except OwnerGone:
        kill_tree()
        return 1
    if code < 0:  # repeat the child's signal death so swiftpipe sees the same status
        with contextlib.suppress(OSError, ValueError):  # SIGKILL has no handler to reset
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
        return 128 - code  # a signal whose default is to be ignored
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
