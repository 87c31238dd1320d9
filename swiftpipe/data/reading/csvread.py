"""CSV datasets (ms-swift reads them too): a header row names the columns, each row is a record.

Every cell is text, as the csv module gives it, so an alpaca CSV (`instruction,input,output`)
converts like the same rows in JSON. A row with more cells than the header has columns is
rejected (`bad_field`), and so is a row with a NUL character in a cell (`nul_byte`: the csv
module keeps it, and no text should carry one); missing trailing cells are absent keys. The record's source text is
the row written back as CSV, its line the row's first line in the file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import IO

from swiftpipe.data.reject import Reject

# The csv module refuses fields over 128 KiB by default; long conversations are common.
FIELD_LIMIT = 1 << 30


def csv_records(stream: IO[bytes]) -> Iterator[tuple[int, dict[str, str] | None, str, Reject | None]]:
    """(line, row or None, source text, reject or None) per data row; blank lines are skipped.

    Raises `UnicodeDecodeError` or `csv.Error` for a file that cannot be read as CSV at all.
    """
    csv.field_size_limit(FIELD_LIMIT)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    header = next(reader, None)
    if header is None:
        return
    end = reader.line_num
    for cells in reader:
        line, end = end + 1, reader.line_num
        if not cells:
            continue
        raw = _written(cells)
        if len(cells) > len(header):
            why = f"{len(cells)} cells, but the header has {len(header)} columns"
            yield line, None, raw, Reject("bad_field", why)
            continue
        if "\0" in raw:
            yield line, None, raw, Reject("nul_byte", "a cell holds a NUL character (U+0000); remove it")
            continue
        yield line, {name: cell for name, cell in zip(header, cells, strict=False) if name != ""}, raw, None


def _written(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue()
