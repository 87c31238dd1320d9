"""The experiments table (`swiftpipe exps`) as plain data, for the report and the UI.

The columns are the parameters that differ between the experiments and every headline metric,
as `swiftpipe exps list` shows them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swiftpipe.engine.experiments import Experiment, shown


@dataclass(frozen=True)
class ExpRow:
    id: str
    name: str | None
    when: str  # "YYYY-MM-DD HH:MM"
    status: str
    params: dict[str, Any]  # changed parameter -> its value here (absent: not set in this experiment)
    metrics: dict[str, Any]  # "<stage>.<metric>" -> value


@dataclass(frozen=True)
class ExpTable:
    params: list[str]
    metrics: list[str]
    rows: list[ExpRow]  # oldest first

    def numeric(self, metric: str) -> list[tuple[ExpRow, float]]:
        """The rows that have `metric` as a number, with it."""
        return [(r, float(r.metrics[metric])) for r in self.rows if is_number(r.metrics.get(metric))]


def changed_params(found: Sequence[Experiment]) -> list[str]:
    """The config keys whose values are not the same in every experiment (a missing key counts as a value)."""
    keys = dict.fromkeys(key for e in found for key in e.config)
    return [k for k in keys if len({json.dumps(e.config.get(k, "<missing>"), default=str) for e in found}) > 1]


def exp_table(found: Sequence[Experiment]) -> ExpTable:
    params = changed_params(found)
    metrics = list(dict.fromkeys(key for e in found for key in e.metrics()))
    rows = [ExpRow(e.id, e.name, e.started[:16].replace("T", " "), e.outcome,
                   {k: e.config[k] for k in params if k in e.config}, e.metrics()) for e in found]
    return ExpTable(params, metrics, rows)


def cell(value: Any) -> str:
    """One value as the tables show it (the same as `swiftpipe exps`)."""
    return shown(value)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def training_log(e: Experiment, stage: str) -> Path | None:
    """The logging.jsonl of one of `e`'s training stages, from the outputs it recorded."""
    outputs = e.stages[stage].outputs
    if isinstance(outputs.get("logging"), str) and outputs["logging"]:
        return Path(outputs["logging"])
    if isinstance(outputs.get("run_dir"), str) and outputs["run_dir"]:
        return Path(outputs["run_dir"]) / "logging.jsonl"
    return None


_TRAINING = ("steps", "time_s", "train_loss", "eval_loss")


def headline(table: ExpTable) -> str | None:
    """The metric to chart across experiments: the first score two of them have, else eval loss, else
    train loss; None when no metric is a number in two experiments."""
    shared = [m for m in table.metrics if len(table.numeric(m)) >= 2]
    scores = [m for m in shared if m.rsplit(".", 1)[-1] not in _TRAINING]
    for candidates in (scores, [m for m in shared if m.endswith(".eval_loss")],
                       [m for m in shared if m.endswith(".train_loss")]):
        if candidates:
            return candidates[0]
    return None
