"""A deterministic train/validation split that needs no shuffle and no second pass.

A row goes to validation when a keyed hash of its converted JSON line, read as a number in
[0, 1), is below `val_ratio`. The key is the seed, so:

* the same row lands in the same split whatever its position or which file it came from;
* a different seed gives a different, equally deterministic split;
* identical rows (after conversion) always land together, so exact duplicates never leak
  from train into validation;
* the validation share is `val_ratio` in expectation, not exactly (binomial, so about
  ±2·sqrt(n·r·(1-r)) rows).
"""

from __future__ import annotations

from hashlib import blake2b

_SCALE = 1 << 64


class Splitter:
    """`is_val(line)` decides a row's split from its encoded JSON line."""

    def __init__(self, val_ratio: float, seed: int) -> None:
        if not 0.0 <= val_ratio < 1.0:
            raise ValueError(f"val_ratio must be in [0, 1), got {val_ratio}")
        self.val_ratio = val_ratio
        self._threshold = int(val_ratio * _SCALE)
        self._key = seed.to_bytes(16, "big", signed=True)

    def is_val(self, line: bytes) -> bool:
        """True when the row encoded as `line` belongs to the validation split."""
        if self._threshold == 0:
            return False
        digest = blake2b(line, digest_size=8, key=self._key).digest()
        return int.from_bytes(digest, "big") < self._threshold
