"""Read evalscope's per-dataset report files (`reports/<model>/<dataset>.json`).

Two shapes exist. Schema 2 (evalscope >= 1.11) has no top-level `score`: each
metric carries an `identity` {name, aggregation, dimensions}, the primary one is
named by `primary_metric_identity`, and `execution_summary` says how many
requests failed. Schema 1 (evalscope <= 1.10) has a top-level `score` (the first
metric's) and metrics named by `name`. Nothing here imports evalscope, which may
live in another virtualenv.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class DatasetReport:
    dataset: str
    model: str
    path: str
    schema: int
    scores: dict[str, float | None]  # metric key -> score (0..1)
    primary: str | None  # the key of the headline metric
    requested: int | None = None
    succeeded: int | None = None
    errored: int | None = None
    incomplete: bool = False
    unavailable: str | None = None  # evalscope's reason when there is no primary score
    subsets: dict[str, float | None] = field(default_factory=dict)  # primary score per subset
    counts: dict[str, int | None] = field(default_factory=dict)  # questions scored per subset

    @property
    def primary_score(self) -> float | None:
        return self.scores.get(self.primary) if self.primary else None


def metric_key(identity: dict[str, Any]) -> str:
    """evalscope's own spelling of a metric identity: `rouge:mean[statistic="recall",variant="l"]`."""
    dims = identity.get("dimensions") or {}
    inner = ",".join(
        f"{k}={json.dumps(v, ensure_ascii=False, separators=(',', ':'))}" for k, v in dims.items()
    )
    suffix = f"[{inner}]" if inner else ""
    return f"{identity.get('name')}:{identity.get('aggregation')}{suffix}"


def read_report(path: Path) -> DatasetReport:
    """One report file of either schema."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not an evalscope report")
    if data.get("schema_version") == 2:
        return _v2(path, data)
    return _v1(path, data)


def _score(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _each_subset(metric: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for cat in metric.get("categories") or [] for s in cat.get("subsets") or [] if isinstance(s, dict)]


def _subsets(metric: dict[str, Any]) -> dict[str, float | None]:
    return {str(s.get("name")): _score(s.get("score")) for s in _each_subset(metric)}


def _counts(metric: dict[str, Any]) -> dict[str, int | None]:
    return {str(s.get("name")): _count(s.get("num")) for s in _each_subset(metric)}


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _v2(path: Path, data: dict[str, Any]) -> DatasetReport:
    metrics = [m for m in data.get("metrics") or [] if isinstance(m, dict)]
    scores = {metric_key(m.get("identity") or {}): _score(m.get("score")) for m in metrics}
    ident = data.get("primary_metric_identity")
    primary = metric_key(ident) if isinstance(ident, dict) else None
    head = next((m for m in metrics if metric_key(m.get("identity") or {}) == primary), None)
    summary = data.get("execution_summary") or {}
    return DatasetReport(
        dataset=str(data.get("dataset_name") or path.stem), model=str(data.get("model_name") or ""),
        path=str(path), schema=2, scores=scores, primary=primary,
        requested=summary.get("requested"), succeeded=summary.get("succeeded"),
        errored=summary.get("errored"), incomplete=bool(summary.get("incomplete")),
        unavailable=data.get("primary_metric_unavailable_reason"),
        subsets=_subsets(head) if head else {}, counts=_counts(head) if head else {},
    )


def _v1(path: Path, data: dict[str, Any]) -> DatasetReport:
    metrics = [m for m in data.get("metrics") or [] if isinstance(m, dict)]
    scores = {str(m.get("name")): _score(m.get("score")) for m in metrics}
    primary = str(metrics[0].get("name")) if metrics else None
    if primary is not None and scores.get(primary) is None:
        scores[primary] = _score(data.get("score"))
    return DatasetReport(
        dataset=str(data.get("dataset_name") or path.stem), model=str(data.get("model_name") or ""),
        path=str(path), schema=1, scores=scores, primary=primary, requested=data.get("num"),
        subsets=_subsets(metrics[0]) if metrics else {}, counts=_counts(metrics[0]) if metrics else {},
    )


def read_reports(work_dir: Path) -> dict[str, DatasetReport]:
    """Every dataset report under an evalscope work dir, by dataset name."""
    reports = {}
    for path in sorted(work_dir.glob("reports/*/*.json")):
        report = read_report(path)
        reports[report.dataset] = report
    return reports


def dataset_problems(reports: dict[str, DatasetReport], expected: list[str]) -> dict[str, list[str]]:
    """Per expected dataset, why its report cannot be trusted as a complete result ([] when it can)."""
    found: dict[str, list[str]] = {}
    for name in expected:
        report = reports.get(name)
        if report is None:
            found[name] = ["evalscope wrote no report"]
            continue
        issues = []
        if report.errored:
            issues.append(f"{report.errored} of {report.requested} requests failed")
        if report.incomplete:
            issues.append("evalscope marked the report incomplete")
        if report.primary_score is None:
            reason = f" ({report.unavailable})" if report.unavailable else ""
            issues.append(f"no score{reason}")
        found[name] = issues
    return found


def problems(reports: dict[str, DatasetReport], expected: list[str]) -> list[str]:
    """Why these reports cannot be trusted as complete results; [] when they can."""
    return [f"{name}: {issue}" for name, issues in dataset_problems(reports, expected).items() for issue in issues]
