"""`{{name}}` placeholders: text meant to be filled in before training (LLaMA-Factory's identity set).

A row holding one is written (and counted: a warning in the report and the terminal table),
or rejected with reason `placeholder` under `--strict` / the data option `strict: true`.
"""

from __future__ import annotations

import re

from swiftpipe.data.reject import Reject
from swiftpipe.data.rows.messages import Message

# `${{ github.repository }}` (GitHub Actions, common in code answers) is an expression, not a gap.
PLACEHOLDER = re.compile(r"(?<!\$)\{\{\s*[A-Za-z_][A-Za-z0-9_.-]*\s*\}\}")


def find(messages: list[Message]) -> tuple[int, str, str] | None:
    """(turn number, role, the placeholder) of the first placeholder, or None."""
    for number, message in enumerate(messages, 1):
        content = message["content"]
        if "{{" in content and (match := PLACEHOLDER.search(content)):
            return number, message["role"], match.group(0)
    return None


def check(messages: list[Message], strict: bool) -> bool:
    """True when `messages` hold a placeholder; under `strict`, raise `Reject` instead."""
    found = find(messages)
    if found is None:
        return False
    if strict:
        number, role, text = found
        raise Reject(
            "placeholder",
            f"turn {number} ({role}) holds the placeholder {text}; fill it in (or convert without strict)",
        )
    return True
