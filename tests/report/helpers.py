"""Manifests for the report tests, built directly (no pipeline run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from swiftpipe.engine.experiments import Experiment, StageRun
from swiftpipe.engine.manifest import Manifest, StageRecord
from swiftpipe.engine.pipeline import LoadedPipeline
from swiftpipe.engine.status import Status
from swiftpipe.loading import load_pipeline
from swiftpipe.report.model import DataRows, EvalTable, InferSummary, ReportData, ResultRow, ScoreRow, StageRow

ROUGE = 'rouge:mean[statistic="recall",variant="l"]'


def pipeline(tmp_path: Path) -> LoadedPipeline:
    (tmp_path / "pipeline.yaml").write_text("name: demo\nmodel: m\n")
    return load_pipeline(tmp_path / "pipeline.yaml", [])


def logging_jsonl(run_dir: Path) -> None:
    run_dir.mkdir(parents=True)
    rows = [{"loss": 2.0, "global_step/max_steps": "1/3"}, {"eval_loss": 1.9, "global_step/max_steps": "1/3"},
            {"loss": 1.5, "global_step/max_steps": "2/3"}, {"loss": 1.2, "global_step/max_steps": "3/3"},
            {"train_runtime": 2.0, "train_loss": 1.6}, {"last_model_checkpoint": "x"}]
    (run_dir / "logging.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows) + "not json\n")


def primary(mcq: float, qa: float, **more: float) -> dict[str, Any]:
    scores = {"general_mcq": {"metric": "accuracy:mean", "score": mcq}, "general_qa": {"metric": ROUGE, "score": qa}}
    return scores | {name: {"metric": "accuracy:mean", "score": s} for name, s in more.items()}


def record(kind: str, upstream: dict[str, str] | None = None, **outputs: Any) -> StageRecord:
    return StageRecord(kind=kind, upstream=upstream or {}, status=Status.SUCCEEDED, duration_s=3.0, outputs=outputs)


def two_variants(tmp_path: Path, workdir: Path) -> Manifest:
    """data -> sft_a, and data + (pt -> pt-merged) -> sft_b; each exported, deployed, evaluated
    against one shared base-eval."""
    logging_jsonl(tmp_path / "run_a")
    logging_jsonl(tmp_path / "run_b")
    manifest = Manifest(str(tmp_path / "pipeline.yaml"), str(workdir))
    manifest.stages.update({
        "data": record("data"),
        "pt": record("pt", {"data": "data"}),
        "pt-merged": record("export", {"model": "pt"}),
        "sft_a": record("sft", {"data": "data"}, run_dir=str(tmp_path / "run_a")),
        "sft_b": record("sft", {"data": "data", "model": "pt-merged"}, run_dir=str(tmp_path / "run_b")),
        "export_a": record("export", {"model": "sft_a"}),
        "export_b": record("export", {"model": "sft_b"}),
        "deploy_a": record("deploy", {"model": "export_a"}, url="http://127.0.0.1:8001",
                           api_url="http://127.0.0.1:8001/v1", running=False, kept=False),
        "deploy_b": record("deploy", {"model": "export_b"}),
        "eval-base": record("base-eval", primary=primary(0.5, 0.4)),
        "eval_a": record("eval", {"server": "deploy_a", "base": "eval-base"}, primary=primary(0.75, 0.4, arc=0.3)),
        "eval_b": record("eval", {"server": "deploy_b", "base": "eval-base"}, primary=primary(0.8, 0.45),
                         flags=["b looks odd"]),
    })
    return manifest


def small_report() -> ReportData:
    """One of everything the report shows, built directly: a results row with and without scores, an
    eval with a base (one delta up, one down) and a flag, an infer stage, a data stage whose rows
    do not add up, three stages (one failed, one with a log) and one server."""
    return ReportData(
        title="demo", pipeline="/p/pipeline.yaml", workdir="/w/runs/demo", generated="2026-01-02 03:04:05",
        git="abcdef123456 (uncommitted changes)", versions={"ms-swift": "4.6.0", "evalscope": "1.0"},
        stages=[StageRow("data", "data", {}, "succeeded", "2026-01-02 03:00:00", 2.0, 1, None, None),
                StageRow("sft", "sft", {"data": "data"}, "succeeded", "2026-01-02 03:00:02", 150.0, 2,
                         "../logs/sft.log", None),
                StageRow("eval", "eval", {"model": "sft"}, "failed", None, None, 1, None,
                         "evalscope exited with code 1")],
        evals=[EvalTable("eval", "eval", "eval-base", [ScoreRow("general_mcq", "accuracy:mean", 0.75, 0.5),
                                                      ScoreRow("general_qa", ROUGE, 0.25, 0.5)], ["odd"])],
        results=[ResultRow("sft", 3, 1.2, 150.0, ScoreRow("general_mcq", "accuracy:mean", 0.75, 0.5)),
                 ResultRow("pt", None, None, None, None)],
        infers=[InferSummary("answers", 2, "../answers/results.jsonl", [("q1", "a1")], "infer")],
        data=[DataRows("data", 10, 7, 1, 2, {"too_long": 1, "duplicate": 1}, False, "data")],
        servers=[("deploy", "running at http://127.0.0.1:8000/v1")],
        links=[("data report (JSON)", "../data/report.json")],
    )


def experiment(workdir: Path, exp_id: str, lr: float, score: float, run_dir: Path, name: str | None = None) -> None:
    """One experiment record: sft at learning rate `lr` (its log in `run_dir`), an eval scoring `score`."""
    e = Experiment(id=exp_id, started=f"2026-12-05T10:{exp_id[-2:]}:00.000+0000",
                   ended="2026-12-05T11:00:00.000+0000", outcome="succeeded", pipeline="/p/pipeline.yaml",
                   name=name, config={"name": "demo", "stages.sft.args.learning_rate": lr},
                   stages={"sft": StageRun("sft", "succeeded", outputs={"run_dir": str(run_dir)},
                                           metrics={"steps": 3, "train_loss": 1.6}),
                           "eval": StageRun("eval", "succeeded", metrics={"general_mcq": score})})
    folder = workdir / "experiments"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{e.id}.json").write_text(e.to_json())
