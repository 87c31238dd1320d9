"""Check `args:` names and values against the arguments the installed ms-swift really has.

swift only rejects an unknown argument after it has loaded the model and created
a `vN` folder, argparse lets a prefix through silently (`--lora_r` becomes
lora_rank), and a value of the wrong kind can pass argparse and fail later still
(`eval_strategy: no` is YAML's false). So names and values are checked in the
preflight, against the argument dataclasses of the ms-swift (and transformers)
that the stage's `swift` runs with. They are read with `ast`, never imported
(that takes seconds), and cached under the digest of the very files read, so an
upgraded or edited installation behind the same path is read again.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import os
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from swiftpipe.core.errors import UserError
from swiftpipe.msswift import argmatch, argtypes
from swiftpipe.msswift.argtypes import ArgType
from swiftpipe.msswift.pyscript import interpreter

# Where ms-swift 4.x and transformers declare command-line arguments (globs per package).
SOURCES = {
    "swift": ("arguments/**/*.py", "trainers/arguments.py", "rlhf_trainers/args_mixin.py", "ray_utils/arguments.py"),
    "transformers": ("training_args.py", "training_args_seq2seq.py"),
}
# Where the Enums those arguments name are declared (IntervalStrategy, SchedulerType, ...).
ENUMS = {"swift": (), "transformers": ("trainer_utils.py", "debug_utils.py")}
CACHE_FORMAT = "2"  # part of the cache key: entries of an older swiftpipe are not read
_FIND = (
    "import importlib.util as u, json\n"
    "print(json.dumps({n: (u.find_spec(n).submodule_search_locations or [None])[0] "
    "for n in ('swift', 'transformers')}))"
)


class Known(NamedTuple):
    """What the installed ms-swift accepts: its version and each argument's type."""

    version: str
    types: dict[str, ArgType]

    @property
    def names(self) -> set[str]:
        return set(self.types)


def check(program: str, args: Mapping[str, Any], where: str) -> None:
    """Raise UserError naming every key of `args` that the installed swift does not accept."""
    known = known_arguments(program)
    if known is None:
        return
    lines = []
    for name, value in args.items():
        if name not in known.types:
            lines.append(f"{where}.args.{name}: not an argument of ms-swift {known.version}{_hint(name, known.names)}")
        elif (problem := argmatch.mismatch(name, value, known.types[name])) is not None:
            lines.append(f"{where}.args.{name}: {problem}")
    if lines:
        raise UserError("\n".join(lines))


def _hint(name: str, names: set[str]) -> str:
    prefixed = sorted(n for n in names if n.startswith(name))
    if len(prefixed) == 1:
        return f"; swift would silently read it as '{prefixed[0]}', write that"
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.75)
    return f"; did you mean '{close[0]}'?" if close else ""


def known_arguments(program: str) -> Known | None:
    """The version and argument types of the swift that `program` runs; None if unknown.

    Read once per program and PYTHONPATH in a process (every training stage's plan asks)."""
    return _known(program, os.environ.get("PYTHONPATH", ""))


def forget() -> None:
    """Read the installations again on the next ask (a process that outlives one run: the tests)."""
    _known.cache_clear()


@functools.cache
def _known(program: str, pythonpath: str) -> Known | None:
    python = interpreter(program)
    if python is None:
        return None
    roots = _roots(python)
    if roots is None:
        return None
    files = _source_files(roots)
    cache = _cache_path(files)
    try:
        data = json.loads(cache.read_text())
        return Known(str(data["version"]), {n: ArgType.from_json(t) for n, t in data["types"].items()})
    except (OSError, ValueError, KeyError, TypeError):
        pass
    found = _read(roots, files)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")  # two runs may fill the cache at once
    tmp.write_text(json.dumps({"version": found.version,
                               "types": {n: t.to_json() for n, t in sorted(found.types.items())}}))
    os.replace(tmp, cache)
    return found


def _roots(python: str) -> dict[str, Path] | None:
    """Where that Python finds the swift and transformers packages (without importing them)."""
    return _find_roots(python, os.environ.get("PYTHONPATH", ""))


@functools.lru_cache(maxsize=16)
def _find_roots(python: str, pythonpath: str) -> dict[str, Path] | None:
    # Once per interpreter and search path in a process: a plan checks several stages.
    try:
        out = subprocess.run([python, "-c", _FIND], capture_output=True, text=True, timeout=60, check=True)
        roots = json.loads(out.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    if not isinstance(roots, dict) or not roots.get("swift") or not roots.get("transformers"):
        return None
    return {name: Path(roots[name]) for name in SOURCES}


def _source_files(roots: dict[str, Path]) -> dict[str, list[Path]]:
    """The files read, by role: 'args' (the dataclasses), 'enums', 'version'."""
    def matching(table: dict[str, tuple[str, ...]]) -> list[Path]:
        return sorted({p for pkg, pats in table.items() for pat in pats for p in roots[pkg].glob(pat)})

    return {"args": matching(SOURCES), "enums": matching(ENUMS), "version": [roots["swift"] / "version.py"]}


def _cache_path(files: dict[str, list[Path]]) -> Path:
    """Keyed by the content of every file read (not its path or mtime): a changed file is a new key."""
    digest = hashlib.sha256(CACHE_FORMAT.encode())
    for role, paths in sorted(files.items()):
        for path in paths:
            digest.update(f"\0{role}\0{path}\0".encode())
            try:
                digest.update(path.read_bytes())
            except OSError:
                digest.update(b"\0missing")
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "swiftpipe" / "swift-args" / f"{digest.hexdigest()[:24]}.json"


def _read(roots: dict[str, Path], files: dict[str, list[Path]]) -> Known:
    types = argtypes.read_types(files["args"], files["enums"])
    return Known(_version(roots["swift"]), types)


def _version(swift_root: Path) -> str:
    try:
        text = (swift_root / "version.py").read_text(encoding="utf-8")
    except OSError:
        return "(unknown version)"
    match = re.search(r"__version__\s*=\s*['\"]([^'\"]+)", text)
    return match.group(1) if match else "(unknown version)"
