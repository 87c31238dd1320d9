"""Conversion statistics, the JSON report, and the short table printed to the terminal.

Distributions are kept as histograms (value -> count), so memory is bounded by the number of
distinct lengths, not by the number of rows, and percentiles are exact (nearest rank).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from swiftpipe.core import console

EXAMPLES = 5


@dataclass
class SourceStats:
    """Counts for one input file."""

    path: str
    format: str = ""
    rows: int = 0
    train: int = 0
    val: int = 0
    rejected: int = 0


@dataclass
class Stats:
    """Everything counted during one conversion."""

    sources: list[SourceStats] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)
    turns: Counter[int] = field(default_factory=Counter)
    chars: Counter[int] = field(default_factory=Counter)
    tokens: Counter[int] = field(default_factory=Counter)
    examples: list[dict[str, Any]] = field(default_factory=list)
    placeholders: int = 0  # rows written that hold a {{placeholder}}

    @property
    def rows_in(self) -> int:
        return sum(s.rows for s in self.sources)

    @property
    def train(self) -> int:
        return sum(s.train for s in self.sources)

    @property
    def val(self) -> int:
        return sum(s.val for s in self.sources)

    @property
    def rejected(self) -> int:
        return sum(s.rejected for s in self.sources)

    def invariant_holds(self) -> bool:
        """Rows in = rows out (train + val) + rows rejected, per file and in total."""
        per_file = all(s.rows == s.train + s.val + s.rejected for s in self.sources)
        return per_file and sum(self.reasons.values()) == self.rejected


def percentiles(hist: Counter[int], points: tuple[int, ...] = (50, 90, 99)) -> dict[str, int]:
    """Nearest-rank percentiles of a histogram, plus `max`; empty dict for no data."""
    total = sum(hist.values())
    if total == 0:
        return {}
    out: dict[str, int] = {}
    values = sorted(hist)
    ranks = [(f"p{p}", max(1, math.ceil(p / 100 * total))) for p in points]
    seen = 0
    for value in values:
        seen += hist[value]
        while ranks and seen >= ranks[0][1]:
            out[ranks.pop(0)[0]] = value
    out["max"] = values[-1]
    return out


def turn_summary(hist: Counter[int]) -> dict[str, int]:
    """min / median / max turns per conversation."""
    if not hist:
        return {}
    return {"min": min(hist), "median": percentiles(hist, (50,))["p50"], "max": max(hist)}


def build(
    stats: Stats, *, limit: float, max_length: int | None, outputs: dict[str, str | None], exact: bool = False
) -> dict[str, Any]:
    """The report as a JSON-ready dict; `exact`: token lengths are ms-swift's own, not an estimate."""
    rows_in = stats.rows_in
    tokens: dict[str, Any] | None = None
    if stats.tokens or max_length is not None:
        tokens = {
            **percentiles(stats.tokens),
            "estimate": not exact,
            "max_length": max_length,
            "over_max_length": stats.reasons.get("too_long", 0),
        }
    return {
        "rows_in": rows_in,
        "rows_out": stats.train + stats.val,
        "train": stats.train,
        "val": stats.val,
        "rejected": stats.rejected,
        "reject_ratio": stats.rejected / rows_in if rows_in else 0.0,
        "max_reject_ratio": limit,
        "invariant_ok": stats.invariant_holds(),
        "rejects_by_reason": dict(sorted(stats.reasons.items())),
        "sources": [asdict(s) for s in stats.sources],
        "turns": turn_summary(stats.turns),
        "chars": percentiles(stats.chars),
        "tokens": tokens,
        "first_rejects": stats.examples,
        "warnings": _warnings(stats),
        "outputs": outputs,
    }


def _warnings(stats: Stats) -> dict[str, int]:
    """What was written but may not be what the author meant: rows per kind of doubt."""
    return {"placeholder": stats.placeholders} if stats.placeholders else {}


def print_table(report: dict[str, Any]) -> None:
    """A short human summary on stderr."""
    console.info(f"{'source':<44} {'format':<15} {'rows':>8} {'train':>8} {'val':>7} {'rejected':>9}")
    for s in report["sources"]:
        console.info(
            f"{_short(s['path'], 44):<44} {s['format']:<15} {s['rows']:>8} "
            f"{s['train']:>8} {s['val']:>7} {s['rejected']:>9}"
        )
    console.info(
        f"{'total':<44} {'':<15} {report['rows_in']:>8} {report['train']:>8} {report['val']:>7} {report['rejected']:>9}"
    )
    if report["rejects_by_reason"]:
        reasons = ", ".join(f"{k} {v}" for k, v in report["rejects_by_reason"].items())
        console.info(f"rejects: {reasons}")
        for ex in report["first_rejects"][:3]:
            console.info(f"  {ex['source']}:{ex['line']}: {ex['reason']}: {ex['message']}")
    if report.get("warnings", {}).get("placeholder"):
        console.info(
            f"warning: {report['warnings']['placeholder']} row(s) hold a {{{{placeholder}}}} meant to be "
            "filled in; fill them in, or convert with strict to reject them"
        )
    turns, chars, tokens = report["turns"], report["chars"], report["tokens"]
    if turns:
        console.info(
            f"turns min/median/max {turns['min']}/{turns['median']}/{turns['max']}; "
            f"chars p50/p90/p99/max {_pcts(chars)}"
        )
    if tokens and "max" in tokens:
        console.info(
            f"tokens ({'estimate' if tokens.get('estimate', True) else 'exact'}) p50/p90/p99/max {_pcts(tokens)}; "
            f"over max_length {tokens['max_length']}: {tokens['over_max_length']}"
        )


def _pcts(p: dict[str, int]) -> str:
    return "/".join(str(p.get(k, "-")) for k in ("p50", "p90", "p99", "max"))


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else "..." + text[-(width - 3) :]
