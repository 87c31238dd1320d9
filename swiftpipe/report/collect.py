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

from swiftpipe.core.errors import UserError
from swiftpipe.engine.experiments import list_experiments
from swiftpipe.engine.manifest import Manifest, StageRecord
from swiftpipe.engine.outputs import Answers, DataSplits, Scores, Served, TrainingRun, known
from swiftpipe.engine.pipeline import LoadedPipeline
from swiftpipe.report.exptable import ExpTable, exp_table
from swiftpipe.report.model import (
    DataRows,
    InferSummary,
    LossCurve,
    ReportData,
    ScoreRow,
    StageRow,
    declared,
    kind_of,
    outputs_of,
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
    data.experiments = experiments(pipeline.workdir)
    return data


def experiments(workdir: Path) -> ExpTable | None:
    """The experiments table of `workdir`; None when there is none or a record is unreadable."""
    try:
        found = list_experiments(workdir)
    except UserError:
        return None
    return exp_table(found) if found else None


def _add_stage(data: ReportData, name: str, record: StageRecord, out_dir: Path) -> None:
    kind, out = declared(name, record), outputs_of(name, record)
    if kind is None or out is None:
        return
    prefix = "" if name == kind.name else f"{name}: "  # a stage named after its kind is not named
    if isinstance(out, DataSplits):
        rows = _data_rows(name, kind.name, out)
        data.data += [rows] if rows else []
        data.links += [(prefix + label, _rel(path, out_dir)) for label, path in
                       (("data report (JSON)", out.report), ("rejected rows", out.rejects))
                       if rows and known(path) and Path(path).is_file()]
    elif isinstance(out, TrainingRun):
        curve = _loss(name, out)
        data.losses += [curve] if curve else []
    elif isinstance(out, Served) and known(out.url):
        running = out.running and out.kept
        data.servers.append((name, f"running at {out.api_url}" if running else "stopped"))
    elif isinstance(out, Answers) and usable(record) and known(out.results):
        data.infers.append(_infer(name, kind.name, out, out_dir))
    elif isinstance(out, Scores) and (usable(record) or out.reports):
        data.links += [(prefix + label, href) for label, href in _eval_links(out, out_dir)]


def _data_rows(name: str, kind: str, splits: DataSplits) -> DataRows | None:
    try:
        stats = json.loads(Path(splits.report).read_text(encoding="utf-8")) if known(splits.report) else None
    except (OSError, ValueError):
        return None
    if not isinstance(stats, dict):
        return None
    return DataRows(name, int(stats.get("rows_in", 0)), int(stats.get("train", 0)), int(stats.get("val", 0)),
                    int(stats.get("rejected", 0)), dict(stats.get("rejects_by_reason") or {}),
                    bool(stats.get("invariant_ok")), kind)


def _loss(name: str, run: TrainingRun) -> LossCurve | None:
    if known(run.logging):
        path = Path(run.logging)
    elif known(run.run_dir):  # a run that failed or is still going: only its folder is recorded
        path = Path(run.run_dir) / "logging.jsonl"
    else:
        return None
    train, evals = loss_curves(path)
    return LossCurve(name, train, evals) if train or evals else None


def _infer(name: str, kind: str, answers: Answers, out_dir: Path) -> InferSummary:
    sample = [(str(s.get("query", "")), str(s.get("response", ""))) for s in answers.sample if isinstance(s, dict)]
    return InferSummary(name, answers.rows, _rel(answers.results, out_dir), sample, kind)


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


def _eval_links(scores: Scores, out_dir: Path) -> list[tuple[str, str]]:
    links = []
    for label, path in (("comparison (markdown)", scores.compare_md), ("comparison (JSON)", scores.compare_json)):
        if path and Path(path).is_file():
            links.append((label, _rel(path, out_dir)))
    for report in scores.reports:
        if Path(report).is_file():
            links.append((f"evalscope report: {Path(report).name}", _rel(report, out_dir)))
    return links
