"""Gather what the report shows from the manifest and the files it points at.

The stages and their order come from the manifest alone (its graph order), so a report
can be written for any run, whatever the pipeline file says today.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from swiftpipe.config.schema import LoadedPipeline
from swiftpipe.engine.manifest import Manifest, StageRecord
from swiftpipe.report.model import (
    TRAINING_KINDS,
    DataRows,
    InferSummary,
    LossCurve,
    ReportData,
    ScoreRow,
    StageRow,
    kind_of,
    usable,
)
from swiftpipe.report.scores import eval_tables, result_rows, score_rows, variant_table

__all__ = ["ReportData", "ScoreRow", "collect", "loss_curves", "score_rows"]


def collect(pipeline: LoadedPipeline, manifest: Manifest, out_dir: Path) -> ReportData:
    data = ReportData(
        title=pipeline.config.name, pipeline=str(pipeline.source), workdir=str(pipeline.workdir),
        generated=time.strftime("%Y-%m-%d %H:%M:%S"), git=_git(manifest),
        versions={k: v for k, v in manifest.tool_versions.items() if v},
        stages=[_stage_row(n, r, out_dir) for n, r in manifest.stages.items()],
    )
    for name, record in manifest.stages.items():
        _add_stage(data, name, record, out_dir)
    data.evals = eval_tables(manifest)
    data.variants = variant_table([t for t in data.evals if not t.failed])
    data.results = result_rows(manifest, data.evals, data.losses)
    return data


def _add_stage(data: ReportData, name: str, record: StageRecord, out_dir: Path) -> None:
    kind = kind_of(name, record)
    outputs = record.outputs
    if kind == "data":
        rows, links = _data_rows(name, record, out_dir)
        data.data += [rows] if rows else []
        data.links += links
    elif kind in TRAINING_KINDS:
        curve = _loss(name, outputs)
        data.losses += [curve] if curve else []
    elif kind == "deploy" and outputs.get("url"):
        running = outputs.get("running") and outputs.get("kept")
        data.servers.append((name, f"running at {outputs.get('api_url')}" if running else "stopped"))
    elif kind == "infer" and usable(record) and outputs.get("results"):
        data.infers.append(_infer(name, outputs, out_dir))
    elif kind in ("eval", "base-eval") and (usable(record) or outputs.get("reports")):
        prefix = "" if name == kind else f"{name}: "
        data.links += [(prefix + label, href) for label, href in _eval_links(outputs, out_dir)]


def _data_rows(name: str, record: StageRecord, out_dir: Path) -> tuple[DataRows | None, list[tuple[str, str]]]:
    report = record.outputs.get("report")
    try:
        stats = json.loads(Path(report).read_text(encoding="utf-8")) if report else None
    except (OSError, ValueError):
        return None, []
    if not isinstance(stats, dict):
        return None, []
    rows = DataRows(name, int(stats.get("rows_in", 0)), int(stats.get("train", 0)), int(stats.get("val", 0)),
                    int(stats.get("rejected", 0)), dict(stats.get("rejects_by_reason") or {}),
                    bool(stats.get("invariant_ok")))
    prefix = "" if name == "data" else f"{name}: "
    links = [(prefix + label, _rel(record.outputs[key], out_dir)) for label, key in
             (("data report (JSON)", "report"), ("rejected rows", "rejects"))
             if record.outputs.get(key) and Path(record.outputs[key]).is_file()]
    return rows, links


def _loss(name: str, outputs: dict[str, Any]) -> LossCurve | None:
    if outputs.get("logging"):
        path = Path(outputs["logging"])
    elif outputs.get("run_dir"):
        path = Path(outputs["run_dir"]) / "logging.jsonl"
    else:
        return None
    train, evals = loss_curves(path)
    return LossCurve(name, train, evals) if train or evals else None


def _infer(name: str, outputs: dict[str, Any], out_dir: Path) -> InferSummary:
    rows = outputs.get("rows")
    sample = [(str(s.get("query", "")), str(s.get("response", "")))
              for s in outputs.get("sample") or [] if isinstance(s, dict)]
    return InferSummary(name, rows if isinstance(rows, int) else None, _rel(outputs["results"], out_dir), sample)


def _git(manifest: Manifest) -> str | None:
    if not manifest.git_commit:
        return None
    return manifest.git_commit[:12] + (" (uncommitted changes)" if manifest.git_dirty else "")


def _rel(path: str | Path, out_dir: Path) -> str:
    return os.path.relpath(path, out_dir)


def _stage_row(name: str, record: StageRecord, out_dir: Path) -> StageRow:
    log = record.log if record.log and Path(record.log).is_file() else None
    return StageRow(name, kind_of(name, record), dict(record.upstream), str(record.status), record.started,
                    record.duration_s, len(record.attempts), _rel(log, out_dir) if log else None, record.message)


def _step(row: dict[str, Any]) -> int | None:
    raw = str(row.get("global_step/max_steps", "")).split("/")[0]
    return int(raw) if raw.isdigit() else None


def loss_curves(path: Path) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
    """(step, loss) and (step, eval_loss) from ms-swift's logging.jsonl; empty when absent."""
    train: list[tuple[int, float]] = []
    evals: list[tuple[int, float]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return train, evals
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:
            continue
        step = _step(row) if isinstance(row, dict) else None
        if step is None:
            continue
        if isinstance(row.get("loss"), int | float):
            train.append((step, float(row["loss"])))
        if isinstance(row.get("eval_loss"), int | float):
            evals.append((step, float(row["eval_loss"])))
    return train, evals


def _eval_links(outputs: dict[str, Any], out_dir: Path) -> list[tuple[str, str]]:
    links = []
    for label, key in (("comparison (markdown)", "compare_md"), ("comparison (JSON)", "compare_json")):
        if outputs.get(key) and Path(outputs[key]).is_file():
            links.append((label, _rel(outputs[key], out_dir)))
    for path in outputs.get("reports") or []:
        if Path(path).is_file():
            links.append((f"evalscope report: {Path(path).name}", _rel(path, out_dir)))
    return links
