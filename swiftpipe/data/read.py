"""Streaming readers: JSON Lines, JSON arrays and CSV, optionally gzipped, one record per row.

A record carries its 1-based line number (and, for JSON arrays, the 0-based element index),
the parsed value, the source text, and a `Reject` when the row could not even be parsed.
Blank lines are not rows and are skipped. Nothing here holds more than one row in memory.
"""

from __future__ import annotations

import csv
import gzip
import json
import zlib
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, NamedTuple, cast

from swiftpipe.data.csvread import csv_records
from swiftpipe.data.jsonarray import JsonArrayReader
from swiftpipe.data.reject import Reject, clip
from swiftpipe.errors import UserError

KINDS = ("jsonl", "json", "csv")


class Record(NamedTuple):
    """One row as read: 1-based line, 0-based array element (None for JSON Lines), value (None
    when rejected), source text, and the reject or None."""

    line: int
    item: int | None
    value: Any
    raw: str
    reject: Reject | None


def input_kind(path: Path) -> str:
    """'jsonl', 'json' or 'csv' from the file name (a trailing `.gz` is looked through)."""
    name = path.name.lower().removesuffix(".gz")
    for kind in KINDS:
        if name.endswith("." + kind):
            return kind
    raise UserError(f"{path}: unsupported file type; use .jsonl, .json or .csv (optionally .gz)")


def content_kind(path: Path) -> str:
    """'jsonl' or 'json': what the file holds, which may differ from what its name says."""
    kind = input_kind(path)
    if kind == "json" and _looks_like_json_lines(path):
        kind = "jsonl"  # a common mistake: JSON Lines saved as .json; read it as what it is
    return kind


def read_records(path: Path) -> Generator[Record, None, None]:
    """Yield every row of `path`; errors that make the whole file unreadable raise UserError."""
    kind = content_kind(path)
    with open_input(path) as stream:
        try:
            if kind == "jsonl":
                yield from jsonl_records(stream)
            elif kind == "csv":
                yield from _csv(stream, path)
            else:
                for el in JsonArrayReader(stream, str(path)):
                    yield Record(el.line, el.item, el.value, el.raw, el.reject)
        except (OSError, EOFError, zlib.error) as exc:
            raise UserError(f"{path}: cannot read the file ({describe(exc)}); check that it is complete") from None


@contextmanager
def open_input(path: Path) -> Iterator[IO[bytes]]:
    """The file's bytes, decompressed when it ends in .gz; UserError when it cannot be opened."""
    try:
        if path.name.lower().endswith(".gz"):
            stream: IO[bytes] = cast(IO[bytes], gzip.open(path, "rb"))  # noqa: SIM115 (closed below)
        else:
            stream = open(path, "rb", buffering=1 << 20)  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise UserError(f"{path}: cannot open the file ({describe(exc)})") from None
    with stream:
        yield stream


def _csv(stream: IO[bytes], path: Path) -> Iterator[Record]:
    try:
        for line, row, raw, reject in csv_records(stream):
            yield Record(line, None, row, raw, reject)
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text; save the CSV file as UTF-8") from None
    except csv.Error as exc:
        raise UserError(f"{path}: cannot read as CSV ({exc}); check the file") from None


def describe(exc: BaseException) -> str:
    """A read error in a few words, for messages."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    if isinstance(exc, EOFError):
        return "the compressed stream ends early"
    return str(exc) or type(exc).__name__


def jsonl_records(stream: IO[bytes], first: int = 1) -> Iterator[Record]:
    """The rows of a JSON Lines stream whose first line is line `first` of its file."""
    scan = _SCANNER
    for lineno, data in enumerate(stream, first):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield _bad_utf8(lineno, data, exc)
            continue
        if text.isspace() or not text:
            continue
        if lineno == 1 and text.startswith("\ufeff"):
            text = text[1:]
        try:
            value = _parse(text, scan)
        except json.JSONDecodeError as exc:
            column = min(exc.pos, len(text.rstrip("\r\n"))) + 1
            msg = f"invalid JSON at character {column}: {exc.msg}"
            yield Record(lineno, None, None, clip(text), Reject("invalid_json", msg))
            continue
        except RecursionError:
            msg = "invalid JSON: nested too deeply"
            yield Record(lineno, None, None, clip(text), Reject("invalid_json", msg))
            continue
        yield Record(lineno, None, value, text, None)


# `json.loads`'s own C scanner, called directly: `loads` spends about a microsecond a row on
# checks and regex matches that a line starting with '{' and ending in a newline never needs.
_Scan = Callable[[str, int], tuple[Any, int]]
_SCANNER: _Scan = cast(Any, json.JSONDecoder()).scan_once  # typeshed omits the attribute
_LOADS = json.loads


def _parse(text: str, scan: _Scan) -> Any:
    """Exactly `json.loads(text)`: anything but a clean parse is handed to `loads` itself, so
    every error (and its message and position) is the one `loads` gives."""
    try:
        value, end = scan(text, 0)
    except (StopIteration, ValueError, RecursionError):
        return _LOADS(text)
    if end == len(text) or text[end:] in _TAILS:
        return value
    return _LOADS(text)


_TAILS = frozenset(("\n", "\r\n"))


def _bad_utf8(lineno: int, data: bytes, exc: UnicodeDecodeError) -> Record:
    msg = f"invalid UTF-8 at byte {exc.start + 1} of the line ({data[exc.start : exc.start + 1]!r})"
    raw = clip(data.decode("utf-8", "replace"))
    return Record(lineno, None, None, raw, Reject("invalid_utf8", msg))


def _looks_like_json_lines(path: Path) -> bool:
    """True when the first line is a complete JSON object and another non-blank line follows."""
    try:
        with open_input(path) as stream:
            first = stream.readline(1 << 20)
            try:
                if not isinstance(json.loads(first), dict):
                    return False
            except (ValueError, RecursionError):
                return False
            for line in stream:
                if line.strip():
                    return True
    except (OSError, EOFError, zlib.error):
        return False
    return False
