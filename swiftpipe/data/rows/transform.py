"""Convert a run of rows into the lines of the train, validation and rejects files.

This is all the per-row work, and it depends on nothing outside the run of rows, so the same
function serves the serial path (runs of rows from any reader) and the worker processes
(blocks of JSON Lines): both hand a `BlockResult` to `output.apply.Applier`, which writes it, so the
two paths cannot drift apart. The one decision that needs every earlier row, whether a row is
a duplicate, is left to the applier: a block lists the rows that reached the dedupe step as
`Candidate`s with their content hash, in input order.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from swiftpipe.data.reading.read import Record, exact_value
from swiftpipe.data.reject import NUL_MESSAGE, Reject, clip, holds_nul
from swiftpipe.data.rows.dedupe import content_key
from swiftpipe.data.rows.encode import encode_row
from swiftpipe.data.rows.exact import length_counter
from swiftpipe.data.rows.fastpath import SHAPES, FastPath
from swiftpipe.data.rows.formats import NORMALISERS, TEXT_FORMATS
from swiftpipe.data.rows.messages import Message
from swiftpipe.data.rows.row import PLACEHOLDER, RowConverter, Settings
from swiftpipe.data.rows.split import Splitter

TRAIN, VAL, REJECTED = 0, 1, 2
_Pending = tuple[Record, bytes, list[Message], "str | None", int]


class RejectLine(NamedTuple):
    """A rejected row: what its line in the rejects file and the report's examples hold.
    `line` counts from the block's first line (see `BlockResult.first_line`)."""

    line: int
    item: int | None
    reason: str
    message: str
    row: str  # the clipped source text


class Candidate(NamedTuple):
    """A row that reached the dedupe step: its hash, and where it went if it is not a duplicate
    (`kind` TRAIN/VAL at `position` in that list, or REJECTED), with its statistics."""

    key: int
    line: int
    item: int | None
    row: str  # the clipped source text, for the reject line if it is a duplicate
    kind: int
    position: int
    turns: int
    chars: int
    tokens: int  # -1 when not counted


@dataclass
class BlockResult:
    """What a run of rows became, in input order within each list.

    A worker does not know how many lines precede its block, so its line numbers count from
    `first_line` (1 for the file's first block, else 2, so a byte-order mark is stripped only
    where the file starts) and `lines` says how many lines the block holds; the applier adds
    the lines before it. A worker may also leave its output lines in a `spool` file, holding
    `train_bytes` of train lines then `val_bytes` of validation lines (see data/parallel.py).
    """

    rows: int = 0
    first_line: int = 1
    lines: int = 0
    spool: str | None = None
    train_bytes: int = 0
    val_bytes: int = 0
    train: list[bytes] = field(default_factory=list)
    val: list[bytes] = field(default_factory=list)
    train_rows: int = 0
    val_rows: int = 0
    rejects: list[RejectLine] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    turns: Counter[int] = field(default_factory=Counter)
    chars: Counter[int] = field(default_factory=Counter)
    tokens: Counter[int] = field(default_factory=Counter)
    placeholders: int = 0  # rows written that hold a {{placeholder}}


def _with_extras(tools: str | None, extras: dict[str, Any]) -> str | None:
    """What the dedupe hash covers beside the turns: tools, and the rejected answer, label, media."""
    if not extras:
        return tools
    return f"{tools or ''}\x1d{json.dumps(extras, ensure_ascii=False, sort_keys=True)}"


def reject_line(record: Record, reject: Reject, row: str | None = None) -> RejectLine:
    """The reject for `record`; `row` its source text when already clipped."""
    return RejectLine(record.line, record.item, reject.reason, reject.message, clip(record.raw) if row is None else row)


def reject_data(source: str, reject: RejectLine, line_offset: int) -> bytes:
    """The rejects-file line for `reject`, a row of `source`."""
    entry: dict[str, Any] = {"source": source, "line": reject.line + line_offset}
    if reject.item is not None:
        entry["index"] = reject.item
    entry.update(reason=reject.reason, message=reject.message, row=reject.row)
    return (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8", "replace")


def order(line: RejectLine | Candidate) -> tuple[int, int]:
    """Input order: line, then element index (JSON arrays can hold many rows on one line)."""
    return line.line, -1 if line.item is None else line.item


class BlockConverter:
    """`convert(records, fmt)` -> `BlockResult`; holds only run-wide, read-only state."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._is_val = Splitter(settings.val_ratio, settings.seed).is_val if settings.val_ratio > 0 else None
        self._counter = length_counter(settings) if settings.tokenizer else None
        self._rows = RowConverter(settings)
        self._base: Path | None = None

    def convert(self, records: Iterable[Record], fmt: str, base: Path | None = None) -> BlockResult:
        """Convert `records`, rows of one file in format `fmt`; `base`: the file's folder, which
        relative media paths are read from."""
        self._base = base
        return self._convert(records, fmt)

    def _convert(self, records: Iterable[Record], fmt: str) -> BlockResult:
        out = BlockResult()
        normalise = NORMALISERS.get(fmt, NORMALISERS["messages"])
        text = fmt in TEXT_FORMATS
        fast = self._fast_path(fmt)
        pending: list[_Pending] = []
        is_val, train, val = self._is_val, out.train, out.val
        # The shortcut's turns and characters, counted once at the end (C-level counting).
        fast_turns: list[int] = []
        fast_chars: list[int] = []
        rows = 0
        for record in records:
            rows += 1
            row = record.value
            # A NUL reaches a JSON string only through a \u0000 escape (CSV rows: reading/csvread.py).
            # The backslash is looked for first: a one-character search is several times faster.
            raw = record.raw
            if "\\" in raw and "\\u0000" in raw and record.reject is None and holds_nul(raw, row):
                record, row = record._replace(value=None, reject=Reject("nul_byte", NUL_MESSAGE)), None
            if fast is not None and type(row) is dict and len(row) == 1:  # noqa: SIM102 (the walrus)
                if (got := fast(row, raw)) is not None:
                    line = got[0]
                    fast_turns.append(got[1])
                    fast_chars.append(got[2])
                    (val if is_val is not None and is_val(line) else train).append(line)
                    continue
            if record.reject is not None:
                out.rejects.append(reject_line(record, record.reject))
            else:
                self._general(out, record, normalise, text, pending)
        if pending:
            self._count_tokens(out, pending)
        out.rows = rows
        out.turns.update(fast_turns)
        out.chars.update(fast_chars)
        out.train_rows, out.val_rows = len(train), len(val)
        return out

    def _fast_path(self, fmt: str) -> Callable[[dict[str, Any], str], tuple[bytes, int, int] | None] | None:
        # The shortcut knows nothing of hashes and tokens; with those on, every row goes the
        # general way (they cost far more than the shortcut saves anyway).
        s = self._settings
        if fmt not in SHAPES or s.dedupe or self._counter is not None:
            return None
        if s.system is not None and type(s.system) is not str:
            return None
        if s.purpose != "sft" or s.strict or s.system_template is not None:
            return None  # every row needs the general path's checks
        return FastPath(fmt, s.system).line

    def _general(
        self,
        out: BlockResult,
        record: Record,
        normalise: Callable[[dict[str, Any]], list[Message]],
        text: bool,
        pending: list[_Pending],
    ) -> None:
        try:
            messages, tools, extras = self._rows.convert(exact_value(record), normalise, text, self._base)
        except Reject as reject:
            out.rejects.append(reject_line(record, reject))
            return
        if extras.pop(PLACEHOLDER, False):
            out.placeholders += 1
        key = content_key(messages, _with_extras(tools, extras)) if self._settings.dedupe else -1
        try:
            line = encode_row(messages, tools, extras).encode()
        except UnicodeEncodeError:
            bad = Reject("invalid_utf8", "a string holds an unpaired surrogate (a \\ud800-\\udfff escape)")
            self._reject_candidate(out, record, bad, key)
            return
        if self._counter is not None:
            pending.append((record, line, messages, tools, key))
        else:
            self._emit(out, record, line, messages, key, -1)

    def _emit(
        self, out: BlockResult, record: Record, line: bytes, messages: list[Message], key: int, tokens: int
    ) -> None:
        n, c = len(messages), sum([len(m["content"]) for m in messages])
        out.turns[n] += 1
        out.chars[c] += 1
        kind, lines = (VAL, out.val) if self._is_val is not None and self._is_val(line) else (TRAIN, out.train)
        if key != -1:
            candidate = Candidate(key, record.line, record.item, clip(record.raw), kind, len(lines), n, c, tokens)
            out.candidates.append(candidate)
        lines.append(line)

    def _length_words(self, counted: int) -> str:
        """A row's length for its reject message; `counted` < 0: not counted (`Counter.count`)."""
        assert self._counter is not None
        if counted < 0:
            return f"at least {-counted} tokens (too long to tokenise)"
        if self._counter.exact:
            return f"{counted} tokens (ms-swift's template)"
        return f"about {counted} tokens (estimate)"

    def _reject_candidate(self, out: BlockResult, record: Record, reject: Reject, key: int) -> None:
        row = clip(record.raw)
        out.rejects.append(reject_line(record, reject, row))
        if key != -1:
            out.candidates.append(Candidate(key, record.line, record.item, row, REJECTED, -1, 0, 0, -1))

    def _count_tokens(self, out: BlockResult, pending: list[_Pending]) -> None:
        """Tokenise the rows held back for length checks (in one batch), then place them."""
        assert self._counter is not None
        lengths = self._counter.count([(p[2], p[3]) for p in pending])
        limit = self._settings.max_length
        for (record, line, messages, _, key), counted in zip(pending, lengths, strict=True):
            length = abs(counted)
            out.tokens[length] += 1
            if limit is not None and length > limit:
                reject = Reject("too_long", f"{self._length_words(counted)}, above max_length {limit}")
                self._reject_candidate(out, record, reject, key)
                if key != -1:  # a duplicate of it must also take back its token count
                    out.candidates[-1] = out.candidates[-1]._replace(tokens=length)
            else:
                self._emit(out, record, line, messages, key, length)
        # Rows held back are placed after later rows; put both lists back in input order.
        out.rejects.sort(key=order)
        out.candidates.sort(key=order)
