"""`--set key.path=value` command-line overrides, applied to the raw YAML tree."""

from __future__ import annotations

import re
from typing import Any

from swiftpipe.config.interpolate import parse_scalar
from swiftpipe.config.yamlkeys import YamlLimit
from swiftpipe.core.errors import UserError

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split `stages.sft.args.learning_rate=1e-4` into its key path and typed value."""
    key, sep, raw = text.partition("=")
    parts = key.strip().split(".")
    if not sep or not all(_KEY.fullmatch(p) for p in parts):
        raise UserError(
            f"--set {text}: expected KEY.PATH=VALUE, e.g. --set stages.sft.args.learning_rate=1e-4"
        )
    try:
        return parts, parse_scalar(raw)
    except YamlLimit as exc:  # the value is not echoed: it may be long, or hold a secret
        raise UserError(f"--set {key.strip()}: {exc.message}") from None


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> list[str]:
    """Apply each override in order (the last wins); return the key paths they set."""
    paths = []
    for text in overrides:
        parts, value = parse_override(text)
        node = data
        for i, part in enumerate(parts[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif not isinstance(child, dict):
                where = ".".join(parts[: i + 1])
                raise UserError(f"--set {text}: {where} is not a mapping, cannot set a key inside it")
            node = child
        node[parts[-1]] = value
        paths.append(".".join(parts))
    return paths
