"""Rules on the raw pipeline file, before anything is built from it: secrets are never written in it."""

from __future__ import annotations

import re
from typing import Any

from swiftpipe.config.validate import Problem
from swiftpipe.core.argv import is_secret

# A reference that adds no text of its own: ${VAR}, or ${VAR:-} (empty when unset).
_BARE_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::-)?\}")
_URL_PASSWORD = re.compile(r"://[^/\s:@]+:[^/\s@]+@")  # scheme://user:password@host


def check_raw_secrets(raw: Any, path: str = "") -> list[Problem]:
    """Secrets may only arrive as ${VAR} references, never as literals in the file.

    A secret is a key that swiftpipe.core.argv.is_secret marks (the names it masks everywhere), or
    the password of a URL. A literal in a default (`${VAR:-hf_x}`) or beside a reference
    (`hf_x${VAR:-}`) is a literal too: it reaches argv and scripts whenever VAR is unset.
    """
    problems: list[Problem] = []
    if isinstance(raw, dict):
        for key, value in raw.items():
            sub = f"{path}.{key}" if path else str(key)
            if is_secret(str(key)) and _literal(value):
                problems.append(Problem(sub, _secret_message(str(key), value)))
            else:
                problems.extend(check_raw_secrets(value, sub))
    elif isinstance(raw, list):
        for i, value in enumerate(raw):
            problems.extend(check_raw_secrets(value, f"{path}[{i}]"))
    elif isinstance(raw, str) and _URL_PASSWORD.search(_written(raw)):
        problems.append(Problem(path, "a password must not be written in the pipeline file; "
                                "write the URL as https://user:${VAR}@host and export VAR"))
    return problems


def _written(text: str) -> str:
    """The text of a value that is written out, not taken from the environment."""
    return _BARE_REFERENCE.sub("", text)


def _literal(value: Any) -> bool:
    """Text written out (anything but bare ${VAR} references), alone or in a list."""
    values = value if isinstance(value, list) else [value]
    return any(isinstance(v, str) and _written(v) for v in values)


def _secret_message(key: str, value: Any) -> str:
    mixed = any(isinstance(v, str) and "${" in v for v in (value if isinstance(value, list) else [value]))
    where = "pipeline file, not even as a default or beside a ${VAR}" if mixed else "pipeline file"
    return (
        f"a secret must not be written in the {where}; "
        f"export it in the environment and write '{key}: ${{VAR}}', or use the stage's *_env option"
    )


