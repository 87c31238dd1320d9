"""Values under `args:` as the command line will read them: values stay values, names stay ours.

Every value becomes argv tokens (swiftpipe.core.argv.flags: a list gives one token per item).
argparse reads a token that starts with '-' as a flag unless it is a negative number, and
the parsers of ms-swift (HfArgumentParser) and evalscope keep argparse's `allow_abbrev`:
`--hos` is read as `--host`, and for a scalar the last value wins. So a list item
`--host` or a value `--port=1` would set an argument swiftpipe reserves, past every check
on names; and an argument name that abbreviates a reserved one would do the same. YAML
also reads some plain-looking values as things no command line can carry (dates, bytes,
.nan). These checks need no installed tool; swiftpipe.msswift.swiftargs checks names and
types against the installed ms-swift when a stage is planned.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Iterator, Mapping
from typing import Any

# argparse's own test for "a negative number, not a flag" (argparse._negative_number_matcher).
NEGATIVE_NUMBER = re.compile(r"-\d+|-\d*\.\d+")


def value_problems(name: str, value: Any, program: str, reserved: Mapping[str, str]) -> Iterator[tuple[str, str]]:
    """(key path below `args`, message) for each part of one argument's value argv cannot carry."""
    yield from _walk(name, value, program, reserved, in_json=False)


def _walk(path: str, value: Any, program: str, reserved: Mapping[str, str], *, in_json: bool) -> Iterator[
        tuple[str, str]]:
    if isinstance(value, dict):  # one JSON token: its strings cannot be flags, but must be JSON
        for key, item in value.items():
            yield from _walk(f"{path}.{key}", item, program, reserved, in_json=True)
    elif isinstance(value, list):
        if not value and not in_json:
            yield path, f"an empty list gives {program} no value; remove the key or give a value"
        for i, item in enumerate(value):
            yield from _walk(f"{path}[{i}]", item, program, reserved, in_json=in_json)
    else:
        problem = _scalar_problem(value, program)
        if problem is None and not in_json and isinstance(value, str):
            problem = flag_problem(value, program, reserved)
        if problem is not None:
            yield path, problem


def _scalar_problem(value: Any, program: str) -> str | None:
    if value is None or isinstance(value, (bool, int, str)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{value} is not a number {program} can take; write a number"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return f"YAML reads {value.isoformat()} as a date; quote it: '{value.isoformat()}'"
    if isinstance(value, bytes):
        return "YAML reads !!binary as bytes, which have no command-line form; write the value as text"
    return f"YAML reads this as a {type(value).__name__}, which has no command-line form; write text or a number"


def flag_problem(value: str, program: str, reserved: Mapping[str, str]) -> str | None:
    """A value that argparse would read as a flag (`--host`, `--port=1`, `-x`), else None."""
    if not value.startswith("-") or value == "-" or NEGATIVE_NUMBER.fullmatch(value):
        return None
    # Only a long option abbreviates; `-h` is argparse's own short help flag.
    flag = value[2:].partition("=")[0].replace("-", "_") if value.startswith("--") else ""
    target = reserved_target(flag, reserved) if flag else None
    if target is not None:
        return f"'{value}' would be read as a flag by {program}, setting {target}, which swiftpipe sets; " \
               f"{reserved[target]}"
    return f"'{value}' would be read as a flag by {program}; write each argument as its own key under args"


def reserved_target(name: str, reserved: Mapping[str, str]) -> str | None:
    """The reserved argument `--name` would set: itself, one it abbreviates, or its `--no_` form."""
    for target in reserved:
        for option in (target, f"no_{target}"):  # HfArgumentParser adds --no_X for booleans
            if option.startswith(name):
                return target
    return None
