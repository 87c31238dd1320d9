"""What the report gathers from a manifest and the files its records name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from swiftpipe.engine.manifest import Attempt, Manifest
from swiftpipe.engine.status import Status
from swiftpipe.report.collect import collect
from swiftpipe.report.model import InferSummary, LossCurve, StageRow
from tests.report.helpers import logging_jsonl, pipeline, primary, record

SERVED: dict[str, Any] = {"url": "http://127.0.0.1:8001", "api_url": "http://127.0.0.1:8001/v1",
                          "served_model_name": "t", "serving_key": "k"}


def manifest_for(tmp_path: Path) -> tuple[Manifest, Path]:
    loaded = pipeline(tmp_path)
    out = loaded.workdir / "report"
    out.mkdir(parents=True)
    return Manifest(str(tmp_path / "pipeline.yaml"), str(loaded.workdir)), out


def test_header_git_and_versions(tmp_path: Path) -> None:
    loaded = pipeline(tmp_path)
    manifest = Manifest(str(tmp_path / "pipeline.yaml"), str(loaded.workdir), git_commit="0123456789abcdef",
                        git_dirty=True, tool_versions={"ms-swift": "4.6.0", "vllm": None})
    data = collect(loaded, manifest, loaded.workdir / "report")
    assert (data.title, data.pipeline, data.workdir) == ("demo", str(tmp_path / "pipeline.yaml"), str(loaded.workdir))
    assert data.git == "0123456789ab (uncommitted changes)" and data.versions == {"ms-swift": "4.6.0"}
    manifest.git_dirty, manifest.git_commit = False, "0123456789abcdef"
    assert collect(loaded, manifest, loaded.workdir / "report").git == "0123456789ab"
    manifest.git_commit = None
    assert collect(loaded, manifest, loaded.workdir / "report").git is None


def test_stage_rows_keep_the_manifest_order_and_link_only_logs_that_exist(tmp_path: Path) -> None:
    manifest, out = manifest_for(tmp_path)
    log = Path(manifest.workdir) / "logs" / "sft.log"
    log.parent.mkdir(parents=True)
    log.write_text("log\n")
    sft = record("sft", {"data": "data"})
    sft.log, sft.started, sft.message = str(log), "2026-01-02 03:04:05", "interrupted by Ctrl-C"
    sft.attempts = [Attempt("a", status=Status.INTERRUPTED), Attempt("b", status=Status.SUCCEEDED)]
    gone = record("export", {"model": "sft"})
    gone.log = str(Path(manifest.workdir) / "logs" / "export.log")  # never written
    manifest.stages.update({"data": record("data"), "sft": sft, "merged": gone})
    rows = collect(pipeline(tmp_path), manifest, out).stages
    assert [r.name for r in rows] == ["data", "sft", "merged"]
    assert rows[1] == StageRow("sft", "sft", {"data": "data"}, "succeeded", "2026-01-02 03:04:05", 3.0, 2,
                               "../logs/sft.log", "interrupted by Ctrl-C")
    assert rows[2].kind == "export" and rows[2].log is None


def test_a_record_without_a_kind_is_named_after_its_stage_and_an_unknown_kind_is_only_listed(tmp_path: Path) -> None:
    manifest, out = manifest_for(tmp_path)
    manifest.stages.update({"sft": record("", run_dir=str(tmp_path / "absent")),
                            "odd": record("someday-kind", results="x")})
    data = collect(pipeline(tmp_path), manifest, out)
    assert [(r.name, r.kind) for r in data.stages] == [("sft", "sft"), ("odd", "someday-kind")]
    assert data.losses == [] and data.infers == [] and data.links == []


def test_losses_come_from_the_logging_file_or_the_run_folder_of_a_run_that_did_not_finish(tmp_path: Path) -> None:
    manifest, out = manifest_for(tmp_path)
    logging_jsonl(tmp_path / "done")
    logging_jsonl(tmp_path / "partial")
    failed = record("sft", run_dir=str(tmp_path / "partial"))
    failed.status = Status.FAILED
    manifest.stages.update({
        "sft": record("sft", run_dir=str(tmp_path / "elsewhere"), logging=str(tmp_path / "done" / "logging.jsonl")),
        "sft2": failed, "sft3": record("sft", run_dir=str(tmp_path / "empty")), "sft4": record("sft"),
    })
    curve = LossCurve("sft", [(1, 2.0), (2, 1.5), (3, 1.2)], [(1, 1.9)])
    assert collect(pipeline(tmp_path), manifest, out).losses == [curve, LossCurve("sft2", curve.train, curve.eval)]


def test_servers_are_running_only_when_kept(tmp_path: Path) -> None:
    manifest, out = manifest_for(tmp_path)
    manifest.stages.update({
        "kept": record("deploy", **SERVED, running=True, kept=True),
        "stopped": record("deploy", **SERVED, running=True, kept=False),
        "never": record("deploy"),
    })
    assert collect(pipeline(tmp_path), manifest, out).servers == [
        ("kept", "running at http://127.0.0.1:8001/v1"), ("stopped", "stopped")]


def test_an_infer_stage_is_shown_once_it_succeeded_with_a_relative_link_and_its_sample(tmp_path: Path) -> None:
    manifest, out = manifest_for(tmp_path)
    results = Path(manifest.workdir) / "answers" / "results.jsonl"
    sample = [{"query": "q", "response": "r"}, "not a row", {"response": 5}]
    failed = record("infer", results=str(results), rows=1)
    failed.status = Status.FAILED
    manifest.stages.update({"answers": record("infer", results=str(results), rows=2, sample=sample),
                            "broken": failed})
    assert collect(pipeline(tmp_path), manifest, out).infers == [
        InferSummary("answers", 2, "../answers/results.jsonl", [("q", "r"), ("", "5")], "infer")]


def test_data_accounting_and_its_files(tmp_path: Path) -> None:
    manifest, out = manifest_for(tmp_path)
    stats = {"rows_in": 4, "train": 3, "val": 0, "rejected": 1, "invariant_ok": True,
             "rejects_by_reason": {"duplicate": 1}}
    (tmp_path / "report.json").write_text(json.dumps(stats))
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "bad.json").write_text("{")
    manifest.stages.update({
        "data": record("data", train="t", report=str(tmp_path / "report.json"), rejects=str(tmp_path / "no.jsonl")),
        "pairs": record("data", train="t", report=str(tmp_path / "list.json")),
        "chats": record("data", train="t", report=str(tmp_path / "bad.json")),
    })
    data = collect(pipeline(tmp_path), manifest, out)
    assert [(d.stage, d.rows_in, d.train, d.val, d.rejected, d.reasons, d.invariant_ok, d.kind) for d in data.data] == [
        ("data", 4, 3, 0, 1, {"duplicate": 1}, True, "data")]
    assert data.links == [("data report (JSON)", "../../../report.json")]  # the rejects file was never written


def test_eval_files_are_linked_when_they_exist_and_named_after_a_stage_not_named_like_its_kind(
    tmp_path: Path,
) -> None:
    manifest, out = manifest_for(tmp_path)
    work = Path(manifest.workdir) / "eval_a"
    (work / "reports").mkdir(parents=True)
    for name in ("compare.md", "compare.json", "reports/general_mcq.json"):
        (work / name).write_text("{}")
    manifest.stages["eval_a"] = record(
        "eval", primary=primary(0.5, 0.5), compare_md=str(work / "compare.md"), compare_json=str(work / "compare.json"),
        reports=[str(work / "reports" / "general_mcq.json"), str(work / "reports" / "gone.json")])
    assert collect(pipeline(tmp_path), manifest, out).links == [
        ("eval_a: comparison (markdown)", "../eval_a/compare.md"),
        ("eval_a: comparison (JSON)", "../eval_a/compare.json"),
        ("eval_a: evalscope report: general_mcq.json", "../eval_a/reports/general_mcq.json")]


def test_a_failed_eval_links_its_reports_but_one_without_reports_links_nothing(tmp_path: Path) -> None:
    manifest, out = manifest_for(tmp_path)
    report = Path(manifest.workdir) / "eval" / "r.json"
    report.parent.mkdir(parents=True)
    report.write_text("{}")
    with_reports = record("eval", reports=[str(report)])
    without = record("eval", compare_md=str(report))
    with_reports.status = without.status = Status.FAILED
    manifest.stages.update({"eval": with_reports, "eval2": without})
    assert collect(pipeline(tmp_path), manifest, out).links == [("evalscope report: r.json", "../eval/r.json")]
