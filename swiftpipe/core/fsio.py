"""Writing files without touching anything that is not ours.

Every file swiftpipe replaces is first written to a temporary file that is *created*, never
opened: `tempfile.mkstemp` uses O_CREAT|O_EXCL (and O_NOFOLLOW), under a random name in the
target's own folder. A name planted in advance (a file, or a symlink to something of the
user's) can therefore never be written through; the finished file is renamed over the target,
so a reader sees the old content or the new, never a mix.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
import time
from pathlib import Path

from swiftpipe.core import console


@functools.cache
def _umask() -> int:
    # Read once: os.umask can only be read by setting it, and threads may create files meanwhile.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def exclusive_temp(path: Path) -> tuple[int, Path]:
    """A new, empty file beside `path` (open for writing, its descriptor and name).

    The file gets the usual mode (0666 less the umask) rather than mkstemp's 0600, so what
    it becomes reads as any file the user creates.
    """
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.fchmod(fd, 0o666 & ~_umask())
    return fd, Path(name)


def _written_temp(path: Path, data: bytes) -> Path:
    """`data` in a fresh temporary file beside `path`, fsynced; the caller renames or removes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = exclusive_temp(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace `path` with `data` atomically (a symlink at `path` is replaced, not followed)."""
    tmp = _written_temp(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Replace `path` with `text` (UTF-8) atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def write_new_text(path: Path, text: str) -> None:
    """Create `path` holding `text`, complete or not at all; `FileExistsError` if the name is taken.

    A hard link puts the finished file in place only where nothing, not even a dangling
    symlink, has that name: unlike a rename, it never replaces what is there.
    """
    tmp = _written_temp(path, text.encode("utf-8"))
    try:
        os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def move_aside(path: Path, *, keep_suffix: bool = False) -> Path | None:
    """Rename `path` to `<name>.stale-<time>` beside it (`<stem>.stale-<time><suffix>` with
    `keep_suffix`, so `results.jsonl` stays a .jsonl); None when there is nothing to move.

    Two moves within one second get distinct names: the second adds the process id and a clock tick.
    """
    if not path.exists() and not path.is_symlink():
        return None
    name, suffix = (path.stem, path.suffix) if keep_suffix else (path.name, "")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{name}.stale-{stamp}{suffix}")
    if aside.exists() or aside.is_symlink():  # two moves within one second
        aside = path.with_name(f"{name}.stale-{stamp}-{os.getpid()}-{time.monotonic_ns()}{suffix}")
    os.rename(path, aside)
    return aside


def _end_of(path: Path, size: int) -> list[str]:
    """The non-blank lines of a log's last `size` bytes, progress bars split; [] if unreadable."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, 2)
            fh.seek(max(0, fh.tell() - size))
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return []
    return [r for r in text.replace("\r", "\n").splitlines() if r.strip()]


def tail(path: Path, lines: int = 20) -> str:
    """The last non-blank lines of a log (from its last 16 KiB), for failure messages; '' if unreadable."""
    return "\n".join(_end_of(path, 16384)[-lines:])


# A Python error line, also as torchrun prefixes a rank's output: "[rank1]: FileNotFoundError: ...".
_ERROR_LINE = re.compile(r"^(?:\[rank\d+\]:\s*)?(?:[A-Za-z_][\w.]*\.)?"
                         r"(?P<name>[A-Za-z_]\w*(?:Error|Exception|Exceeded|Timeout))\b:?.*$")
# What a launcher raises about its children names no cause: the child's own error does.
_WRAPPERS = {"ChildFailedError", "CalledProcessError"}


def error_line(lines: list[str]) -> str | None:
    """The last `XxxError: message` line of a tool's output (colour codes dropped), a launcher's own
    skipped; None if there is none."""
    for line in reversed(lines):
        text = console.uncoloured(line).strip()
        found = _ERROR_LINE.match(text)
        if found and found["name"] not in _WRAPPERS and not text.startswith(("Traceback", "During handling")):
            return text
    return None


def last_error(path: Path) -> str:
    """The last error line of a log's last 64 KiB; '' if none.

    torchrun ends a failed run with its summary of the ranks, after the failing rank's traceback,
    so a log's tail can miss the cause; this line names it."""
    return error_line(_end_of(path, 65536)) or ""
