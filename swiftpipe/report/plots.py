"""The report's charts as PNG files (matplotlib, Agg backend, imported only here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from swiftpipe.report.collect import ReportData

INK = "#1f2937"
MUTED = "#6b7280"
GRID = "#e5e7eb"
TRAIN = "#2563eb"
EVAL = "#f59e0b"
BASE = "#9ca3af"
TUNED = "#10b981"


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


def loss_chart(data: ReportData, path: Path) -> Path | None:
    """Train and eval loss by step; None without data or matplotlib."""
    plt = _pyplot()
    if plt is None or not (data.train_loss or data.eval_loss):
        return None
    fig, ax = plt.subplots(figsize=(6.4, 3.4), dpi=110)
    for series, label, color in ((data.train_loss, "train loss", TRAIN), (data.eval_loss, "eval loss", EVAL)):
        if series:
            steps, values = zip(*series, strict=True)
            ax.plot(steps, values, marker="o", markersize=3.5, linewidth=2, color=color, label=label)
    _style(ax, "Loss")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("step", color=MUTED, fontsize=9)
    ax.legend(frameon=False, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def score_chart(data: ReportData, path: Path) -> Path | None:
    """Primary score per dataset: fine-tuned, next to base when compared."""
    plt = _pyplot()
    rows = [r for r in data.scores if r.finetuned is not None or r.base is not None]
    if plt is None or not rows:
        return None
    compared = any(r.base is not None for r in rows)
    fig, ax = plt.subplots(figsize=(6.4, 3.4), dpi=110)
    xs = range(len(rows))
    width = 0.38 if compared else 0.55
    if compared:
        bars = ax.bar([x - width / 2 for x in xs], [r.base or 0.0 for r in rows], width, color=BASE, label="base")
        ax.bar_label(bars, fmt="%.2f", fontsize=8, color=MUTED, padding=2)
    offset = width / 2 if compared else 0.0
    bars = ax.bar([x + offset for x in xs], [r.finetuned or 0.0 for r in rows], width, color=TUNED,
                  label="fine-tuned")
    ax.bar_label(bars, fmt="%.2f", fontsize=8, color=INK, padding=2)
    ax.set_xticks(list(xs), [r.dataset for r in rows])
    ax.set_ylim(0, 1.08)
    _style(ax, "Base vs fine-tuned (primary metric)" if compared else "Scores (primary metric)")
    ax.legend(frameon=False, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
