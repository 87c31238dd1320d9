"""The charts as Plotly figure specs (plain dicts: `{"data": [...], "layout": {...}}`).

The UI draws them with the plotly.js that ships inside the plotly package; the series and colours
are the ones the report's PNG charts (plots.py) use, so the two never disagree.
"""

from __future__ import annotations

from typing import Any

from swiftpipe.report.exptable import ExpTable, cell
from swiftpipe.report.model import LossCurve, ReportData
from swiftpipe.report.plots import BASE, EVAL, GRID, INK, MUTED, TRAIN, VARIANTS, score_series

Figure = dict[str, Any]


def _layout(title: str, xtitle: str = "", ytitle: str = "") -> dict[str, Any]:
    axis = {"gridcolor": GRID, "zeroline": False, "color": MUTED}
    return {"title": {"text": title, "x": 0, "font": {"size": 14, "color": INK}},
            "xaxis": {**axis, "title": {"text": xtitle}}, "yaxis": {**axis, "title": {"text": ytitle}},
            "margin": {"l": 56, "r": 16, "t": 40, "b": 40}, "height": 320, "paper_bgcolor": "#fff",
            "plot_bgcolor": "#fff", "legend": {"orientation": "h", "y": -0.3, "yanchor": "top"},
            "font": {"family": "sans-serif"}}


def _line(points: list[tuple[int, float]], name: str, color: str, dash: str = "solid") -> dict[str, Any]:
    return {"type": "scatter", "mode": "lines+markers", "name": name, "x": [p[0] for p in points],
            "y": [p[1] for p in points], "line": {"color": color, "width": 2, "dash": dash}, "marker": {"size": 6}}


def _steps_layout(title: str, curves: list[LossCurve]) -> dict[str, Any]:
    """Steps are whole numbers: ticks every step up to ten of them, then every tenth of the run."""
    last = max((step for c in curves for step, _ in [*c.train, *c.eval]), default=1)
    layout = _layout(title, "step", "loss")
    layout["xaxis"] = layout["xaxis"] | {"dtick": max(1, -(-last // 10))}
    return layout


def loss_figure(curve: LossCurve, title: str = "Loss") -> Figure:
    """Train and eval loss by step of one training stage."""
    traces = [_line(s, label, color) for s, label, color in
              ((curve.train, "train loss", TRAIN), (curve.eval, "eval loss", EVAL)) if s]
    return {"data": traces, "layout": _steps_layout(title, [curve])}


def overlaid_losses(curves: list[tuple[str, LossCurve]], title: str = "Loss") -> Figure:
    """Several runs' losses on one chart: one colour per run, eval loss dashed."""
    traces = []
    for i, (label, curve) in enumerate(curves):
        color = VARIANTS[i % len(VARIANTS)]
        traces += [_line(curve.train, f"{label} train", color)] if curve.train else []
        traces += [_line(curve.eval, f"{label} eval", color, "dash")] if curve.eval else []
    return {"data": traces, "layout": _steps_layout(title, [c for _, c in curves])}


def score_figure(data: ReportData) -> Figure | None:
    """Primary score per dataset: base (grey) next to each fine-tuned variant; None without scores."""
    categories, series, title = score_series(data)
    if not any(v is not None for _, values in series for v in values):
        return None
    traces, variant = [], 0
    for label, values in series:
        is_base = label.startswith("base")
        color = BASE if is_base else VARIANTS[variant % len(VARIANTS)]
        variant += 0 if is_base else 1
        traces.append({"type": "bar", "name": label, "x": [c.replace("\n", " · ") for c in categories],
                       "y": values, "marker": {"color": color}, "text": [cell(v) for v in values],
                       "textposition": "outside"})
    layout = _layout(title) | {"barmode": "group"}
    layout["yaxis"] = layout["yaxis"] | {"range": [0, 1.1]}
    return {"data": traces, "layout": layout}


def metric_per_experiment(table: ExpTable, metric: str) -> Figure:
    """One bar per experiment that has `metric`, labelled by its name (or id)."""
    rows = table.numeric(metric)
    return {"data": [{"type": "bar", "name": metric, "x": [r.name or r.id for r, _ in rows],
                      "y": [v for _, v in rows], "marker": {"color": VARIANTS[0]},
                      "text": [cell(v) for _, v in rows], "textposition": "outside"}],
            "layout": _layout(f"{metric} per experiment", "", metric)}


def param_against_metric(table: ExpTable, param: str, metric: str) -> Figure:
    """Each experiment as a point: the value of `param` across, `metric` up."""
    rows = [(r, v) for r, v in table.numeric(metric) if param in r.params]
    numeric = all(isinstance(r.params[param], int | float) for r, _ in rows)
    xaxis = {"type": "log"} if numeric and rows and all(0 < r.params[param] < 1e-2 for r, _ in rows) else {}
    layout = _layout(f"{metric} by {param}", param, metric)
    layout["xaxis"] = layout["xaxis"] | xaxis | ({} if numeric else {"type": "category"})
    return {"data": [{"type": "scatter", "mode": "markers", "name": metric,
                      "x": [r.params[param] if numeric else cell(r.params[param]) for r, _ in rows],
                      "y": [v for _, v in rows], "text": [r.name or r.id for r, _ in rows],
                      "marker": {"size": 11, "color": VARIANTS[1]}}], "layout": layout}
