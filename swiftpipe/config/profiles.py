"""`profiles:` in a pipeline file, and `--profile NAME` to overlay one before validation.

A profile is a mapping of keys laid over the pipeline, written either as dotted paths (the same
paths as `--set`: `stages.sft.args.max_steps: 2`) or as nested mappings (`stages: {sft: {args:
{max_steps: 2}}}`), or both. Mappings merge key by key; anything else (a scalar, a list) replaces
what was there. The overlaid tree is then interpolated and validated like the rest, so a profile
cannot set a key the pipeline could not. `--set` is applied after the profile and wins.

The CLI parses `--profile` and selects it here for the command's duration (`selecting`);
`load_pipeline` reads the selection, so the commands that load a pipeline need not pass it along.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from swiftpipe.core.errors import UserError

KEY = "profiles"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_selected: ContextVar[str | None] = ContextVar("swiftpipe_profile", default=None)


def select(name: str | None) -> None:
    """Make `name` the profile the next `load_pipeline` applies (None: no profile)."""
    _selected.set(name)


def selected() -> str | None:
    """The profile chosen with `--profile`, if any."""
    return _selected.get()


@contextmanager
def selecting(name: str | None) -> Iterator[None]:
    """Select `name` for the duration of a block (tests, nested loads)."""
    token = _selected.set(name)
    try:
        yield
    finally:
        _selected.reset(token)


def names(raw: dict[str, Any]) -> list[str]:
    """The profile names a raw pipeline mapping declares, in file order."""
    profiles = raw.get(KEY)
    return [str(k) for k in profiles] if isinstance(profiles, dict) else []


def apply_profile(raw: dict[str, Any], name: str | None, display: str) -> list[str]:
    """Remove `profiles:` from `raw` and overlay profile `name` in place; return the paths it set.

    The section is checked even when no profile is chosen, so a broken profile is found by the
    plain `plan` of the pipeline, not only when someone finally asks for it.
    """
    profiles = _profiles(raw.pop(KEY, None), display)
    if name is None:
        return []
    if name not in profiles:
        if not profiles:
            raise UserError(f"--profile {name}: {display} has no profiles, add a 'profiles:' section or drop --profile")
        choices = ", ".join(profiles)
        raise UserError(f"--profile {name}: no such profile in {display}, choose one of: {choices}")
    paths: list[str] = []
    _overlay(raw, profiles[name], [], paths, f"{display} › {KEY}.{name}")
    return paths


def _profiles(section: Any, display: str) -> dict[str, dict[str, Any]]:
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise UserError(f"{display} › {KEY}: expected a mapping of profile names to settings, "
                        f"got {type(section).__name__}")
    for name, body in section.items():
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise UserError(f"{display} › {KEY}.{name}: a profile name is letters, digits, '_', '-' or '.', "
                            "rename it")
        if not isinstance(body, dict):
            raise UserError(f"{display} › {KEY}.{name}: expected a mapping of keys to overlay, "
                            f"got {type(body).__name__}")
    return section


def _overlay(target: dict[str, Any], overlay: dict[str, Any], prefix: list[str], paths: list[str],
             where: str) -> None:
    for key, value in overlay.items():
        parts = str(key).split(".")
        if not all(parts):
            raise UserError(f"{where}.{key}: empty part in a dotted key, write it like stages.sft.args.max_steps")
        node = _descend(target, parts[:-1], prefix, where)
        leaf = parts[-1]
        full = [*prefix, *parts]
        if isinstance(value, dict) and isinstance(node.get(leaf), dict):
            # Copied before writing: a YAML alias may share this mapping with another stage.
            node[leaf] = dict(node[leaf])
            _overlay(node[leaf], value, full, paths, where)
        else:
            node[leaf] = copy.deepcopy(value)
            paths.append(".".join(full))


def _descend(node: dict[str, Any], parts: list[str], prefix: list[str], where: str) -> dict[str, Any]:
    for i, part in enumerate(parts):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        elif not isinstance(child, dict):
            at = ".".join([*prefix, *parts[: i + 1]])
            raise UserError(f"{where}: {at} is not a mapping, cannot set a key inside it")
        else:
            child = node[part] = dict(child)  # copy on write, as above
        node = child
    return node
