"""The experiments view: the `swiftpipe exps` table, and two or more experiments compared."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from swiftpipe.core.errors import UserError
from swiftpipe.engine.experiments import Experiment, list_experiments
from swiftpipe.report.collect import loss_curves
from swiftpipe.report.exptable import ExpTable, exp_table, headline, is_number, training_log
from swiftpipe.report.figures import metric_per_experiment, overlaid_losses, param_against_metric
from swiftpipe.report.model import LossCurve


def read_experiments(workdir: Path) -> list[Experiment]:
    """The workdir's experiments; `UserError` naming an unreadable record."""
    if workdir.exists() and not workdir.is_dir():
        raise UserError(f"{workdir}: not a folder; the pipeline's workdir must be one")
    return list_experiments(workdir)


def table_json(table: ExpTable) -> dict[str, Any]:
    return {"params": table.params, "metrics": table.metrics,
            "rows": [{"id": r.id, "name": r.name, "when": r.when, "status": r.status, "params": r.params,
                      "metrics": r.metrics} for r in table.rows]}


def compare(found: Sequence[Experiment], ids: Sequence[str]) -> dict[str, Any]:
    """Experiments `ids` side by side: the parameters that differ, each metric with its change from
    the first, their loss curves overlaid per training stage, and the headline metric per experiment
    and against each numeric parameter that changed. `UserError` for an unknown id."""
    by_id = {e.id: e for e in found}
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise UserError(f"{', '.join(missing)}: no such experiment")
    chosen = [by_id[i] for i in dict.fromkeys(ids)]
    table = exp_table(chosen)
    figures = [{"id": f"loss-{n}", "spec": spec} for n, spec in enumerate(_loss_figures(chosen))]
    metric = headline(table)
    if metric is not None:
        figures.append({"id": "metric", "spec": metric_per_experiment(table, metric)})
        figures += [{"id": f"param-{n}", "spec": param_against_metric(table, p, metric)}
                    for n, p in enumerate(table.params) if all(is_number(r.params.get(p)) for r in table.rows)]
    return {"table": table, "deltas": _deltas(table), "figures": figures, "headline": metric}


def _deltas(table: ExpTable) -> dict[str, list[str]]:
    """Per metric, each experiment's change from the first ('' where either is not a number)."""
    out: dict[str, list[str]] = {}
    for m in table.metrics:
        first = table.rows[0].metrics.get(m)
        out[m] = [f"{r.metrics[m] - first:+.4g}" if is_number(first) and is_number(r.metrics.get(m)) and i else ""
                  for i, r in enumerate(table.rows)]
    return out


def _loss_figures(chosen: Sequence[Experiment]) -> list[dict[str, Any]]:
    stages = list(dict.fromkeys(s for e in chosen for s, run in e.stages.items() if "steps" in run.metrics
                                or training_log(e, s) is not None))
    figures = []
    for stage in stages:
        curves = []
        for e in chosen:
            log = training_log(e, stage) if stage in e.stages else None
            train, evals = loss_curves(log) if log else ([], [])
            if train or evals:
                curves.append((e.name or e.id, LossCurve(stage, train, evals)))
        if curves:
            figures.append(overlaid_losses(curves, f"Loss: {stage}" if len(stages) > 1 else "Loss"))
    return figures
