"""Turn an `args:` mapping into command-line flags, and mask secrets for display."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from typing import Any

SECRET_NAME = re.compile(r"(^|_)(token|api_key|key|secret|password)$", re.IGNORECASE)
MASK = "***"


def render_value(value: Any) -> list[str]:
    """One flag's values: lists give several, mappings are JSON, booleans are true/false."""
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, list):
        return [item for v in value for item in render_value(v)]
    if isinstance(value, dict):
        return [json.dumps(value, ensure_ascii=False, separators=(",", ":"))]
    return [str(value)]


def flags(args: Mapping[str, Any], *, dash: str = "_") -> list[str]:
    """`{"learning_rate": 1e-4}` -> `["--learning_rate", "0.0001"]`; None drops the flag.

    Full names only: ms-swift accepts argparse prefixes (`--lora_r` silently
    becomes lora_rank), so swiftpipe never abbreviates. evalscope spells flags
    with dashes; pass `dash="-"` for it.
    """
    out: list[str] = []
    for name, value in args.items():
        if value is None:
            continue
        out.append("--" + name.replace("_", dash))
        out.extend(render_value(value))
    return out


def mask_argv(argv: list[str]) -> list[str]:
    """A copy of argv with the value after any secret-looking flag replaced by ***."""
    masked = list(argv)
    for i, item in enumerate(argv[:-1]):
        if item.startswith("--") and SECRET_NAME.search(item[2:].replace("-", "_")):
            masked[i + 1] = MASK
    return masked


def mask_env(env: Mapping[str, str | None]) -> dict[str, str]:
    """The environment overlay for display: secrets masked, unset variables shown as ''."""
    return {k: (MASK if SECRET_NAME.search(k) and v else (v or "")) for k, v in env.items()}


def shell_line(argv: list[str]) -> str:
    return " ".join(shlex.quote(a) for a in argv)
