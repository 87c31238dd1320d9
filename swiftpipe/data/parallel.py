"""Worker processes for large JSON Lines inputs: workers convert blocks, the parent orders them.

The file is cut into blocks of whole lines (reading/chunks.py). A worker reads its block
itself (an uncompressed file) or is sent it (a .gz file, decompressed by the parent), converts it with
the same `BlockConverter` as the serial path, writes the output lines to a spool file of its
own, and returns the rest: counts, rejects, and its block's line count. The parent applies
the results strictly in input order, copying spooled lines into the outputs in the kernel
(`AtomicFile.copy_from`), so the outputs are byte for byte those of the serial path while no
output byte passes through a pipe; sending megabytes through multiprocessing's pipes cost
about as much as converting them. With --dedupe the lines come back in the result instead,
because the parent may have to drop some. At most `2 x jobs` blocks are in flight, which
bounds memory whatever the input size.

JSON arrays stay serial: finding where one element ends means parsing it, which is the work.
Small files stay serial too: starting the workers costs more than it saves.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from itertools import count
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from types import TracebackType
from typing import IO

from swiftpipe.data.reading.chunks import block_ranges, read_blocks
from swiftpipe.data.reading.read import content_kind, jsonl_records
from swiftpipe.data.rows.row import Settings
from swiftpipe.data.rows.transform import BlockConverter, BlockResult

# Below this size (on disk) a file is converted serially: the workers take a fraction of a
# second to start, the time the serial path needs for roughly this much input.
PARALLEL_MIN_BYTES = 32 << 20
BLOCK_BYTES = 2 << 20  # big enough that the per-block costs vanish, small enough to stream

# A block: sent as bytes, or (path, start, end) for the worker to read.
Payload = bytes | tuple[str, int, int]

_worker: BlockConverter | None = None  # one per worker process, made by `_start`
_settings: Settings | None = None
_spool_dir = ""
_spool_names = count()


def default_jobs() -> int:
    """The CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _start(settings: Settings, spool_dir: str) -> None:
    global _worker, _settings, _spool_dir
    _worker, _settings, _spool_dir = BlockConverter(settings), settings, spool_dir


def _convert(fmt: str, first: int, payload: Payload, base: str, long: bool) -> BlockResult:
    """Convert one block; `long`: it holds a line much longer than a block (see `_payloads`)."""
    assert _worker is not None and _settings is not None, "worker not started"
    limit = _settings.max_row_bytes
    if long and isinstance(payload, tuple):
        result, lines = _convert_long(fmt, first, payload, base, limit)
    else:
        data = payload if isinstance(payload, bytes) else _read(*payload)
        result = _worker.convert(jsonl_records(io.BytesIO(data), first, limit), fmt, Path(base))
        lines = data.count(b"\n")
    result.first_line, result.lines = first, lines
    if not result.candidates:
        _spool(result)
    return result


def _convert_long(
    fmt: str, first: int, payload: tuple[str, int, int], base: str, limit: int
) -> tuple[BlockResult, int]:
    """A block that holds a line far longer than a block, read from the file a little at a time
    (its rows are capped at `limit` bytes), so that line is never held whole."""
    assert _worker is not None
    path, start, end = payload
    with open(path, "rb", buffering=1 << 20) as f:
        lines = 0
        for at in range(start, end, 1 << 20):
            lines += os.pread(f.fileno(), min(1 << 20, end - at), at).count(b"\n")
        f.seek(start)
        result = _worker.convert(jsonl_records(_Range(f, end), first, limit), fmt, Path(base))
    return result, lines


class _Range:
    """The lines of an open file up to byte `end`: what `jsonl_records` reads of a block."""

    def __init__(self, file: IO[bytes], end: int) -> None:
        self._file, self._end = file, end

    def readline(self, size: int = -1, /) -> bytes:
        left = self._end - self._file.tell()
        if left <= 0:
            return b""
        return self._file.readline(left if size < 0 else min(size, left))


def _read(path: str, start: int, end: int) -> bytes:
    with open(path, "rb", buffering=0) as f:
        return os.pread(f.fileno(), end - start, start)


def _spool(result: BlockResult) -> None:
    """Move the output lines into a file of this worker's, for the parent to copy in."""
    path = os.path.join(_spool_dir, f"{os.getpid()}-{next(_spool_names)}")
    train, val = b"".join(result.train), b"".join(result.val)
    with open(path, "wb", buffering=0) as f:
        f.write(train)
        f.write(val)
    result.spool, result.train_bytes, result.val_bytes = path, len(train), len(val)
    result.train, result.val = [], []


class Workers:
    """A pool started on first use; `wants(path)` says whether a file is worth sending to it."""

    def __init__(self, settings: Settings, jobs: int, spool_parent: Path) -> None:
        self._settings = settings
        self._jobs = jobs
        self._spool_parent = spool_parent
        self._spool_dir: str | None = None
        self._pool: Pool | None = None

    def wants(self, path: Path) -> bool:
        """True for a JSON Lines file large enough to convert in parallel."""
        if self._jobs < 2 or path.stat().st_size < PARALLEL_MIN_BYTES:
            return False
        return content_kind(path) == "jsonl"

    def convert(self, path: Path, fmt: str, apply: Callable[[BlockResult, int], None]) -> None:
        """Convert `path` in blocks; call `apply(result, lines before it)` in input order."""
        pool = self._start()
        in_flight: deque[AsyncResult[BlockResult]] = deque()
        lines = 0

        def apply_first() -> None:
            nonlocal lines
            result = in_flight.popleft().get()
            apply(result, lines)
            lines += result.lines

        for first, payload in _payloads(path):
            # Decided here, where BLOCK_BYTES is the one the blocks were cut by.
            long = isinstance(payload, tuple) and payload[2] - payload[1] > 2 * BLOCK_BYTES
            in_flight.append(pool.apply_async(_convert, (fmt, first, payload, str(path.parent), long)))
            if len(in_flight) >= 2 * self._jobs:
                apply_first()
        while in_flight:
            apply_first()

    def _start(self) -> Pool:
        if self._pool is None:
            # Beside the outputs: the spool files are then copied within one file system.
            self._spool_dir = tempfile.mkdtemp(prefix=".swiftpipe-spool-", dir=self._spool_parent)
            # spawn, not fork: the data stage may run this in a process that holds threads.
            context = multiprocessing.get_context("spawn")
            args = (self._settings, self._spool_dir)
            self._pool = context.Pool(self._jobs, initializer=_start, initargs=args)
        return self._pool

    def __enter__(self) -> Workers:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._pool is not None:
            if exc_type is None:
                self._pool.close()
                self._pool.join()
            else:
                self._pool.terminate()
        if self._spool_dir is not None:
            shutil.rmtree(self._spool_dir, ignore_errors=True)  # only our own spool files


def _payloads(path: Path) -> Iterator[tuple[int, Payload]]:
    """(first line number, block) pairs; see `BlockResult.first_line`."""
    blocks: Iterator[Payload]
    if path.name.lower().endswith(".gz"):
        blocks = read_blocks(path, BLOCK_BYTES)
    else:
        blocks = ((str(path), start, end) for start, end in block_ranges(path, BLOCK_BYTES))
    for i, block in enumerate(blocks):
        yield (1 if i == 0 else 2), block
