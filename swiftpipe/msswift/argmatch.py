"""Does a YAML value fit the type ms-swift declares for the argument? One message when not.

argparse only converts a value with the option's `type` (int, float, string_to_bool, a
choice function); everything declared `str` passes through, and some of those fail much
later: `eval_strategy: no` is read by YAML as false, reaches swift as the text 'false', and
transformers raises in every training process after the model loaded. So the value is
compared here, before anything runs, with what the merged declarations accept.
"""

from __future__ import annotations

import json
from typing import Any

from swiftpipe.core.argv import render_value
from swiftpipe.msswift.argtypes import ANY, BOOL, DICT, FLOAT, INT, LIST, STR, ArgType

# The words YAML 1.1 (PyYAML) reads as booleans, and argparse words for true/false (string_to_bool).
_YAML_WORDS = {True: ("yes", "on", "true"), False: ("no", "off", "false")}
_BOOL_WORDS = {"yes", "no", "true", "false", "y", "n", "t", "f", "1", "0"}
_WANTS = {BOOL: "true or false", INT: "an integer", FLOAT: "a number", STR: "text", DICT: "a mapping",
          LIST: "a list"}


def mismatch(name: str, value: Any, declared: ArgType) -> str | None:
    """Why swift would not take `value` for `name` (a message without the key), or None."""
    if value is None or ANY in declared.kinds:
        return None
    if isinstance(value, list):
        if LIST not in declared.kinds:
            return f"swift takes one value here, got a list of {len(value)}"
        items = ArgType(declared.items, choices=declared.choices)
        return next((p for v in value if (p := _scalar(name, v, items)) is not None), None)
    if LIST in declared.kinds:  # nargs='+' takes one value as well: `target_modules: all-linear`
        declared = ArgType((declared.kinds - {LIST}) | declared.items, choices=declared.choices)
    return _scalar(name, value, declared)


def _scalar(name: str, value: Any, declared: ArgType) -> str | None:
    if ANY in declared.kinds:
        return None
    if declared.choices is not None:
        return _choice(name, value, declared.choices)
    if isinstance(value, bool):
        return _boolean(value, declared)
    if _fits(value, declared.kinds):
        return None
    if isinstance(value, float) and declared.kinds & {INT} and not declared.kinds & {FLOAT, STR} and value.is_integer():
        return f"swift wants an integer; write {int(value)}"
    return f"swift wants {_wanted(declared.kinds)}, got {_shown(value)}"


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> str | None:
    text = " ".join(render_value(value))
    if text in choices:
        return None
    listed = ", ".join(choices)
    if isinstance(value, bool):
        word = next((c for c in choices if c.lower() in _YAML_WORDS[value]), None)
        if word is not None:
            return f"YAML reads {word} as {text}, but swift wants one of {listed}; quote it: {name}: '{word}'"
        return f"YAML reads this as {text}, but swift wants one of {listed}"
    return f"{_shown(value)} is not one of swift's choices: {listed}"


def _boolean(value: bool, declared: ArgType) -> str | None:
    if BOOL in declared.kinds:
        return None
    if STR in declared.kinds:
        return (f"YAML reads an unquoted yes/no/on/off/true/false as a boolean ({str(value).lower()}), "
                "but swift wants text here; quote the value")
    return f"swift wants {_wanted(declared.kinds)}, got {str(value).lower()}"


def _fits(value: Any, kinds: frozenset[str]) -> bool:
    if isinstance(value, dict):
        return bool(kinds & {DICT, STR})
    if isinstance(value, int):
        return bool(kinds & {INT, FLOAT, STR}) or (BOOL in kinds and value in (0, 1))
    if isinstance(value, float):
        return bool(kinds & {FLOAT, STR})
    if isinstance(value, str):
        return STR in kinds or any(_parses(value, kind) for kind in kinds)
    return False


def _parses(text: str, kind: str) -> bool:
    """Would argparse's `type` for this kind take the text (swift reads JSON text for mappings)?"""
    try:
        if kind == INT:
            int(text)
        elif kind == FLOAT:
            float(text)
        elif kind == BOOL:
            return text.lower() in _BOOL_WORDS
        elif kind == DICT:
            return isinstance(json.loads(text), dict)
        else:
            return False
    except ValueError:
        return False
    return True


def _wanted(kinds: frozenset[str]) -> str:
    if kinds >= {INT, FLOAT}:
        kinds = kinds - {INT}  # "a number" covers both
    return " or ".join(_WANTS[k] for k in (BOOL, INT, FLOAT, STR, DICT, LIST) if k in kinds)


def _shown(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else " ".join(render_value(value))
