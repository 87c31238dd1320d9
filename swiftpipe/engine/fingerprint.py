"""Stage fingerprints: a stage is reused only if nothing that shaped it changed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from swiftpipe.engine.artifacts import HASH_LIMIT, sha256_file

# Inputs that are a mapping of settings: a change names the settings, not the mapping.
SETTINGS = ("shaping", "serving")


def fingerprint(inputs: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of a stage's inputs."""
    canonical = json.dumps(inputs, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def file_digest(path: Path) -> str:
    """sha256 for files up to HASH_LIMIT; size and mtime for larger ones (cheap re-checks)."""
    stat = path.stat()
    if stat.st_size <= HASH_LIMIT:
        return sha256_file(path)
    return f"size={stat.st_size},mtime_ns={stat.st_mtime_ns}"


def dir_digest(path: Path) -> dict[str, str]:
    """Per-file digests of a model or checkpoint directory (relative names)."""
    return {
        str(p.relative_to(path)): file_digest(p)
        for p in sorted(path.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def changed_keys(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Input keys whose values differ, for 'why does this re-run' messages.

    For `argv` the changed flags are named (`--learning_rate`), not just "argv"; for a mapping
    of settings (eval's `shaping`, deploy's `serving`) the changed settings (`limit`).
    """
    keys = sorted(set(old) | set(new))
    changed = []
    for key in (k for k in keys if _canon(old.get(k)) != _canon(new.get(k))):
        before, after = old.get(key), new.get(key)
        if key == "argv" and isinstance(before, list) and isinstance(after, list):
            changed += _flag_diff(before, after) or ["argv"]
        elif isinstance(before, dict) and isinstance(after, dict) and key in SETTINGS:
            changed += [k for k in sorted(set(before) | set(after))
                        if _canon(before.get(k)) != _canon(after.get(k))] or [key]
        else:
            changed.append(key)
    return changed


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _flag_map(argv: list[str]) -> dict[str, list[str]]:
    flags: dict[str, list[str]] = {}
    current = ""
    for item in argv:
        if item.startswith("--"):
            current = item
            flags[current] = []
        else:
            flags.setdefault(current, []).append(item)
    return flags


def _flag_diff(old: list[str], new: list[str]) -> list[str]:
    a, b = _flag_map(old), _flag_map(new)
    return [f for f in sorted(set(a) | set(b)) if a.get(f) != b.get(f) and f]
