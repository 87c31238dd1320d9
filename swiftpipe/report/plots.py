"""The report's charts as PNG files (matplotlib, Agg backend, imported only here)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from swiftpipe.report.exptable import ExpTable, headline, is_number
from swiftpipe.report.model import LossCurve, ReportData

INK = "#1f2937"
MUTED = "#6b7280"
GRID = "#e5e7eb"
TRAIN = "#2563eb"
EVAL = "#f59e0b"
BASE = "#9ca3af"
TUNED = "#10b981"
VARIANTS = (TUNED, TRAIN, EVAL, "#8b5cf6", "#ef4444", "#14b8a6", "#ec4899")

Series = list[tuple[str, list[float | None]]]  # (label, one value per category)


def _pyplot() -> Any | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def _style(ax: Any, title: str) -> None:
    ax.set_title(title, loc="left", fontsize=11, color=INK, fontweight="bold")
    ax.grid(True, color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(GRID)
    ax.tick_params(colors=MUTED, labelsize=9)


def _save(plt: Any, fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def loss_charts(data: ReportData, out_dir: Path) -> list[Path]:
    """One chart per training stage: `loss.png` when there is one, `loss-<stage>.png` otherwise."""
    if len(data.losses) == 1:
        chart = loss_chart(data.losses[0], out_dir / "loss.png", "Loss")
        return [chart] if chart else []
    charts = [loss_chart(c, out_dir / f"loss-{re.sub(r'[^A-Za-z0-9_.-]+', '-', c.stage)}.png", f"Loss: {c.stage}")
              for c in data.losses]
    return [c for c in charts if c is not None]


def loss_chart(curve: LossCurve, path: Path, title: str = "Loss") -> Path | None:
    """Train and eval loss by step; None without data or matplotlib."""
    plt = _pyplot()
    if plt is None or not (curve.train or curve.eval):
        return None
    fig, ax = plt.subplots(figsize=(6.4, 3.4), dpi=110)
    for series, label, color in ((curve.train, "train loss", TRAIN), (curve.eval, "eval loss", EVAL)):
        if series:
            steps, values = zip(*series, strict=True)
            ax.plot(steps, values, marker="o", markersize=3.5, linewidth=2, color=color, label=label)
    _style(ax, title)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("step", color=MUTED, fontsize=9)
    ax.legend(frameon=False, fontsize=9)
    return _save(plt, fig, path)


def score_series(data: ReportData) -> tuple[list[str], Series, str]:
    """Categories, bar series and title: the variants table when there is one, else every eval table."""
    if data.variants:
        table = data.variants
        series = [(c, [r.values[i] for r in table.rows]) for i, c in enumerate(table.columns)]
        return [r.dataset for r in table.rows], series, "Variants (primary metric)"
    rows = [(t.stage, r) for t in data.evals for r in t.rows]
    several = len(data.evals) > 1
    categories = [f"{r.dataset}\n{stage}" if several else r.dataset for stage, r in rows]
    tuned: Series = [("fine-tuned", [r.finetuned for _, r in rows])]
    if any(r.base is not None for _, r in rows):
        return categories, [("base", [r.base for _, r in rows]), *tuned], "Base vs fine-tuned (primary metric)"
    return categories, tuned, "Scores (primary metric)"


def score_chart(data: ReportData, path: Path) -> Path | None:
    """Primary score per dataset: base (grey) next to each fine-tuned variant."""
    plt = _pyplot()
    categories, series, title = score_series(data)
    if plt is None or not any(v is not None for _, values in series for v in values):
        return None
    fig, ax = plt.subplots(figsize=(6.4, 3.4), dpi=110)
    width = 0.55 if len(series) == 1 else 0.76 / len(series)
    variant = 0
    for i, (label, values) in enumerate(series):
        is_base = label.startswith("base")
        color = BASE if is_base else VARIANTS[variant % len(VARIANTS)]
        variant += 0 if is_base else 1
        xs = [x + (i - (len(series) - 1) / 2) * width for x in range(len(categories))]
        bars = ax.bar(xs, [v or 0.0 for v in values], width, color=color, label=label)
        ax.bar_label(bars, fmt="%.2f", fontsize=8, color=MUTED if is_base else INK, padding=2)
    ax.set_xticks(list(range(len(categories))), categories)
    ax.set_ylim(0, 1.08)
    _style(ax, title)
    ax.legend(frameon=False, fontsize=9)
    return _save(plt, fig, path)


def sweep_charts(table: ExpTable | None, out_dir: Path) -> list[Path]:
    """Across two or more experiments: the headline metric per experiment (`experiments.png`) and
    against each numeric parameter that changed (`sweep-<n>.png`); none without matplotlib."""
    metric = headline(table) if table is not None else None
    plt = _pyplot()
    if plt is None or table is None or metric is None:
        return []
    rows = table.numeric(metric)
    fig, ax = plt.subplots(figsize=(6.4, 3.4), dpi=110)
    bars = ax.bar([r.name or r.id for r, _ in rows], [v for _, v in rows], color=VARIANTS[0])
    ax.bar_label(bars, fmt="%.4g", fontsize=8, color=INK, padding=2)
    _style(ax, f"{metric} per experiment")
    charts = [_save(plt, fig, out_dir / "experiments.png")]
    for i, param in enumerate(p for p in table.params if all(is_number(r.params.get(p)) for r, _ in rows)):
        fig, ax = plt.subplots(figsize=(6.4, 3.4), dpi=110)
        ax.plot([r.params[param] for r, _ in rows], [v for _, v in rows], "o", markersize=8, color=TRAIN)
        _style(ax, f"{metric} by {param}")
        ax.set_xlabel(param, color=MUTED, fontsize=9)
        charts.append(_save(plt, fig, out_dir / f"sweep-{i + 1}.png"))
    return charts
