"""The streaming conversion: read -> normalise -> check -> split -> write, in input order.

Rows are converted in runs (rows/transform.py), serially or, for large JSON Lines files, in
worker processes (parallel.py); either way output/apply.py writes the results in input order,
so the outputs do not depend on which path ran.

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

from swiftpipe.core import console
from swiftpipe.core.errors import UserError
from swiftpipe.core.fsio import atomic_write_bytes
from swiftpipe.data.options import ConvertOptions, Failure, Outcome, Source
from swiftpipe.data.output.apply import Applier
from swiftpipe.data.output.progress import Progress
from swiftpipe.data.output.sink import AtomicFile
from swiftpipe.data.output.stats import SourceStats, Stats, build, print_table
from swiftpipe.data.parallel import Workers, default_jobs
from swiftpipe.data.reading.read import Record, read_records
from swiftpipe.data.rows.formats import FORMATS, detect
from swiftpipe.data.rows.transform import BlockConverter, BlockResult

PEEK = 100  # rows looked at to detect a file's format
# Rows converted (and tokenised) together on the serial path: one progress check each.
SERIAL_ROWS = 4096


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

    def outcome(self) -> Outcome:
        """What the result file says: the outputs, the counts, and a data failure's message."""
        outputs = {
            "train": str(self.train_path) if self.train_path else None,
            "val": str(self.val_path) if self.val_path else None,
            "rejects": str(self.rejects_path),
            "report": str(self.report_path),
        }
        metrics = {"rows_in": self.rows_in, "train": self.train, "val": self.val, "rejected": self.rejected}
        return Outcome(outputs, metrics, Failure("data", self.failure) if self.failure else None)


def convert(options: ConvertOptions) -> ConvertResult:
    """`run`, announced on the terminal and ended with one line: what was written, or why not."""
    console.step(f"convert {len(options.sources)} file(s) -> {options.train}")
    result = run(options)
    if result.failure is not None:
        console.failure(result.failure)
    else:
        val = f", {result.val} validation rows to {result.val_path}" if result.val_path else ""
        console.success(f"wrote {result.train} rows to {options.train}{val}; {result.rejected} rejected")
    return result


def run(options: ConvertOptions) -> ConvertResult:
    """Convert `options.sources`; write outputs atomically; print the summary table."""
    stats = Stats()
    with ExitStack() as stack:
        train = stack.enter_context(AtomicFile(options.train))
        val = stack.enter_context(AtomicFile(options.val)) if options.val else None
        rejects = stack.enter_context(AtomicFile(options.rejects))
        jobs = options.jobs or default_jobs()
        workers = stack.enter_context(Workers(options.settings, jobs, options.train.parent))
        files = _Files(options, stats, Applier(stats, train, val, rejects, options.settings.dedupe), workers)
        for source in options.sources:
            files.convert_file(source)
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
    settings = options.settings
    report = build(
        stats, limit=options.max_reject_ratio, max_length=settings.max_length, outputs=outputs, exact=settings.exact
    )
    atomic_write_bytes(options.report, (json.dumps(report, ensure_ascii=False, indent=2) + "\n").encode())
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


class _Files:
    """Converts one input file after another into the shared outputs."""

    def __init__(self, options: ConvertOptions, stats: Stats, applier: Applier, workers: Workers) -> None:
        self._stats = stats
        self._applier = applier
        self._workers = workers
        self._max_row_bytes = options.settings.max_row_bytes
        # Made here, before any input is read, so a bad --tokenizer fails at once.
        self._serial = BlockConverter(options.settings)

    def convert_file(self, source: Source) -> None:
        path, limit = source.path, source.limit
        counts = SourceStats(str(path))
        self._stats.sources.append(counts)
        reader = read_records(path, self._max_row_bytes)
        records: Iterator[Record] = reader if limit is None else islice(reader, limit)
        fmt, records = _format(path, source.format, records)
        counts.format = fmt
        progress = Progress(f"convert {path.name}")

        def apply(block: BlockResult, lines_before: int = 0) -> None:
            self._applier.apply(counts, block, lines_before)
            progress.maybe_report(counts.rows)

        if limit is None and fmt != "none" and self._workers.wants(path):
            reader.close()  # the workers read the file afresh, in blocks
            self._workers.convert(path, fmt, apply)
            return
        while (block := self._serial.convert(islice(records, SERIAL_ROWS), fmt, path.parent)).rows:
            apply(block)


def _format(path: Path, fmt: str, records: Iterator[Record]) -> tuple[str, Iterator[Record]]:
    """The file's format (detected from its first rows for "auto"), and all of its records."""
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
    if record is None:
        where = f"none of the first {PEEK} rows is a JSON object"
    else:
        keys = ", ".join(sorted(record.value)[:8]) or "no keys"
        where = f"line {record.line} has keys {keys}"
    return f"{path}: cannot detect the format ({where}); pass --format {'|'.join(FORMATS)}"
