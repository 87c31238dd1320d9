"""What removing experiments frees: the files only they reference, never one still in use.

An experiment references the absolute paths in its stages' outputs (a training run folder and
its checkpoints, a merged model, an evaluation's work folder, data files). Removing some
experiments deletes those paths that lie inside the workdir and that no kept experiment nor the
current manifest (outputs, artifacts, logs) references: a path equal to, inside, or holding a
path in use stays. Paths are compared by their folder resolved and their own name unresolved, so
a symlink is removed as a link and never followed out of the workdir.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swiftpipe.engine.experiments import Experiment, experiments_dir, where_now
from swiftpipe.engine.manifest import Manifest


@dataclass(frozen=True)
class Prune:
    """What removing `removed` does: `paths` deleted (with their sizes in bytes), `kept` (path -> why)."""

    removed: list[Experiment]
    paths: dict[Path, int]
    kept: dict[Path, str]

    @property
    def freed(self) -> int:
        return sum(self.paths.values())


def plan_prune(workdir: Path, removed: Sequence[Experiment], kept: Sequence[Experiment],
               manifest: Manifest | None) -> Prune:
    """The paths only `removed` reference, and those they share with what stays (and with whom)."""
    root = workdir.resolve()
    records = experiments_dir(root)
    removed, kept = [where_now(e, root) for e in removed], [where_now(e, root) for e in kept]
    in_use = {p: "the current state uses it" for p in _manifest_paths(manifest)}
    for e in kept:
        in_use.update({p: f"{e.id} uses it" for p in _paths(e.stages.values()) if p not in in_use})
    held = {p: why for path, why in in_use.items() for p in (_canonical(path), path.resolve())}
    paths: dict[Path, int] = {}
    shared: dict[Path, str] = {}
    for path in dict.fromkeys(_canonical(p) for p in _paths(s for e in removed for s in e.stages.values())):
        if root not in path.parents or _inside(records, path) or not (path.exists() or path.is_symlink()):
            continue
        why = next((w for h, w in held.items() if _inside(path, h) or _inside(h, path)), None)
        if why is not None:
            shared[path] = why
        else:
            paths[path] = 0
    return Prune(list(removed), {p: size(p) for p in _outermost(paths)}, {p: shared[p] for p in _outermost(shared)})


def apply_prune(workdir: Path, prune: Prune) -> None:
    """Delete the paths, then the experiments' records."""
    for path in prune.paths:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    for e in prune.removed:
        (experiments_dir(workdir) / f"{e.id}.json").unlink(missing_ok=True)


def size(path: Path) -> int:
    """Bytes under `path`, links counted as links (never followed)."""
    if path.is_symlink() or not path.is_dir():
        return path.lstat().st_size
    total = 0
    for folder, dirs, files in os.walk(path):  # a link to a folder is listed in dirs, not entered
        links = [name for name in dirs if (Path(folder) / name).is_symlink()]
        total += sum((Path(folder) / name).lstat().st_size for name in [*files, *links])
    return total


def human(count: int) -> str:
    """`count` bytes in binary units: 512 B, 1.5 KiB, 12.0 MiB."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{count} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _manifest_paths(manifest: Manifest | None) -> Iterator[Path]:
    for record in manifest.stages.values() if manifest else ():
        yield from _absolute(record.outputs)
        yield from _absolute([a.path for a in record.artifacts])
        yield from _absolute(record.log)


def _paths(runs: Iterable[Any]) -> Iterator[Path]:
    for run in runs:
        yield from _absolute(run.outputs)


def _absolute(value: Any) -> Iterator[Path]:
    """Every absolute path among the strings in `value` (nested dicts and lists)."""
    if isinstance(value, str) and os.path.isabs(value):
        yield Path(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _absolute(item)
    elif isinstance(value, list):
        for item in value:
            yield from _absolute(item)


def _outermost(paths: Iterable[Path]) -> list[Path]:
    """The paths not inside another of them, sorted: removing (or naming) those covers the rest."""
    found = list(paths)
    return sorted(p for p in found if not any(q != p and _inside(p, q) for q in found))


def _canonical(path: Path) -> Path:
    """`path` with its folder resolved and its own name not: a link is named, not followed."""
    return path.parent.resolve() / path.name


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents
