"""`swiftpipe convert`: dataset files in any supported chat format -> ms-swift JSONL.

Outputs, all written atomically (`<name>.tmp`, then renamed):

* `OUT` - the training rows (with `val_ratio > 0`, the train part only);
* `<stem>.val.jsonl` beside `OUT` (e.g. `train.jsonl` -> `train.val.jsonl`) - the validation
  rows, when `val_ratio > 0` (or `val_output` when given);
* `<stem>.rejects.jsonl` beside `OUT` unless `rejects` is given - one line per rejected row;
* `<stem>.report.json` beside `OUT` unless `report` is given - counts and length statistics.

Large JSON Lines inputs (32 MiB and up, plain or .gz) are converted by worker processes, one
per CPU unless `--jobs` says otherwise; the outputs are byte for byte those of `--jobs 1`.

Exit codes: 0 written; 1 too many rows rejected (or none left), train/val not written;
2 a user error (raised as `UserError`).
"""

from __future__ import annotations

import os
from pathlib import Path

from swiftpipe import console
from swiftpipe.data.convert import ConvertOptions, run
from swiftpipe.data.formats import FORMATS
from swiftpipe.data.read import input_kind
from swiftpipe.errors import UserError


def convert(
    inputs: list[Path],
    output: Path,
    *,
    fmt: str = "auto",
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
) -> int:
    """Convert `inputs` into `output` (+ validation, rejects and report files); return the exit code."""
    options = ConvertOptions(
        inputs=tuple(inputs),
        train=output,
        val=(val_output or sibling(output, ".val.jsonl")) if val_ratio > 0 else None,
        rejects=rejects or sibling(output, ".rejects.jsonl"),
        report=report or sibling(output, ".report.json"),
        fmt=fmt,
        max_reject_ratio=max_reject_ratio,
        dedupe=dedupe,
        system=system,
        val_ratio=val_ratio,
        seed=seed,
        tokenizer=tokenizer,
        max_length=max_length,
        jobs=jobs,
    )
    check_options(options)
    console.step(f"convert {len(inputs)} file(s) -> {output}")
    result = run(options)
    if result.failure is not None:
        console.failure(result.failure)
        return 1
    val = f", {result.val} validation rows to {result.val_path}" if result.val_path else ""
    console.success(f"wrote {result.train} rows to {output}{val}; {result.rejected} rejected")
    return 0


def sibling(output: Path, suffix: str) -> Path:
    """`train.jsonl` + `.val.jsonl` -> `train.val.jsonl`, in the same folder."""
    return output.with_name(output.name.removesuffix(".jsonl") + suffix)


def check_options(options: ConvertOptions) -> None:
    """Raise `UserError` for the first option or path that cannot work."""
    if not options.inputs:
        raise UserError("convert: no input files given; pass one or more .jsonl or .json files")
    for path in options.inputs:
        _check_input(path)
    if options.fmt != "auto" and options.fmt not in FORMATS:
        raise UserError(f"--format {options.fmt}: unknown format; use auto, {', '.join(FORMATS)}")
    if not options.train.name.endswith(".jsonl"):
        raise UserError(f"-o {options.train}: the output must end in .jsonl (swift reads JSON Lines)")
    if not 0.0 <= options.val_ratio < 1.0:
        raise UserError(f"--val-ratio {options.val_ratio:g}: must be at least 0 and below 1")
    if not 0.0 <= options.max_reject_ratio <= 1.0:
        raise UserError(f"--max-reject-ratio {options.max_reject_ratio:g}: must be between 0 and 1")
    if options.max_length is not None and options.max_length <= 0:
        raise UserError(f"--max-length {options.max_length}: must be a positive number of tokens")
    if options.max_length is not None and options.tokenizer is None:
        raise UserError("--max-length needs --tokenizer MODEL_DIR to count tokens; pass both")
    if options.jobs is not None and options.jobs < 1:
        raise UserError(f"--jobs {options.jobs}: must be at least 1 (1 converts without worker processes)")
    _check_collisions(options)


def _check_input(path: Path) -> None:
    if not path.exists():
        raise UserError(f"{path}: no such input file; check the path")
    if path.is_dir():
        raise UserError(f"{path}: is a directory; pass the .jsonl or .json files inside it")
    input_kind(path)
    if not os.access(path, os.R_OK):
        raise UserError(f"{path}: not readable; check its permissions")


def _check_collisions(options: ConvertOptions) -> None:
    seen: dict[Path, str] = {p.resolve(): f"input {p}" for p in options.inputs}
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
