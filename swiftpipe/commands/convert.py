"""`swiftpipe convert`: dataset files in any supported chat format -> ms-swift JSONL.

Format `text` takes pretraining rows (`{"text": ...}`, or a response alone) and writes each as
one assistant turn, the form `swift pt` reads (see swiftpipe/data/rows/text.py).

Outputs, all written atomically (`<name>.tmp`, then renamed):

* `OUT` - the training rows (with `val_ratio > 0`, the train part only);
* `<stem>.val.jsonl` beside `OUT` (e.g. `train.jsonl` -> `train.val.jsonl`) - the validation
  rows, when `val_ratio > 0` (or `val_output` when given);
* `<stem>.rejects.jsonl` beside `OUT` unless `rejects` is given - one line per rejected row;
* `<stem>.report.json` beside `OUT` unless `report` is given - counts and length statistics.

A JSON Lines row longer than `--max-row-bytes` (default 64 MiB) is rejected (`row_too_large`)
without being read whole; with `--max-length`, a row whose text alone must exceed it is rejected
without being tokenised, so one runaway row costs neither the memory nor the time of its size.

Large JSON Lines inputs (32 MiB and up, plain or .gz) are converted by worker processes, one
per CPU unless `--jobs` says otherwise; the outputs are byte for byte those of `--jobs 1`.

`--format` and `--limit` are given once (for every input) or once per input, in order. The
flags become the same `ConvertOptions` the data stage writes to its options file, checked here
(the stage's come checked from pipeline.yaml), and go to the same `swiftpipe.data.convert`.

Exit codes: 0 written; 1 too many rows rejected (or none left), train/val not written;
2 a user error (raised as `UserError`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from swiftpipe.core.errors import UserError
from swiftpipe.data.convert import convert as convert_files
from swiftpipe.data.options import ConvertOptions, Source
from swiftpipe.data.reading.read import MAX_ROW_BYTES, input_kind
from swiftpipe.data.rows.exact import choose
from swiftpipe.data.rows.formats import FORMATS
from swiftpipe.data.rows.row import PURPOSES, Settings
from swiftpipe.data.rows.systemline import template_fields


def convert(
    inputs: list[Path],
    output: Path,
    *,
    fmt: str | Sequence[str] = "auto",
    limit: str | Sequence[str] = "all",
    rejects: Path | None,
    report: Path | None,
    max_reject_ratio: float,
    dedupe: bool,
    system: str | None,
    val_ratio: float,
    seed: int,
    tokenizer: Path | None,
    max_length: int | None,
    val_output: Path | None = None,
    jobs: int | None = None,
    exact: bool | None = None,
    template: str | None = None,
    model_type: str | None = None,
    purpose: str = "sft",
    multimodal: bool = True,
    strict: bool = False,
    system_template: str | None = None,
    media_root: Path | None = None,
    max_row_bytes: int | None = None,
) -> int:
    """Convert `inputs` into `output` (+ validation, rejects and report files); return the exit code.

    `fmt` and `limit` are one value for all inputs or one per input (`limit`: rows, or `all`).
    `exact`: token lengths from ms-swift's template (None: when it can be loaded; see data/rows/exact.py).
    """
    fmts = per_input("--format", (fmt,) if isinstance(fmt, str) else tuple(fmt), len(inputs))
    limits = per_input("--limit", (limit,) if isinstance(limit, str) else tuple(limit), len(inputs))
    # Given once: the same for every input.
    fmts, rows = fmts * (len(inputs) // len(fmts)), [parse_limit(v) for v in limits]
    rows = rows * (len(inputs) // len(rows))
    settings = Settings(
        system=system,
        dedupe=dedupe,
        val_ratio=val_ratio,
        seed=seed,
        tokenizer=tokenizer,
        max_length=max_length,
        purpose=purpose,
        multimodal=multimodal,
        strict=strict,
        system_template=system_template,
        template=template,
        model_type=model_type,
        media_root=media_root,
        max_row_bytes=MAX_ROW_BYTES if max_row_bytes is None else max_row_bytes,
    )
    options = ConvertOptions(
        sources=tuple(Source(*source) for source in zip(inputs, fmts, rows, strict=True)),
        train=output,
        val=(val_output or sibling(output, ".val.jsonl")) if val_ratio > 0 else None,
        rejects=rejects or sibling(output, ".rejects.jsonl"),
        report=report or sibling(output, ".report.json"),
        settings=settings,
        max_reject_ratio=max_reject_ratio,
        jobs=jobs,
    )
    check_options(options)
    if media_root is not None and not media_root.is_dir():
        raise UserError(f"--media-root: {media_root}: no such directory")
    if exact and tokenizer is None:
        raise UserError("--exact needs --tokenizer MODEL_DIR to count tokens; pass both")
    exact = choose(exact, tokenizer, max_length, template, model_type)
    result = convert_files(replace(options, settings=replace(settings, exact=exact)))
    return 0 if result.failure is None else 1

def sibling(output: Path, suffix: str) -> Path:
    """`train.jsonl` + `.val.jsonl` -> `train.val.jsonl`, in the same folder."""
    return output.with_name(output.name.removesuffix(".jsonl") + suffix)


def per_input(flag: str, values: tuple[str, ...], inputs: int) -> tuple[str, ...]:
    """`values` as given once (for all inputs) or once per input; else a UserError."""
    if len(values) == 1 or len(values) == inputs:
        return values
    raise UserError(f"{flag}: given {len(values)} times for {inputs} inputs; give it once or once per input")


def parse_limit(value: str) -> int | None:
    """`--limit` text: a number of rows (0 or more), or `all` (None: no limit)."""
    if value == "all":
        return None
    if not value.isascii() or not value.isdigit():
        raise UserError(f"--limit {value}: not a number of rows; give a whole number (0 or more) or all")
    return int(value)


def check_options(options: ConvertOptions) -> None:
    """Raise `UserError` for the first option or path that cannot work."""
    settings = options.settings
    if not options.sources:
        raise UserError("convert: no input files given; pass one or more .jsonl, .json or .csv files")
    for source in options.sources:
        _check_input(source.path)
    for source in options.sources:
        if source.format != "auto" and source.format not in FORMATS:
            raise UserError(f"--format {source.format}: unknown format; use auto, {', '.join(FORMATS)}")
    if not options.train.name.endswith(".jsonl"):
        raise UserError(f"-o {options.train}: the output must end in .jsonl (swift reads JSON Lines)")
    if not 0.0 <= settings.val_ratio < 1.0:
        raise UserError(f"--val-ratio {settings.val_ratio:g}: must be at least 0 and below 1")
    if not 0.0 <= options.max_reject_ratio <= 1.0:
        raise UserError(f"--max-reject-ratio {options.max_reject_ratio:g}: must be between 0 and 1")
    _check_settings(settings)
    if options.jobs is not None and options.jobs < 1:
        raise UserError(f"--jobs {options.jobs}: must be at least 1 (1 converts without worker processes)")
    _check_collisions(options)


def _check_settings(settings: Settings) -> None:
    if settings.max_length is not None and settings.max_length <= 0:
        raise UserError(f"--max-length {settings.max_length}: must be a positive number of tokens")
    if settings.max_length is not None and settings.tokenizer is None:
        raise UserError("--max-length needs --tokenizer MODEL_DIR to count tokens; pass both")
    if settings.purpose not in PURPOSES:
        raise UserError(f"--purpose {settings.purpose}: unknown purpose; use {' or '.join(PURPOSES)}")
    if settings.system_template is not None:
        template_fields(settings.system_template, "--system-template")
    if settings.max_row_bytes < 1:
        raise UserError(f"--max-row-bytes {settings.max_row_bytes}: must be a positive number of bytes")


def _check_input(path: Path) -> None:
    if not path.exists():
        raise UserError(f"{path}: no such input file; check the path")
    if path.is_dir():
        raise UserError(f"{path}: is a directory; pass the .jsonl, .json or .csv files inside it")
    input_kind(path)
    if not os.access(path, os.R_OK):
        raise UserError(f"{path}: not readable; check its permissions")


def _check_collisions(options: ConvertOptions) -> None:
    seen: dict[Path, str] = {s.path.resolve(): f"input {s.path}" for s in options.sources}
    named = [
        ("-o", options.train),
        ("validation output", options.val),
        ("--rejects", options.rejects),
        ("--report", options.report),
    ]
    for flag, path in named:
        if path is None:
            continue
        key = path.resolve()
        if key in seen:
            raise UserError(f"{flag} {path}: same file as {seen[key]}; choose another output path")
        seen[key] = f"{flag} {path}"
