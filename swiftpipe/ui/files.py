"""The workdir's files, and nothing outside it: paths are resolved (symlinks too) before use."""

from __future__ import annotations

from pathlib import Path

from swiftpipe.core import console


class OutsideWorkdir(ValueError):
    """A requested path that resolves outside the workdir."""


def inside(workdir: Path, relative: str) -> Path:
    """`relative` under `workdir`, resolved; `OutsideWorkdir` when it leaves the workdir."""
    root = workdir.resolve()
    if "\x00" in relative or Path(relative).is_absolute():
        raise OutsideWorkdir(relative)
    path = (root / relative).resolve()
    if path != root and not path.is_relative_to(root):
        raise OutsideWorkdir(relative)
    return path


def relative_href(workdir: Path, path: str | Path) -> str | None:
    """The `/files/...` address of `path` when it lies in the workdir, else None."""
    try:
        rel = Path(path).resolve().relative_to(workdir.resolve())
    except ValueError:
        return None
    return "/files/" + rel.as_posix()


def tail_text(path: Path, max_bytes: int = 32768) -> str:
    """The last `max_bytes` of a log, from a line start, '\\r' progress bars folded and colour codes
    dropped; '' if unreadable."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - max_bytes))
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
    if size > max_bytes:
        text = text.partition("\n")[2]
    lines = [line.rsplit("\r", 1)[-1] if "\r" in line.rstrip("\r") else line for line in text.split("\n")]
    return console.uncoloured("\n".join(lines))  # a page shows them as stray characters
