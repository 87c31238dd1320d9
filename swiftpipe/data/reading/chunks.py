"""A JSON Lines file cut into blocks of whole lines, for the worker processes.

A block ends just after a newline (the file's last block may not), so a block read with
`read.jsonl_records` gives exactly the rows the whole file gives there. Line numbers are not
counted here: that would cost the parent a pass over every byte; each worker counts its own
block's lines and the parent adds them up in order.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path

from swiftpipe.core.errors import UserError
from swiftpipe.data.reading.read import describe, open_input

_PROBE = 1 << 16  # bytes read at a time while looking for the end of a line


def block_ranges(path: Path, size: int) -> Iterator[tuple[int, int]]:
    """(start, end) byte offsets of blocks of about `size` bytes of an uncompressed file.

    Only the bytes around each cut are read: the workers read their blocks themselves, which
    spares the parent from copying the whole file through pipes.
    """
    total = path.stat().st_size
    with open(path, "rb", buffering=0) as f:
        start = 0
        while start < total:
            end = min(start + size, total)
            f.seek(end)
            while end < total:
                probe = f.read(_PROBE)
                cut = probe.find(b"\n")
                if cut >= 0:
                    end += cut + 1
                    break
                end += len(probe)  # a line longer than `size`: look on until it ends
            yield start, end
            start = end


def read_blocks(path: Path, size: int) -> Iterator[bytes]:
    """Blocks of whole lines of about `size` bytes from any input (a .gz file decompressed)."""
    with open_input(path) as stream:
        try:
            carry = b""
            while data := stream.read(size):
                data = carry + data if carry else data
                cut = data.rfind(b"\n") + 1
                if cut == 0:
                    carry = data  # one line longer than `size`: read on until it ends
                    continue
                carry = data[cut:]
                yield data[:cut]
            if carry:
                yield carry
        except (OSError, EOFError, zlib.error) as exc:
            raise UserError(f"{path}: cannot read the file ({describe(exc)}); check that it is complete") from None
