"""Formatting shared by the HTML and Markdown reports: numbers, durations, metric names, edges."""

from __future__ import annotations

from swiftpipe.report.model import StageRow


def num(value: float | None, sign: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:+.3f}" if sign else f"{value:.3f}"


def dur(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def pretty_metric(key: str) -> str:
    """`rouge:mean[statistic="recall",variant="l"]` -> `rouge (recall, l)`; `accuracy:mean` -> `accuracy`."""
    name, _, rest = key.partition(":")
    dims = rest.partition("[")[2].rstrip("]")
    values = [d.partition("=")[2].strip('"') for d in dims.split(",") if d]
    return f"{name} ({', '.join(values)})" if values else name


def reads(row: StageRow) -> str:
    """What a stage reads from: `deploy_a (server), eval-base (base)`; the slot is left out when it is
    the stage's own name (`data`)."""
    return ", ".join(stage if stage == slot else f"{stage} ({slot})" for slot, stage in row.upstream.items())


def shorten(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
