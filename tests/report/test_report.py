"""The HTML/Markdown report from a manifest: stages, loss curves, scores, comparison."""

from __future__ import annotations

import json
from pathlib import Path

from swiftpipe.config.load import load_pipeline
from swiftpipe.engine.manifest import Manifest, StageRecord
from swiftpipe.report import write_report
from swiftpipe.report.collect import loss_curves
from swiftpipe.report.render import pretty_metric

ROUGE = 'rouge:mean[statistic="recall",variant="l"]'


def logging_jsonl(run_dir: Path) -> None:
    run_dir.mkdir(parents=True)
    rows = [{"loss": 2.0, "global_step/max_steps": "1/3"}, {"eval_loss": 1.9, "global_step/max_steps": "1/3"},
            {"loss": 1.5, "global_step/max_steps": "2/3"}, {"loss": 1.2, "global_step/max_steps": "3/3"},
            {"train_runtime": 2.0, "train_loss": 1.6}, {"last_model_checkpoint": "x"}]
    (run_dir / "logging.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows) + "not json\n")


def test_loss_curves(tmp_path: Path) -> None:
    logging_jsonl(tmp_path / "run")
    assert loss_curves(tmp_path / "run" / "logging.jsonl") == ([(1, 2.0), (2, 1.5), (3, 1.2)], [(1, 1.9)])
    assert loss_curves(tmp_path / "absent.jsonl") == ([], [])


def test_report_files(tmp_path: Path) -> None:
    (tmp_path / "pipeline.yaml").write_text("name: demo\nmodel: m\nstages:\n  eval:\n    datasets: {}\n")
    loaded = load_pipeline(tmp_path / "pipeline.yaml", [])
    logging_jsonl(tmp_path / "run")
    (loaded.workdir / "logs").mkdir(parents=True)
    (loaded.workdir / "logs" / "eval.log").write_text("log\n")
    manifest = Manifest(str(tmp_path / "pipeline.yaml"), str(loaded.workdir), git_commit="abcdef1234567890")
    manifest.stages["sft"] = StageRecord(status="succeeded", outputs={"run_dir": str(tmp_path / "run")})
    manifest.stages["eval"] = StageRecord(
        status="succeeded", duration_s=12.5, log=str(loaded.workdir / "logs" / "eval.log"),
        outputs={"primary": {"general_mcq": {"metric": "accuracy:mean", "score": 0.75},
                             "general_qa": {"metric": ROUGE, "score": 0.4}},
                 "base_primary": {"general_mcq": {"metric": "accuracy:mean", "score": 0.5},
                                  "general_qa": {"metric": ROUGE, "score": 0.4}},
                 "flags": ["something odd"]},
    )
    index = write_report(loaded, manifest)
    page = index.read_text()
    assert index == loaded.workdir / "report" / "index.html"
    assert page.count("data:image/png;base64,") == 2 and "http" not in page.split("<body>")[0]
    assert "rouge (recall, l)" in page and "+0.250" in page and "something odd" in page
    assert 'href="../logs/eval.log"' in page and "abcdef123456" in page
    md = (loaded.workdir / "report" / "report.md").read_text()
    assert "| general_mcq | accuracy | 0.500 | 0.750 | +0.250 |" in md
    assert "![loss](loss.png)" in md and (loaded.workdir / "report" / "loss.png").is_file()


def test_pretty_metric() -> None:
    assert pretty_metric(ROUGE) == "rouge (recall, l)" and pretty_metric("accuracy:mean") == "accuracy"
    assert pretty_metric("mean_acc") == "mean_acc"


def test_data_accounting_is_shown(tmp_path: Path) -> None:
    (tmp_path / "pipeline.yaml").write_text("name: demo\nmodel: m\n")
    loaded = load_pipeline(tmp_path / "pipeline.yaml", [])
    stats = {"rows_in": 10, "train": 6, "val": 1, "rejected": 3, "invariant_ok": True,
             "rejects_by_reason": {"duplicate": 1, "invalid_json": 2}}
    (tmp_path / "report.json").write_text(json.dumps(stats))
    (tmp_path / "rejects.jsonl").write_text("{}\n")
    manifest = Manifest(str(tmp_path / "pipeline.yaml"), str(loaded.workdir))
    manifest.stages["data"] = StageRecord(status="succeeded", outputs={
        "report": str(tmp_path / "report.json"), "rejects": str(tmp_path / "rejects.jsonl")})
    page = write_report(loaded, manifest).read_text()
    assert ("10 rows in: 6 train, 1 validation, 3 rejected (duplicate 1, invalid_json 2); "
            "rows in = train + val + rejected") in page
    assert 'href="../../../rejects.jsonl"' in page
