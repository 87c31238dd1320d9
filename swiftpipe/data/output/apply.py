"""Write converted blocks, in input order, and count them: the one place that writes outputs.

Blocks arrive in input order from the serial path or from the workers. The applier decides
duplicates (the only cross-row decision: a row is a duplicate when an earlier row anywhere in
the run had the same content hash), then appends the block's lines to the output files and
adds its counts to the statistics.
"""

from __future__ import annotations

import os
from collections import Counter

from swiftpipe.data.output.sink import AtomicFile
from swiftpipe.data.output.stats import EXAMPLES, SourceStats, Stats
from swiftpipe.data.rows.transform import TRAIN, VAL, BlockResult, Candidate, RejectLine, order, reject_data

DUPLICATE = "same conversation as an earlier row (whitespace ignored)"


class Applier:
    """`apply(source, block)` writes one block's lines and counts."""

    def __init__(
        self, stats: Stats, train: AtomicFile, val: AtomicFile | None, rejects: AtomicFile, dedupe: bool
    ) -> None:
        self._stats = stats
        self._train, self._val, self._rejects = train, val, rejects
        self._seen: set[int] | None = set() if dedupe else None

    def apply(self, source: SourceStats, block: BlockResult, lines_before: int = 0) -> None:
        """Write `block` (rows of `source`, after `lines_before` lines of it) and count it."""
        offset = lines_before + 1 - block.first_line
        if self._seen is not None and block.candidates:
            self._dedupe(block)
        stats = self._stats
        stats.turns.update(block.turns)
        stats.chars.update(block.chars)
        stats.tokens.update(block.tokens)
        stats.placeholders += block.placeholders
        if block.spool is not None:
            self._copy_spool(block)
        self._train.write(b"".join(block.train))
        if block.val_rows:
            assert self._val is not None, "validation rows without a validation file"
            self._val.write(b"".join(block.val))
        for reject in block.rejects:
            stats.reasons[reject.reason] += 1
            if len(stats.examples) < EXAMPLES:
                stats.examples.append(_example(source.path, reject, offset))
        self._rejects.write(b"".join([reject_data(source.path, r, offset) for r in block.rejects]))
        source.rows += block.rows
        source.train += block.train_rows
        source.val += block.val_rows
        source.rejected += len(block.rejects)

    def _copy_spool(self, block: BlockResult) -> None:
        assert block.spool is not None
        fd = os.open(block.spool, os.O_RDONLY)
        try:
            self._train.copy_from(fd, 0, block.train_bytes)
            if block.val_bytes:
                assert self._val is not None, "validation rows without a validation file"
                self._val.copy_from(fd, block.train_bytes, block.val_bytes)
        finally:
            os.close(fd)
            os.unlink(block.spool)

    def _dedupe(self, block: BlockResult) -> None:
        assert self._seen is not None
        seen = self._seen
        dropped: dict[int, set[int]] = {TRAIN: set(), VAL: set()}
        replaced: dict[tuple[int, int], RejectLine] = {}
        for c in block.candidates:
            if c.key not in seen:
                seen.add(c.key)
                continue
            replaced[order(c)] = RejectLine(c.line, c.item, "duplicate", DUPLICATE, c.row)
            if c.kind in dropped:
                dropped[c.kind].add(c.position)
            _take_back(block, c)
        if not replaced:
            return
        block.train = [line for i, line in enumerate(block.train) if i not in dropped[TRAIN]]
        block.val = [line for i, line in enumerate(block.val) if i not in dropped[VAL]]
        block.train_rows, block.val_rows = len(block.train), len(block.val)
        # A duplicate that would have been rejected anyway (e.g. too long) is reported once, as
        # a duplicate, as the serial converter always did: the dedupe step comes first.
        kept = [r for r in block.rejects if order(r) not in replaced]
        block.rejects = sorted([*kept, *replaced.values()], key=order)


def _take_back(block: BlockResult, c: Candidate) -> None:
    """Remove a duplicate's contribution to the block's distributions."""
    pairs: list[tuple[Counter[int], int]] = []
    if c.kind in (TRAIN, VAL):
        pairs += [(block.turns, c.turns), (block.chars, c.chars)]
    if c.tokens >= 0:
        pairs.append((block.tokens, c.tokens))
    for hist, value in pairs:
        hist[value] -= 1
        if not hist[value]:
            del hist[value]  # the report reads a histogram's keys as values that occurred


def _example(source: str, reject: RejectLine, offset: int) -> dict[str, object]:
    entry: dict[str, object] = {"source": source, "line": reject.line + offset}
    if reject.item is not None:
        entry["index"] = reject.item
    entry.update(reason=reject.reason, message=reject.message)
    return entry
