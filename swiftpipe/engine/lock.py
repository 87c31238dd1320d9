"""One `swiftpipe run` per workdir.

The lock is an flock on `<workdir>/.swiftpipe.engine.lock`: the kernel releases it when
its holder dies, so a lock left by a crashed run is simply taken over. The PID
written inside is only for the message shown to a second run.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from swiftpipe import console
from swiftpipe.errors import UserError

LOCK_NAME = ".swiftpipe.engine.lock"


def _holder(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


@contextmanager
def workdir_lock(workdir: Path) -> Iterator[None]:
    """Hold the workdir's lock for the duration of the block, or refuse at once."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
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
        record = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)  # a clean exit leaves no PID behind; a killed run does
    finally:
        os.close(fd)  # closing releases the flock
