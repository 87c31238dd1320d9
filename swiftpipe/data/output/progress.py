"""A progress line for long conversions: every second on a terminal, every 10 s in a log."""

from __future__ import annotations

import sys
import time

from swiftpipe.core import console


class Progress:
    """Call `maybe_report(rows)` after each run of rows (never per row); it prints when the interval passed."""

    def __init__(self, label: str) -> None:
        self._label = label
        self._interval = 1.0 if sys.stderr.isatty() else 10.0
        self._start = time.monotonic()
        self._last = self._start

    def maybe_report(self, rows: int) -> None:
        """Print `label: N rows, R rows/s` if the interval has passed since the last line."""
        now = time.monotonic()
        if now - self._last < self._interval:
            return
        self._last = now
        rate = rows / max(now - self._start, 1e-9)
        console.info(f"{self._label}: {rows:,} rows, {rate:,.0f} rows/s")
