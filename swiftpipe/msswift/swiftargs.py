"""Check `args:` names against the arguments the installed ms-swift really has.

swift only rejects an unknown argument after it has loaded the model and created
a `vN` folder, and argparse lets a prefix through silently (`--lora_r` becomes
lora_rank). So the names are checked in the preflight, against the argument
dataclasses of the ms-swift (and transformers) that the stage's `swift` runs
with. They are read with `ast`, never imported (that takes seconds), and cached
per installation.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import json
import os
import re
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from swiftpipe.errors import UserError

# Where ms-swift 4.x and transformers declare command-line arguments (globs per package).
SOURCES = {
    "swift": ("arguments/**/*.py", "trainers/arguments.py", "rlhf_trainers/args_mixin.py"),
    "transformers": ("training_args.py", "training_args_seq2seq.py"),
}
_FIND = (
    "import importlib.util as u, json\n"
    "print(json.dumps({n: (u.find_spec(n).submodule_search_locations or [None])[0] "
    "for n in ('swift', 'transformers')}))"
)


def check(program: str, args: Mapping[str, Any], where: str) -> None:
    """Raise UserError naming every key of `args` that the installed swift does not accept."""
    known = known_arguments(program)
    if known is None:
        return
    version, names = known
    bad = [name for name in args if name not in names]
    if bad:
        lines = [f"{where}.args.{n}: not an argument of ms-swift {version}{_hint(n, names)}" for n in bad]
        raise UserError("\n".join(lines))


def _hint(name: str, names: set[str]) -> str:
    prefixed = sorted(n for n in names if n.startswith(name))
    if len(prefixed) == 1:
        return f"; swift would silently read it as '{prefixed[0]}', write that"
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.75)
    return f"; did you mean '{close[0]}'?" if close else ""


def known_arguments(program: str) -> tuple[str, set[str]] | None:
    """(ms-swift version, argument names) for the swift that `program` runs; None if unknown."""
    python = _interpreter(program)
    if python is None:
        return None
    cache = _cache_path(program)
    try:
        data = json.loads(cache.read_text())
        return str(data["version"]), set(data["names"])
    except (OSError, ValueError, KeyError):
        pass
    found = _scan(python)
    if found is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps({"version": found[0], "names": sorted(found[1])}))
    return found


def _interpreter(program: str) -> str | None:
    """The Python of a pip-installed `swift` script (from its #! line); None for anything else."""
    try:
        with open(program, "rb") as fh:
            first = fh.readline(512).decode("utf-8", "replace").strip()
    except OSError:
        return None
    python = first[2:].strip() if first.startswith("#!") else ""
    return python if re.search(r"python[\d.]*$", python) and os.access(python, os.X_OK) else None


def _cache_path(program: str) -> Path:
    stat = os.stat(program)  # pip rewrites the script on every (re)install of ms-swift
    key = hashlib.sha1(f"{os.path.realpath(program)}:{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "swiftpipe" / "swift-args" / f"{key}.json"


def _scan(python: str) -> tuple[str, set[str]] | None:
    try:
        out = subprocess.run([python, "-c", _FIND], capture_output=True, text=True, timeout=60, check=True)
        roots = json.loads(out.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    if not roots.get("swift") or not roots.get("transformers"):
        return None
    names: set[str] = set()
    for package, patterns in SOURCES.items():
        root = Path(roots[package])
        names |= field_names(p for pattern in patterns for p in root.glob(pattern))
    return _version(Path(roots["swift"])), names


def field_names(paths: Iterable[Path]) -> set[str]:
    """Names of the annotated class attributes (dataclass fields) in these source files."""
    names: set[str] = set()
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                names |= {s.target.id for s in node.body
                          if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)}
    return names


def _version(swift_root: Path) -> str:
    try:
        text = (swift_root / "version.py").read_text(encoding="utf-8")
    except OSError:
        return "(unknown version)"
    match = re.search(r"__version__\s*=\s*['\"]([^'\"]+)", text)
    return match.group(1) if match else "(unknown version)"
