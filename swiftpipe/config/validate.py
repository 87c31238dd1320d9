"""Build the typed config from parsed YAML, collecting every problem with its key path."""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from swiftpipe.config.bounds import ENTRIES, NONEMPTY, RANGE, Entry, Range

T = TypeVar("T")

_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
WORD = "word"  # field metadata: the Word a string (or each string of a list) must be


@dataclasses.dataclass(frozen=True)
class Word:
    """What a string must look like beyond its type: a pipeline name, a value a scheduler reads."""

    pattern: re.Pattern[str]
    rule: str  # what the pattern allows, for messages: "letters, digits, ..."

    def problem(self, value: str) -> str | None:
        """Why `value` is not such a word, or None."""
        return None if self.pattern.fullmatch(value) else f"expected {self.rule}, got {describe(value)}"


@dataclasses.dataclass(frozen=True)
class Problem:
    """One thing wrong with the config, at `path` (e.g. `stages.deploy.port`)."""

    path: str
    message: str
    line: int | None = None  # where it is, when the key path alone cannot tell (a duplicate key)


class _Builder:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def dataclass(self, cls: type[T], data: Any, path: str) -> T | None:
        if not isinstance(data, dict):
            self.fail(path, f"expected a mapping, got {describe(data)}")
            return None
        hints = typing.get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        for key in data:
            if key not in fields:
                self.fail(_join(path, str(key)), unknown_key_message(str(key), list(fields)))
        values: dict[str, Any] = {}
        for name, f in fields.items():
            sub = _join(path, name)
            if name in data:
                values[name] = self.field(hints[name], f.metadata, data[name], sub)
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                self.fail(sub, "missing required key")
        try:
            return cls(**values)
        except TypeError:  # a required value was missing; already reported
            return None

    def field(self, tp: Any, meta: Mapping[str, Any], data: Any, path: str) -> Any:
        """A field's value, checked against the type and the rules its metadata declares."""
        bounds: Range | None = meta.get(RANGE)
        if bounds is not None:
            if data is None and type(None) in get_args(tp):
                return None
            return self._number(int if int in (tp, *get_args(tp)) else float, bounds, data, path)
        before = len(self.problems)
        value = self.value(tp, data, path)
        if len(self.problems) > before:
            return value
        if meta.get(NONEMPTY) and isinstance(value, str | list | dict) and not value:
            self.fail(path, _EMPTY[type(value)])
            return value
        word: Word | None = meta.get(WORD)
        if word is not None:
            self._words(word, value, path)
        entries: dict[str, Entry] = meta.get(ENTRIES, {})
        for key, entry in entries.items():
            if isinstance(value, dict) and key in value:
                # Checked, not converted: evalscope gets the value as written.
                self._number(entry.kind, entry.range, value[key], _join(path, key))
        return value

    def _words(self, word: Word, value: Any, path: str) -> None:
        items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
        for i, item in items:
            problem = word.problem(item) if isinstance(item, str) else None
            if problem:
                self.fail(path if i is None else f"{path}[{i}]", problem)

    def _number(self, kind: type[float], bounds: Range, data: Any, path: str) -> Any:
        if _matches(kind, data) and bounds.contains(data):
            return float(data) if kind is float else data
        self.fail(path, f"expected {_TYPE_NAMES[kind]} {bounds.phrase()}, got {describe(data)}")
        return None

    def value(self, tp: Any, data: Any, path: str) -> Any:
        origin = get_origin(tp)
        if tp is Any:
            return data
        if origin in (Union, types.UnionType):
            return self._union(tp, data, path)
        if origin is Literal:
            return self._literal(tp, data, path)
        if origin is list:
            return self._list(get_args(tp)[0], data, path)
        if origin is dict:
            return self._dict(get_args(tp)[1], data, path)
        if dataclasses.is_dataclass(tp):
            return self.dataclass(tp, data, path)  # type: ignore[arg-type]
        return self._scalar(tp, data, path)

    def _union(self, tp: Any, data: Any, path: str) -> Any:
        options = [a for a in get_args(tp) if a is not type(None)]
        if data is None:
            return None
        if len(options) == 1:
            return self.value(options[0], data, path)
        for option in options:
            if _matches(option, data):
                return data
        names = " or ".join(_TYPE_NAMES.get(o, str(o)) for o in options)
        self.fail(path, f"expected {names}, got {describe(data)}")
        return None

    def _literal(self, tp: Any, data: Any, path: str) -> Any:
        choices = [str(c) for c in get_args(tp)]
        if data in get_args(tp):
            return data
        listed = ", ".join(f"'{c}'" for c in choices)
        msg = f"expected one of {listed}, got {describe(data)}"
        close = difflib.get_close_matches(str(data), choices, n=1)
        self.fail(path, msg + (f"; did you mean '{close[0]}'?" if close else ""))
        return None

    def _list(self, item: Any, data: Any, path: str) -> Any:
        if not isinstance(data, list):
            self.fail(path, f"expected a list, got {describe(data)}")
            return []
        return [self.value(item, v, f"{path}[{i}]") for i, v in enumerate(data)]

    def _dict(self, item: Any, data: Any, path: str) -> Any:
        if not isinstance(data, dict):
            self.fail(path, f"expected a mapping, got {describe(data)}")
            return {}
        return {str(k): self.value(item, v, _join(path, str(k))) for k, v in data.items()}

    def _scalar(self, tp: Any, data: Any, path: str) -> Any:
        if _matches(tp, data):
            return float(data) if tp is float else data
        self.fail(path, f"expected {_TYPE_NAMES.get(tp, str(tp))}, got {describe(data)}")
        return None


_EMPTY: dict[type, str] = {
    str: "expected a non-empty string, got ''",
    list: "expected at least one item, got an empty list",
    dict: "expected at least one entry, got an empty mapping",
}


def _matches(tp: Any, data: Any) -> bool:
    if tp is bool:
        return isinstance(data, bool)
    if tp is int:
        return isinstance(data, int) and not isinstance(data, bool)
    if tp is float:
        return isinstance(data, int | float) and not isinstance(data, bool)
    return isinstance(data, tp)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def describe(value: Any) -> str:
    """How a found value is shown in messages: `'abc'`, `12`, `a list`, `nothing`."""
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return repr(value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def unknown_key_message(key: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    if close:
        return f"unknown key; did you mean '{close[0]}'?"
    if not valid:
        return "unknown key; nothing else is set here"
    return "unknown key; valid keys are " + ", ".join(valid)


def build(cls: type[T], data: Any, path: str = "") -> tuple[T | None, list[Problem]]:
    """Validate `data` (found at key `path`) against dataclass `cls`; the instance and problems."""
    builder = _Builder()
    result = builder.dataclass(cls, data, path)
    return (result if not builder.problems else None), builder.problems
