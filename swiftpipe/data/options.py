"""What one conversion is told and what it reports back: the options file and the result file.

The data stage hands its child (`python -m swiftpipe.data OPTIONS.json`, child.py) one file,
`ConvertOptions` as JSON, and reads back one file, `Outcome` as JSON; `swiftpipe convert`
builds the same `ConvertOptions` from its flags. Both files are written atomically and read
back into their dataclasses by one function, `decode`, so what the stage planned (and
fingerprinted) is exactly what the child runs: nothing is checked again or re-parsed on the
way.
"""

from __future__ import annotations

import dataclasses
import json
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, cast, get_args, get_origin, get_type_hints

from swiftpipe.core.fsio import atomic_write_text
from swiftpipe.data.rows.row import Settings

T = TypeVar("T")


@dataclass(frozen=True)
class Source:
    """One input file, its format (`auto`: detected from its first rows) and its row limit."""

    path: Path
    format: str = "auto"
    limit: int | None = None  # read only the first N rows; None: all


@dataclass(frozen=True)
class ConvertOptions:
    """Everything one conversion needs: what to read, how to treat rows, where to write."""

    sources: tuple[Source, ...]
    train: Path
    val: Path | None  # None: no validation split
    rejects: Path
    report: Path
    settings: Settings = field(default_factory=Settings)
    max_reject_ratio: float = 0.05  # more rejects than this: no train file, a data failure
    # Worker processes for large JSON Lines files; None: one per CPU; 1: none (all serial).
    jobs: int | None = None
    result: Path | None = None  # where the data stage's child writes its `Outcome`


@dataclass(frozen=True)
class Failure:
    """Why a conversion wrote no train file: `data` (too many rejects) or `user` (a user error)."""

    kind: Literal["data", "user"]
    message: str  # one line, as the user sees it


@dataclass(frozen=True)
class Outcome:
    """The result file: the stage's outputs and metrics, or the one failure that stopped it."""

    outputs: dict[str, str | None]  # train, val, rejects, report: absolute paths (None: not written)
    metrics: dict[str, int]  # rows_in, train, val, rejected
    failure: Failure | None = None


def encode(value: object) -> str:
    """`value` (a dataclass of the types above) as indented JSON, paths as strings."""
    return json.dumps(plain(value), ensure_ascii=False, indent=2) + "\n"


def plain(value: object) -> Any:
    """`value` as JSON-ready data: dataclasses as objects, paths as strings, tuples as lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def decode(cls: type[T], text: str) -> T:
    """The JSON `encode` wrote for a `cls`, read back into one (the one JSON -> dataclass step)."""
    return cast(T, _build(cls, json.loads(text)))


def _build(hint: Any, value: Any) -> Any:
    origin, args = get_origin(hint), get_args(hint)
    if dataclasses.is_dataclass(hint):
        hints, make = get_type_hints(hint), cast(Any, hint)
        return make(**{key: _build(hints[key], item) for key, item in value.items()})
    if origin in (Union, types.UnionType):  # X | None
        return None if value is None else _build(next(a for a in args if a is not type(None)), value)
    if origin is tuple:
        return tuple(_build(args[0], item) for item in value)
    if origin is dict:
        return {key: _build(args[1], item) for key, item in value.items()}
    return Path(value) if hint is Path else value


def write_options(path: Path, options: ConvertOptions) -> None:
    """Write the options file, atomically."""
    atomic_write_text(path, encode(options))


def read_options(path: Path) -> ConvertOptions:
    """The options file `write_options` wrote."""
    return decode(ConvertOptions, path.read_text(encoding="utf-8"))


def write_outcome(path: Path, outcome: Outcome) -> None:
    """Write the result file, atomically: a reader sees all of it or none."""
    atomic_write_text(path, encode(outcome))


def read_outcome(path: Path) -> Outcome | None:
    """The result file, or None when the child wrote none (it died first)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return decode(Outcome, text)
