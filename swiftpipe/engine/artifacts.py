"""Describe produced files for the manifest, and check that they are still there."""

from __future__ import annotations

import hashlib
from pathlib import Path

from swiftpipe.engine.manifest import Artifact

HASH_LIMIT = 64 * 1024 * 1024  # files larger than this are recorded by size only


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def describe(path: Path) -> Artifact:
    """Size, and sha256 for files up to HASH_LIMIT; directories by total size and count."""
    if path.is_dir():
        files = [p for p in path.rglob("*") if p.is_file()]
        return Artifact(str(path), "dir", sum(p.stat().st_size for p in files), files=len(files))
    size = path.stat().st_size
    digest = sha256_file(path) if size <= HASH_LIMIT else None
    return Artifact(str(path), "file", size, digest)


def stale_reason(artifacts: list[Artifact]) -> str | None:
    """Why a stage's recorded outputs can no longer be reused, or None when they can."""
    gone = missing(artifacts)
    return f"{gone} is missing or changed" if gone else None


def missing(artifacts: list[Artifact]) -> str | None:
    """The first artifact that is gone or changed size, or None when all are intact."""
    for art in artifacts:
        path = Path(art.path)
        if art.kind == "dir":
            if not path.is_dir():
                return art.path
            files = [p for p in path.rglob("*") if p.is_file()]
            if len(files) != art.files or sum(p.stat().st_size for p in files) != art.size:
                return art.path
            continue
        if not path.is_file() or path.stat().st_size != art.size:
            return art.path
    return None
