"""Following the stage logs a cluster's jobs write on shared storage, as they grow (SLURM, Ray)."""

from __future__ import annotations

from pathlib import Path

from swiftpipe.core import console


def follow(log: Path, offsets: dict[Path, int]) -> None:
    """Show what `log` gained since the offset kept for it (a log not written yet shows nothing)."""
    try:
        with log.open("rb") as fh:
            fh.seek(offsets.get(log, 0))
            chunk = fh.read()
    except OSError:
        return
    if chunk:
        offsets[log] = offsets.get(log, 0) + len(chunk)
        console.info(chunk.decode("utf-8", "replace").rstrip("\n"))
