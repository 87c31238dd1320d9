"""`system_template`: a system-prompt line built from row fields, e.g. the multilingual-thinking
recipe's `reasoning language: {reasoning_language}` (the default line for `reasoning_language`)."""

from __future__ import annotations

from string import Formatter
from typing import Any

from swiftpipe.core.errors import UserError
from swiftpipe.data.reject import Reject, type_name


def template_fields(template: str, where: str) -> list[str]:
    """The row fields `template` names; UserError for a template str.format cannot read."""
    try:
        names = [name for _, name, _, _ in Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise UserError(f"{where}: {template!r} is not a valid template ({exc}); write fields as {{name}}") from None
    bad = [n for n in names if not n.isidentifier()]
    if bad or not names:
        hint = "write fields as {name}, e.g. {reasoning_language}"
        raise UserError(f"{where}: {template!r} names no row field; {hint}")
    return names


def render(template: str, fields: list[str], row: dict[str, Any]) -> str | None:
    """The line for `row`, None when every field it names is empty; `Reject` when one is missing."""
    values: dict[str, str] = {}
    for name in fields:
        if name not in row or row[name] is None:
            raise Reject("missing_field", f"no '{name}' field (the system_template names it)")
        value = row[name]
        if type(value) not in (str, int, float):
            what = f"'{name}' is {type_name(value)}, expected a string"
            raise Reject("bad_field", f"{what} (the system_template names it)")
        values[name] = str(value).strip()
    if not any(values.values()):
        return None
    return template.format_map(values)
