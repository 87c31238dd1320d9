"""Shared by the evaluation tests: small evalscope report files, and an eval stage's context."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from swiftpipe.engine.manifest import Attempt, StageRecord
from swiftpipe.engine.stage import RunOptions, StageContext
from swiftpipe.engine.status import Status
from swiftpipe.loading import load_pipeline
from tests.kinds.servefakes import write_pipeline

ACCURACY = {"name": "accuracy", "aggregation": "mean", "dimensions": {}}


def write_report(work_dir: Path, dataset: str, score: float | None, *, errored: int = 0, requested: int = 3,
                 model: str = "tiny") -> Path:
    """A schema-2 evalscope report (`reports/<model>/<dataset>.json`) with one subset, `demo`;
    its predictions and reviews files beside it, as evalscope writes them."""
    subset = {"name": "demo", "score": score, "num": requested}
    report = {
        "schema_version": 2, "dataset_name": dataset, "model_name": model,
        "metrics": [{"identity": ACCURACY, "score": score, "categories": [{"name": ["default"], "subsets": [subset]}]}],
        "primary_metric_identity": ACCURACY,
        "execution_summary": {"requested": requested, "succeeded": requested - errored, "errored": errored,
                              "incomplete": False},
    }
    path = work_dir / "reports" / model / f"{dataset}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report))
    for folder in ("predictions", "reviews"):
        (work_dir / folder / model).mkdir(parents=True, exist_ok=True)
        (work_dir / folder / model / f"{dataset}_demo.jsonl").write_text(f'{{"{folder}": "{dataset}"}}\n')
    return path


def attempts(*statuses: Status) -> list[Attempt]:
    return [Attempt(started=f"2026-01-01T00:00:0{i}", status=s) for i, s in enumerate(statuses)]


def eval_context(
    root: Path, *, record: StageRecord | None = None, previous: dict[str, Any] | None = None,
    launcher: Any = None, outputs: dict[str, Any] | None = None, extra_eval: str = "",
) -> StageContext:
    """The context of the `eval` stage of tests/kinds/servefakes' pipeline (datasets general_mcq
    and general_qa); what it reports mid-run lands in `outputs`."""
    pipeline = load_pipeline(write_pipeline(root, extra_eval=extra_eval), [])
    seen = outputs if outputs is not None else {}
    on_output: Callable[[str, Any], None] = seen.__setitem__
    return StageContext(pipeline, pipeline.graph["eval"], lambda _name: None, record=record,
                        options=RunOptions(echo=False), launcher=launcher, previous=previous, on_output=on_output)
