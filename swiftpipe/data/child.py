"""The data stage's child: `python -m swiftpipe.data OPTIONS.json`.

It reads the options file the stage wrote (`ConvertOptions`, options.py), converts, and before
it exits writes one result file (`Outcome`) to `options.result`: on success (exit 0), on a data
failure (too many rows rejected, or none left: exit 1) and on a user error (an input it cannot
read, a format it cannot detect: exit 2). The stage reads only that file; a child that dies
without writing it (killed, crashed) is reported by its exit code and its log.
"""

from __future__ import annotations

from pathlib import Path

from swiftpipe.core.errors import UserError
from swiftpipe.data.convert import convert
from swiftpipe.data.options import ConvertOptions, Failure, Outcome, read_options, write_outcome

USAGE = "usage: python -m swiftpipe.data OPTIONS.json (the options file a data stage writes)"


def main(argv: list[str]) -> int:
    """Convert as the options file at `argv[0]` says; the exit code as described above."""
    if len(argv) != 1:
        raise UserError(USAGE)
    path = Path(argv[0])
    if not path.is_file():
        raise UserError(f"{path}: no such options file; `swiftpipe run` writes it. {USAGE}")
    options = read_options(path)
    try:
        result = convert(options)
    except UserError as exc:
        _report(options, Outcome({}, {}, Failure("user", str(exc))))
        raise
    _report(options, result.outcome())
    return 0 if result.failure is None else 1


def _report(options: ConvertOptions, outcome: Outcome) -> None:
    if options.result is not None:
        write_outcome(options.result, outcome)
