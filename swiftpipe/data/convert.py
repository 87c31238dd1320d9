"""The streaming conversion: read -> normalise -> check -> split -> write, one row at a time.

Every row read ends in exactly one place: the train file, the validation file, or the rejects
file with a reason. `run` checks that invariant (rows in = train + val + rejected) and raises
on a violation, which would be a bug here, not in the data.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import Any

from swiftpipe.data.dedupe import Deduper
from swiftpipe.data.encode import encode_row
from swiftpipe.data.formats import NORMALISERS, detect, normalise_tools
from swiftpipe.data.messages import Message, type_name, with_system
from swiftpipe.data.progress import CHECK_EVERY, Progress
from swiftpipe.data.read import Record, read_records
from swiftpipe.data.reject import Reject, clip
from swiftpipe.data.report import EXAMPLES, SourceStats, Stats, build, print_table
from swiftpipe.data.sink import AtomicFile, write_atomic
from swiftpipe.data.split import Splitter
from swiftpipe.data.tokens import TokenCounter
from swiftpipe.data.validate import check_turns
from swiftpipe.errors import UserError

PEEK = 100  # rows looked at to detect a file's format
BATCH = 1024  # rows tokenised together


@dataclass(frozen=True)
class ConvertOptions:
    """Everything one conversion needs; paths are used as given."""

    inputs: tuple[Path, ...]
    train: Path
    val: Path | None
    rejects: Path
    report: Path
    fmt: str = "auto"
    max_reject_ratio: float = 0.05
    dedupe: bool = False
    system: str | None = None
    val_ratio: float = 0.0
    seed: int = 42
    tokenizer: Path | None = None
    max_length: int | None = None
    # Per input, in the order of `inputs` (empty: `fmt` for all, no limit): the data stage's
    # per-source `format` and `limit` (read only the first N rows of that file).
    formats: tuple[str, ...] = ()
    limits: tuple[int | None, ...] = ()


@dataclass(frozen=True)
class ConvertResult:
    """What happened. `failure` is None when the train file was written, else the reason."""

    rows_in: int
    train: int
    val: int
    rejected: int
    failure: str | None
    train_path: Path | None
    val_path: Path | None
    rejects_path: Path
    report_path: Path
    report: dict[str, Any]


def run(options: ConvertOptions) -> ConvertResult:
    """Convert `options.inputs`; write outputs atomically; print the summary table."""
    stats = Stats()
    with ExitStack() as stack:
        train = stack.enter_context(AtomicFile(options.train))
        val = stack.enter_context(AtomicFile(options.val)) if options.val else None
        rejects = stack.enter_context(AtomicFile(options.rejects))
        converter = _Converter(options, stats, train, val, rejects)
        for i, path in enumerate(options.inputs):
            fmt = options.formats[i] if options.formats else options.fmt
            limit = options.limits[i] if options.limits else None
            converter.convert_file(path, fmt, limit)
        converter.flush()
        if not stats.invariant_holds():
            raise RuntimeError(
                f"row accounting is off: {stats.rows_in} in, {stats.train} train, "
                f"{stats.val} val, {stats.rejected} rejected"
            )
        failure = _failure(stats, options)
        for sink in (train, val):
            if sink is not None:
                sink.discard() if failure else sink.commit()
        rejects.commit()
    written = failure is None
    outputs = {
        "train": str(options.train) if written else None,
        "val": str(options.val) if written and options.val else None,
        "rejects": str(options.rejects),
        "report": str(options.report),
    }
    report = build(stats, limit=options.max_reject_ratio, max_length=options.max_length, outputs=outputs)
    write_atomic(options.report, (json.dumps(report, ensure_ascii=False, indent=2) + "\n").encode())
    print_table(report)
    return ConvertResult(
        stats.rows_in,
        stats.train,
        stats.val,
        stats.rejected,
        failure,
        options.train if written else None,
        options.val if written else None,
        options.rejects,
        options.report,
        report,
    )


def _failure(stats: Stats, options: ConvertOptions) -> str | None:
    if stats.train + stats.val == 0:
        return (
            f"no rows left to train on: {stats.rejected} of {stats.rows_in} rows rejected; "
            f"reasons and rows in {options.rejects}"
        )
    ratio = stats.rejected / stats.rows_in
    if ratio > options.max_reject_ratio:
        return (
            f"{stats.rejected} of {stats.rows_in} rows rejected ({ratio:.1%}), above "
            f"max_reject_ratio {options.max_reject_ratio:g}; reasons and rows in "
            f"{options.rejects}"
        )
    return None


class _Converter:
    def __init__(
        self,
        options: ConvertOptions,
        stats: Stats,
        train: AtomicFile,
        val: AtomicFile | None,
        rejects: AtomicFile,
    ) -> None:
        self._opts = options
        self._stats = stats
        self._train, self._val, self._rejects = train, val, rejects
        self._splitter = Splitter(options.val_ratio, options.seed)
        self._deduper = Deduper() if options.dedupe else None
        self._counter = TokenCounter(options.tokenizer) if options.tokenizer else None
        self._pending: list[tuple[SourceStats, Record, bytes, list[Message], str | None]] = []

    def convert_file(self, path: Path, fmt: str, limit: int | None) -> None:
        source = SourceStats(str(path))
        self._stats.sources.append(source)
        records: Iterator[Record] = read_records(path)
        if limit is not None:
            records = islice(records, limit)
        fmt, records = self._format(path, fmt, records)
        source.format = fmt
        progress = Progress(f"convert {path.name}")
        normalise = NORMALISERS.get(fmt, NORMALISERS["messages"])
        default_system = self._opts.system
        for record in records:
            source.rows += 1
            if not source.rows % CHECK_EVERY:
                progress.maybe_report(source.rows)
            if record.reject is not None:
                self._reject(source, record, record.reject)
                continue
            row = record.value
            try:
                if type(row) is not dict:
                    raise Reject("not_an_object", f"the row is {type_name(row)}, expected an object")
                messages = normalise(row)
                with_system(messages, row.get("system", default_system), row.get("reasoning_language"))
                check_turns(messages)
                tools = normalise_tools(row) if "tools" in row else None
                line = self._encode(messages, tools)
            except Reject as reject:
                self._reject(source, record, reject)
                continue
            if self._counter is None:
                self._emit(source, line, messages)
            else:
                self._pending.append((source, record, line, messages, tools))
                if len(self._pending) >= BATCH:
                    self.flush()

    def _encode(self, messages: list[Message], tools: str | None) -> bytes:
        if self._deduper is not None and not self._deduper.first_seen(messages, tools):
            raise Reject("duplicate", "same conversation as an earlier row (whitespace ignored)")
        try:
            return encode_row(messages, tools).encode()
        except UnicodeEncodeError:
            raise Reject("invalid_utf8", "a string holds an unpaired surrogate (a \\ud800-\\udfff escape)") from None

    def flush(self) -> None:
        """Tokenise the rows held back for length checks, then write or reject them."""
        if not self._pending or self._counter is None:
            return
        pending, self._pending = self._pending, []
        lengths = self._counter.count([(p[3], p[4]) for p in pending])
        limit = self._opts.max_length
        for (source, record, line, messages, _), length in zip(pending, lengths, strict=True):
            self._stats.tokens[length] += 1
            if limit is not None and length > limit:
                self._reject(
                    source,
                    record,
                    Reject("too_long", f"about {length} tokens (estimate), above max_length {limit}"),
                )
            else:
                self._emit(source, line, messages)

    def _emit(self, source: SourceStats, line: bytes, messages: list[Message]) -> None:
        stats = self._stats
        stats.turns[len(messages)] += 1
        stats.chars[sum([len(m["content"]) for m in messages])] += 1
        if self._val is not None and self._splitter.is_val(line):
            self._val.write(line)
            source.val += 1
        else:
            self._train.write(line)
            source.train += 1

    def _reject(self, source: SourceStats, record: Record, reject: Reject) -> None:
        source.rejected += 1
        self._stats.reasons[reject.reason] += 1
        entry: dict[str, Any] = {"source": source.path, "line": record.line}
        if record.item is not None:
            entry["index"] = record.item
        entry.update(reason=reject.reason, message=reject.message)
        if len(self._stats.examples) < EXAMPLES:
            self._stats.examples.append(dict(entry))
        entry["row"] = clip(record.raw)
        self._rejects.write((json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8", "replace"))

    def _format(self, path: Path, fmt: str, records: Iterator[Record]) -> tuple[str, Iterator[Record]]:
        if fmt != "auto":
            return fmt, records
        head: list[Record] = []
        undetected: Record | None = None
        for record in records:
            head.append(record)
            if type(record.value) is dict:
                found = detect(record.value)
                if found is not None:
                    return found, chain(head, records)
                undetected = undetected or record
            if len(head) >= PEEK:
                break
        if undetected is not None or len(head) >= PEEK:
            raise UserError(_undetected_message(path, undetected))
        return "none", iter(head)


def _undetected_message(path: Path, record: Record | None) -> str:
    from swiftpipe.data.formats import FORMATS

    if record is None:
        where = f"none of the first {PEEK} rows is a JSON object"
    else:
        keys = ", ".join(sorted(record.value)[:8]) or "no keys"
        where = f"line {record.line} has keys {keys}"
    return f"{path}: cannot detect the format ({where}); pass --format {'|'.join(FORMATS)}"
