"""Streamed output files that appear only when complete: written to a fresh temporary file
beside the target (`core.fsio.exclusive_temp`), fsynced, renamed.

A conversion that fails or is interrupted leaves no file that looks finished: its temporary
file is removed, and an earlier complete file of the same name is left as it was. Small files
written whole (the report, the result file) use `core.fsio.atomic_write_bytes` instead.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import IO

from swiftpipe.core.fsio import exclusive_temp


class AtomicFile:
    """A binary file written under `<path>.tmp`; `commit()` moves it into place."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, self._tmp = exclusive_temp(path)  # created, never opened: a planted name is not written through
        # Held open across many writes; closed by commit() or discard().
        self._file: IO[bytes] = open(fd, "wb", buffering=1 << 20)  # noqa: SIM115
        self.write = self._file.write

    def copy_from(self, fd: int, offset: int, count: int) -> None:
        """Append `count` bytes of the open file `fd` from `offset`, copied by the kernel."""
        self._file.flush()  # what was written before goes first
        out = self._file.fileno()
        while count > 0:
            try:
                done = os.copy_file_range(fd, out, count, offset)
            except (AttributeError, OSError):  # not Linux, or not between these file systems
                done = os.write(out, os.pread(fd, min(count, 1 << 20), offset))
            if done == 0:
                raise OSError(f"{self._tmp}: copying stopped short with {count} bytes left")
            offset += done
            count -= done

    def commit(self) -> None:
        """Flush, fsync and rename over `path`."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self._tmp, self.path)

    def discard(self) -> None:
        """Close and remove the temporary file; `path` is untouched."""
        self._file.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._file.closed:
            self.discard()

