"""What a key's value must be beyond its type: a range, not empty, typed entries of a mapping.

Declared once in a field's metadata (`doc("seconds to wait", above=0)`); the builder
(validate.py) checks it and the README reference (reference.py) shows it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

RANGE = "range"
NONEMPTY = "nonempty"
ENTRIES = "entries"


@dataclass(frozen=True)
class Range:
    """Bounds of a number; `at_least`/`at_most` include the bound, `above`/`below` exclude it."""

    at_least: float | None = None
    at_most: float | None = None
    above: float | None = None
    below: float | None = None

    def contains(self, value: float) -> bool:
        if math.isnan(value):
            return False
        return not (
            (self.at_least is not None and value < self.at_least)
            or (self.at_most is not None and value > self.at_most)
            or (self.above is not None and value <= self.above)
            or (self.below is not None and value >= self.below)
        )

    def phrase(self) -> str:
        """`>= 1`, `> 0`, `from 1 to 65535`, `>= 0 and < 1`."""
        if self.at_least is not None and self.at_most is not None:
            return f"from {_num(self.at_least)} to {_num(self.at_most)}"
        parts = [f"{op} {_num(bound)}" for op, bound in
                 ((">=", self.at_least), (">", self.above), ("<=", self.at_most), ("<", self.below))
                 if bound is not None]
        return " and ".join(parts)


@dataclass(frozen=True)
class Entry:
    """A checked key of a free-form mapping (generation_config.temperature); others pass as given."""

    kind: type[int] | type[float]
    range: Range


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def rules(
    *,
    at_least: float | None = None,
    at_most: float | None = None,
    above: float | None = None,
    below: float | None = None,
    nonempty: bool = False,
    entries: dict[str, Entry] | None = None,
) -> dict[str, Any]:
    """The metadata entries for these rules (only the ones given)."""
    meta: dict[str, Any] = {}
    bounds = Range(at_least, at_most, above, below)
    if bounds != Range():
        meta[RANGE] = bounds
    if nonempty:
        meta[NONEMPTY] = True
    if entries:
        meta[ENTRIES] = entries
    return meta
