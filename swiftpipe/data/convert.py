"""The streaming conversion: read -> normalise -> check -> split -> write, in input order.

Rows are converted in runs (`block.py`), serially or, for large JSON Lines files, in worker
processes (`parallel.py`); either way `apply.py` writes the results in input order, so the
outputs do not depend on which path ran.

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

from swiftpipe.core.errors import UserError
from swiftpipe.data.apply import Applier
from swiftpipe.data.formats import detect
from swiftpipe.data.parallel import Workers, default_jobs
from swiftpipe.data.progress import Progress
from swiftpipe.data.read import MAX_ROW_BYTES, Record, read_records
from swiftpipe.data.row import Settings
from swiftpipe.data.sink import AtomicFile, write_atomic
from swiftpipe.data.stats import SourceStats, Stats, build, print_table
from swiftpipe.data.transform import BlockConverter, BlockResult

PEEK = 100  # rows looked at to detect a file's format
# Rows converted (and tokenised) together on the serial path: one progress check each.
SERIAL_ROWS = 4096


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
    # Worker processes for large JSON Lines files; None: one per CPU; 1: none (all serial).
    jobs: int | None = None
    purpose: str = "sft"  # sft | rlhf: what the rows are for (row.py)
    multimodal: bool = True  # False: reject rows with images/audios/videos (a text-only model)
    strict: bool = False  # reject rows holding a {{placeholder}}
    system_template: str | None = None  # e.g. "reasoning language: {reasoning_language}"
    # Token lengths from ms-swift's template for `tokenizer` (exact.py); False: the estimate.
    exact: bool = False
    template: str | None = None
    model_type: str | None = None
    media_root: Path | None = None  # media paths must lie in it (None: in each input file's folder)
    max_row_bytes: int = MAX_ROW_BYTES  # a longer JSON Lines row is rejected unread


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
        jobs = options.jobs or default_jobs()
        workers = stack.enter_context(Workers(_settings(options), jobs, options.train.parent))
        files = _Files(options, stats, Applier(stats, train, val, rejects, options.dedupe), workers)
        for i, path in enumerate(options.inputs):
            fmt = options.formats[i] if options.formats else options.fmt
            limit = options.limits[i] if options.limits else None
            files.convert_file(path, fmt, limit)
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
    report = build(
        stats, limit=options.max_reject_ratio, max_length=options.max_length, outputs=outputs, exact=options.exact
    )
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


class _Files:
    """Converts one input file after another into the shared outputs."""

    def __init__(self, options: ConvertOptions, stats: Stats, applier: Applier, workers: Workers) -> None:
        self._stats = stats
        self._applier = applier
        self._workers = workers
        self._max_row_bytes = options.max_row_bytes
        # Made here, before any input is read, so a bad --tokenizer fails at once.
        self._serial = BlockConverter(_settings(options))

    def convert_file(self, path: Path, fmt: str, limit: int | None) -> None:
        source = SourceStats(str(path))
        self._stats.sources.append(source)
        reader = read_records(path, self._max_row_bytes)
        records: Iterator[Record] = reader if limit is None else islice(reader, limit)
        fmt, records = _format(path, fmt, records)
        source.format = fmt
        progress = Progress(f"convert {path.name}")

        def apply(block: BlockResult, lines_before: int = 0) -> None:
            self._applier.apply(source, block, lines_before)
            progress.maybe_report(source.rows)

        if limit is None and fmt != "none" and self._workers.wants(path):
            reader.close()  # the workers read the file afresh, in blocks
            self._workers.convert(path, fmt, apply)
            return
        while (block := self._serial.convert(islice(records, SERIAL_ROWS), fmt, path.parent)).rows:
            apply(block)


def _settings(options: ConvertOptions) -> Settings:
    return Settings(
        system=options.system,
        dedupe=options.dedupe,
        val_ratio=options.val_ratio,
        seed=options.seed,
        tokenizer=options.tokenizer,
        max_length=options.max_length,
        purpose=options.purpose,
        multimodal=options.multimodal,
        strict=options.strict,
        system_template=options.system_template,
        exact=options.exact,
        template=options.template,
        model_type=options.model_type,
        media_root=options.media_root,
        max_row_bytes=options.max_row_bytes,
    )


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
    from swiftpipe.data.formats import FORMATS

    if record is None:
        where = f"none of the first {PEEK} rows is a JSON object"
    else:
        keys = ", ".join(sorted(record.value)[:8]) or "no keys"
        where = f"line {record.line} has keys {keys}"
    return f"{path}: cannot detect the format ({where}); pass --format {'|'.join(FORMATS)}"
