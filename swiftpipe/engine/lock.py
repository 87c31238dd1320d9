"""One `swiftpipe run` per workdir.

The lock is an flock on `<workdir>/.swiftpipe.engine.lock`: the kernel releases it when
its holder dies, so a lock left by a crashed run is simply taken over. Inside, the
holder writes its PID, host, start time and process start time (field 22 of
/proc/<pid>/stat, in clock ticks since boot): a second run names the PID, and a reader
that takes no lock (`plan`) can tell whether the holder still lives without mistaking
a process that reused the PID for it. A clean exit empties the file; a killed run
leaves its owner record, which the next run reads back (`workdir_lock` yields it).

Before taking the lock, a workdir is claimed: swiftpipe writes only in a folder that is new,
empty, or one it made (its marker `.swiftpipe-workdir`, or from earlier versions a manifest or
this lock file), and never in the filesystem root or the home folder, so a mistyped workdir
cannot overwrite a user's files.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from swiftpipe.core import console
from swiftpipe.core.errors import UserError
from swiftpipe.core.fsio import write_new_text

LOCK_NAME = ".swiftpipe.engine.lock"
MARKER = ".swiftpipe-workdir"
# Any of these in a folder shows that swiftpipe made it (a manifest or lock: an earlier version).
OURS = (MARKER, "manifest.json", LOCK_NAME)


@dataclass(frozen=True)
class Owner:
    """The run that holds (or last held) a workdir's lock."""

    pid: int
    host: str
    start_ticks: int | None  # /proc/<pid>/stat field 22 when it took the lock

    def alive(self) -> bool:
        """Whether that very process still runs (a reused PID has another start time).

        On another host nothing can be checked: it counts as alive.
        """
        if self.host != socket.gethostname():
            return True
        ticks = start_ticks(self.pid)
        return ticks is not None and (self.start_ticks is None or ticks == self.start_ticks)


def start_ticks(pid: int) -> int | None:
    """When process `pid` started (clock ticks after boot), or None when it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after the parenthesised command name start at field 3 (state).
    fields = stat[stat.rfind(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[22 - 3])


def read_owner(workdir: Path) -> Owner | None:
    """The owner recorded in the workdir's lock file, None when empty (a clean exit) or unreadable."""
    return _owner(_holder(workdir / LOCK_NAME))


def _owner(data: dict[str, object]) -> Owner | None:
    pid, ticks = data.get("pid"), data.get("start_ticks")
    if not isinstance(pid, int):
        return None
    return Owner(pid, str(data.get("host", "")), ticks if isinstance(ticks, int) else None)


def _holder(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def claim(workdir: Path, where: str) -> None:
    """Make sure swiftpipe may write in `workdir`, and mark it as ours; `where` names it for messages."""
    check_workdir(workdir, where)
    workdir.mkdir(parents=True, exist_ok=True)
    if not (workdir / MARKER).is_file():
        made = {"by": "swiftpipe", "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        with contextlib.suppress(FileExistsError):  # another run marked it meanwhile
            write_new_text(workdir / MARKER, json.dumps(made) + "\n")


def check_workdir(workdir: Path, where: str) -> None:
    """Refuse a workdir swiftpipe may not write in (without writing anything: `plan` asks too)."""
    resolved = workdir.resolve()
    if resolved == Path(resolved.anchor) or resolved == _home():
        what = "the filesystem root" if resolved == Path(resolved.anchor) else "your home folder"
        raise UserError(f"{where}: {workdir} is {what}; choose a folder of its own, e.g. runs/<name>")
    if workdir.exists() and not workdir.is_dir():
        raise UserError(f"{where}: {workdir} is not a directory; choose another workdir")
    if workdir.is_dir() and not any((workdir / name).is_file() for name in OURS) and any(workdir.iterdir()):
        raise UserError(f"{where}: {workdir} already holds files swiftpipe did not write; "
                        "choose a new or empty folder as workdir")


def _home() -> Path | None:
    try:
        return Path.home().resolve()
    except (RuntimeError, KeyError):  # no HOME and no passwd entry: there is no home folder to protect
        return None


@contextmanager
def workdir_lock(workdir: Path, where: str = "workdir") -> Iterator[Owner | None]:
    """Claim the workdir (`claim`), then hold its lock for the duration of the block, or refuse at once.

    Yields the owner a killed run left in the lock file (it is gone: we hold the lock), or None.
    """
    claim(workdir, where)
    path = workdir / LOCK_NAME
    try:
        # O_NOFOLLOW: a symlink planted at the lock's name would have us truncate its target.
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        raise UserError(f"{where}: {path}: cannot be opened as swiftpipe's lock file ({exc.strerror}); "
                        "remove it") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _holder(path).get("pid", "unknown")
            raise UserError(
                f"{workdir}: another swiftpipe run (PID {pid}) is using this workdir; "
                "wait for it to finish or stop it"
            ) from None
        previous = _holder(path)
        if previous.get("pid") not in (None, os.getpid()):
            console.notice(f"taking over the lock left by PID {previous['pid']}, which is no longer running")
        record = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time(),
                  "start_ticks": start_ticks(os.getpid())}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        try:
            owner = _owner(previous)
            yield owner if owner is not None and owner.pid != os.getpid() else None
        finally:
            os.ftruncate(fd, 0)  # a clean exit leaves no PID behind; a killed run does
    finally:
        os.close(fd)  # closing releases the flock
