"""Gather what the report shows from the manifest and the files it points at."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swiftpipe.config.schema import LoadedPipeline
from swiftpipe.engine.manifest import Manifest
from swiftpipe.kinds import configured


@dataclass(frozen=True)
class StageRow:
    name: str
    status: str
    started: str | None
    duration_s: float | None
    attempts: int
    log: str | None  # relative to the report folder
    message: str | None


@dataclass(frozen=True)
class ScoreRow:
    dataset: str
    metric: str
    finetuned: float | None
    base: float | None

    @property
    def delta(self) -> float | None:
        return None if self.finetuned is None or self.base is None else self.finetuned - self.base


@dataclass(frozen=True)
class DataRows:
    """The data stage's accounting: every row in is either out (train/val) or rejected."""

    rows_in: int
    train: int
    val: int
    rejected: int
    reasons: dict[str, int]
    invariant_ok: bool


@dataclass
class ReportData:
    title: str
    pipeline: str
    workdir: str
    generated: str
    git: str | None
    versions: dict[str, str | None]
    stages: list[StageRow]
    train_loss: list[tuple[int, float]] = field(default_factory=list)
    eval_loss: list[tuple[int, float]] = field(default_factory=list)
    scores: list[ScoreRow] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    server: str | None = None  # "running at URL" / "stopped"
    data: DataRows | None = None
    links: list[tuple[str, str]] = field(default_factory=list)  # (label, relative path)


def collect(pipeline: LoadedPipeline, manifest: Manifest, out_dir: Path) -> ReportData:
    names = [n for n in configured(pipeline.config) if n in manifest.stages] or list(manifest.stages)
    data = ReportData(
        title=pipeline.config.name, pipeline=str(pipeline.source), workdir=str(pipeline.workdir),
        generated=time.strftime("%Y-%m-%d %H:%M:%S"), git=_git(manifest),
        versions={k: v for k, v in manifest.tool_versions.items() if v},
        stages=[_stage_row(n, manifest, out_dir) for n in names],
    )
    data.data, data_links = _data_rows(manifest, out_dir)
    data.links += data_links
    sft = manifest.stages.get("sft")
    if sft is not None and sft.outputs.get("run_dir"):
        data.train_loss, data.eval_loss = loss_curves(Path(sft.outputs["run_dir"]) / "logging.jsonl")
    evals = manifest.stages.get("eval")
    if evals is not None and evals.status in ("succeeded", "skipped"):
        data.scores = score_rows(evals.outputs)
        data.flags = list(evals.outputs.get("flags") or [])
        data.links += _eval_links(evals.outputs, out_dir)
    deploy = manifest.stages.get("deploy")
    if deploy is not None and deploy.outputs.get("url"):
        running = deploy.outputs.get("running") and deploy.outputs.get("kept")
        data.server = f"running at {deploy.outputs.get('api_url')}" if running else "stopped"
    return data


def _data_rows(manifest: Manifest, out_dir: Path) -> tuple[DataRows | None, list[tuple[str, str]]]:
    record = manifest.stages.get("data")
    report = record.outputs.get("report") if record is not None else None
    try:
        stats = json.loads(Path(report).read_text(encoding="utf-8")) if report else None
    except (OSError, ValueError):
        return None, []
    if not isinstance(stats, dict):
        return None, []
    rows = DataRows(int(stats.get("rows_in", 0)), int(stats.get("train", 0)), int(stats.get("val", 0)),
                    int(stats.get("rejected", 0)), dict(stats.get("rejects_by_reason") or {}),
                    bool(stats.get("invariant_ok")))
    assert record is not None
    links = [(label, _rel(record.outputs[key], out_dir)) for label, key in
             (("data report (JSON)", "report"), ("rejected rows", "rejects"))
             if record.outputs.get(key) and Path(record.outputs[key]).is_file()]
    return rows, links


def _git(manifest: Manifest) -> str | None:
    if not manifest.git_commit:
        return None
    return manifest.git_commit[:12] + (" (uncommitted changes)" if manifest.git_dirty else "")


def _rel(path: str | Path, out_dir: Path) -> str:
    return os.path.relpath(path, out_dir)


def _stage_row(name: str, manifest: Manifest, out_dir: Path) -> StageRow:
    record = manifest.stages[name]
    log = record.log if record.log and Path(record.log).is_file() else None
    return StageRow(name, record.status, record.started, record.duration_s, len(record.attempts),
                    _rel(log, out_dir) if log else None, record.message)


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


def score_rows(outputs: dict[str, Any]) -> list[ScoreRow]:
    """One row per dataset: its primary metric, fine-tuned and (if compared) base."""
    tuned = outputs.get("primary") or {}
    base = outputs.get("base_primary") or {}
    rows = []
    for name in sorted(set(tuned) | set(base)):
        t, b = tuned.get(name) or {}, base.get(name) or {}
        rows.append(ScoreRow(name, str(t.get("metric") or b.get("metric")), t.get("score"), b.get("score")))
    return rows


def _eval_links(outputs: dict[str, Any], out_dir: Path) -> list[tuple[str, str]]:
    links = []
    for label, key in (("comparison (markdown)", "compare_md"), ("comparison (JSON)", "compare_json")):
        if outputs.get(key) and Path(outputs[key]).is_file():
            links.append((label, _rel(outputs[key], out_dir)))
    for path in outputs.get("reports") or []:
        if Path(path).is_file():
            links.append((f"evalscope report: {Path(path).name}", _rel(path, out_dir)))
    return links
