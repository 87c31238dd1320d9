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
from typing import IO, Any, NamedTuple, Protocol, cast

import orjson

from swiftpipe.core.errors import UserError
from swiftpipe.data.reading.csvread import csv_records
from swiftpipe.data.reading.jsonarray import JsonArrayReader
from swiftpipe.data.reject import RAW_LIMIT, Reject, clip

KINDS = ("jsonl", "json", "csv")
# The largest row read (bytes of one line of JSON Lines); a longer one is rejected unparsed, so
# one runaway line cannot take the memory of a whole file. Real rows, long documents and
# base64 images included, stay well below it.
MAX_ROW_BYTES = 64 << 20


class Record(NamedTuple):
    """One row as read: 1-based line, 0-based array element (None for JSON Lines), value (None
    when rejected), source text, the reject or None, and whether orjson parsed it."""

    line: int
    item: int | None
    value: Any
    raw: str
    reject: Reject | None
    # Parsed by orjson: strings and structure as `json.loads` gives them, numbers maybe not
    # (see `exact_value`).
    quick: bool = False


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


def read_records(path: Path, max_row_bytes: int = MAX_ROW_BYTES) -> Generator[Record, None, None]:
    """Yield every row of `path`; errors that make the whole file unreadable raise UserError.
    A JSON Lines row longer than `max_row_bytes` is rejected unread."""
    kind = content_kind(path)
    with open_input(path) as stream:
        try:
            if kind == "jsonl":
                yield from jsonl_records(stream, max_bytes=max_row_bytes)
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


class Lines(Protocol):
    """What `jsonl_records` reads: a binary file, or a part of one."""

    def readline(self, size: int = -1, /) -> bytes: ...


def jsonl_records(stream: Lines, first: int = 1, max_bytes: int = MAX_ROW_BYTES) -> Iterator[Record]:
    """The rows of a JSON Lines stream whose first line is line `first` of its file.

    Each line is parsed by orjson first; a line it refuses (blank, a byte-order mark, invalid
    UTF-8 or JSON, NaN, a lone surrogate, deep nesting) takes the standard library's path,
    which decides it exactly as before. A line longer than `max_bytes` is rejected unread.
    """
    loads, refused, new = orjson.loads, orjson.JSONDecodeError, tuple.__new__
    readline, most = stream.readline, max_bytes + 1
    lineno = first - 1
    while data := readline(most):
        lineno += 1
        if len(data) > max_bytes and data[-1:] != b"\n":  # the line goes on past the limit
            yield _oversized(lineno, data, _skip_line(readline), max_bytes)
            continue
        try:
            value = loads(data)
        except refused:
            record = _stdlib_record(lineno, data)
            if record is not None:
                yield record
            continue
        # tuple.__new__ directly: the named tuple's own __new__ is a Python function, which
        # costs more than the parse of a short row.
        yield new(Record, (lineno, None, value, data.decode("utf-8"), None, True))


def _skip_line(readline: Callable[[int], bytes]) -> int:
    """Read on to the end of the current line, a block at a time; the bytes skipped, not
    counting the line ending."""
    skipped = 0
    while block := readline(1 << 20):
        skipped += len(block)
        if block.endswith(b"\n"):
            return skipped - (2 if block.endswith(b"\r\n") else 1)
    return skipped


def _oversized(lineno: int, head: bytes, rest: int, max_bytes: int) -> Record:
    size = len(head) + rest
    msg = f"the row is {size:,} bytes, above the limit of {max_bytes:,} (--max-row-bytes)"
    raw = head[:RAW_LIMIT].decode("utf-8", "replace") + f"... ({size:,} bytes, cut)"
    return Record(lineno, None, None, raw, Reject("row_too_large", msg))


def _stdlib_record(lineno: int, data: bytes) -> Record | None:
    """The row as `json.loads` reads it, or its reject; None for a blank line."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _bad_utf8(lineno, data, exc)
    if text.isspace() or not text:
        return None
    if lineno == 1 and text.startswith("\ufeff"):
        text = text[1:]
    try:
        value = _parse(text, _SCANNER)
    except json.JSONDecodeError as exc:
        column = min(exc.pos, len(text.rstrip("\r\n"))) + 1
        msg = f"invalid JSON at character {column}: {exc.msg}"
        return Record(lineno, None, None, clip(text), Reject("invalid_json", msg))
    except RecursionError:
        return Record(lineno, None, None, clip(text), Reject("invalid_json", "invalid JSON: nested too deeply"))
    return Record(lineno, None, value, text, None)


def exact_value(record: Record) -> Any:
    """The record's value exactly as `json.loads` gives it.

    orjson reads integers beyond 64 bits as floats, where the standard library keeps them
    exact; its other values are the same. So a quick record's strings and structure can be
    trusted, and anything that writes its numbers re-reads the row here.
    """
    if not record.quick:
        return record.value
    return _parse(record.raw, _SCANNER)


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
