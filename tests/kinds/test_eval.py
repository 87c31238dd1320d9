"""The eval stage: the evalscope command, failing on errored requests, base vs fine-tuned."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swiftpipe.commands.run import run
from swiftpipe.core import process
from swiftpipe.core.errors import StageFailed, UserError
from swiftpipe.engine.manifest import StageRecord, load_manifest
from swiftpipe.engine.select import Selection
from swiftpipe.kinds.eval import EvalStage
from swiftpipe.loading import load_pipeline
from swiftpipe.serving.server import ServerInfo
from tests.conftest import stage_context
from tests.kinds.servefakes import write_pipeline


def eval_plan_argv(pipeline: Path, *overrides: str) -> list[str]:
    loaded = load_pipeline(pipeline, list(overrides))
    deploy = {"api_url": "http://127.0.0.1:9/v1", "served_model_name": "tiny", "model": "/m",
              "backend": "transformers", "serving_key": "k"}
    return [str(a) for a in EvalStage().plan(stage_context(loaded, "eval", {"deploy": deploy})).argv]


def go(pipeline: Path, *overrides: str) -> int:
    return run(pipeline, overrides=list(overrides), selection=Selection(), keep_serving=False)


def eval_record(pipeline: Path) -> StageRecord:
    manifest = load_manifest(pipeline.parent / "runs" / "t")
    assert manifest is not None
    return manifest.stages["eval"]


def test_the_evalscope_command(tmp_path: Path) -> None:
    argv = eval_plan_argv(write_pipeline(tmp_path), "stages.eval.generation_config.max_tokens=16",
                          "stages.eval.args.seed=7")
    datasets = json.loads(argv[argv.index("--dataset-args") + 1])
    assert datasets == {
        "general_mcq": {"local_path": str(tmp_path / "data" / "mcq"), "subset_list": ["demo"],
                        "filters": {"remove_until": "</think>"}},
        "general_qa": {"local_path": str(tmp_path / "data" / "qa"), "subset_list": ["demo"],
                       "metric_list": ["Rouge"], "filters": {"remove_until": "</think>"}},
    }
    at = argv.index("--dataset-args")
    assert argv[1:at] == ["eval", "--eval-type", "openai_api", "--api-url", "http://127.0.0.1:9/v1",
                          "--model", "tiny", "--datasets", "general_mcq", "general_qa"]
    assert argv[at + 2:] == ["--eval-batch-size", "4", "--generation-config",
                             '{"temperature":0.0,"max_tokens":16}', "--limit", "5",
                             "--work-dir", str(tmp_path / "runs" / "t" / "eval" / "finetuned"),
                             "--no-timestamp", "--seed", "7"]
    assert "--api-key" not in argv


def test_a_missing_local_path_is_one_line_before_anything_runs(tmp_path: Path) -> None:
    pipeline = write_pipeline(tmp_path)
    with pytest.raises(UserError) as err:
        eval_plan_argv(pipeline, "stages.eval.datasets.general_qa.local_path=data/nope")
    assert str(err.value) == (
        f"{pipeline} › stages.eval.datasets.general_qa.local_path: data/nope does not exist "
        f"(looked for {tmp_path / 'data' / 'nope'}); relative paths start at the folder of {pipeline}"
    )


def test_scores_come_from_the_report_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_EVAL_SCORE", "0.6")
    pipeline = write_pipeline(tmp_path)
    assert go(pipeline) == 0
    record = eval_record(pipeline)
    assert record.outputs["primary"]["general_mcq"] == {"metric": "accuracy:mean", "score": 0.6}
    rouge = 'rouge:mean[statistic="recall",variant="l"]'
    assert record.outputs["primary"]["general_qa"] == {"metric": rouge, "score": 0.0}
    assert record.metrics == {"general_mcq": 0.6, "general_qa": 0.0}
    assert (tmp_path / "runs" / "t" / "report" / "index.html").is_file()


def test_errored_requests_fail_the_stage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_EVAL", "errored")
    pipeline = write_pipeline(tmp_path)
    with pytest.raises(StageFailed):
        go(pipeline)
    message = eval_record(pipeline).message or ""
    assert message.startswith("general_mcq failed: 3 of 3 requests failed; evalscope marked the report "
                              "incomplete; no score (no successful samples) (set stages.eval.ignore_errors: true "
                              "to skip failed samples and keep the rest)")


def test_a_failed_eval_resumes_from_itself_and_starts_the_server_it_reads_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FAKE_EVAL", "rc1")
    pipeline = write_pipeline(tmp_path)
    with pytest.raises(StageFailed) as info:
        go(pipeline)
    assert str(info.value).endswith(f"resume with:\n  swiftpipe run {pipeline} --from eval")
    monkeypatch.delenv("FAKE_EVAL")
    capfd.readouterr()
    assert run(pipeline, overrides=[], selection=Selection(from_stage="eval"), keep_serving=False) == 0
    err = capfd.readouterr().err
    assert "deploy: running (needed by eval; the server is not running)" in err
    assert "eval: running (last attempt failed)" in err


def test_ignore_errors_passes_with_a_notice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FAKE_EVAL", "missing")
    pipeline = write_pipeline(tmp_path, extra_eval="    ignore_errors: true\n")
    assert go(pipeline) == 0
    assert "general_qa: evalscope wrote no report (ignored: stages.eval.ignore_errors is true)" in (
        capfd.readouterr().err)


def test_a_failed_evalscope_exit_code_fails_even_with_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_EVAL", "rc1")
    pipeline = write_pipeline(tmp_path)
    with pytest.raises(StageFailed):
        go(pipeline)
    assert eval_record(pipeline).message == (
        "general_mcq failed: evalscope exited with code 1 and wrote no report (set stages.eval.ignore_errors: true "
        "to skip failed samples and keep the rest); not run: general_qa; no dataset finished")


def test_compare_base_serves_the_base_model_and_writes_the_comparison(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    pipeline = write_pipeline(tmp_path, extra_eval="    compare_base: true\n")
    assert go(pipeline) == 0
    record = eval_record(pipeline)
    manifest = load_manifest(pipeline.parent / "runs" / "t")
    assert manifest is not None and record.upstream == {"server": "deploy", "base": "eval-base"}
    base = ServerInfo.from_outputs(manifest.stages["eval-base"].outputs["server"])
    assert base is not None and base.served_model_name == "t-base" and not base.running
    assert process.group_members(base.pgid) == []
    compare = json.loads((tmp_path / "runs" / "t" / "eval" / "compare.json").read_text())
    mcq = next(r for r in compare["rows"] if r["dataset"] == "general_mcq" and r["primary"])
    assert mcq == {"dataset": "general_mcq", "metric": "accuracy:mean", "primary": True,
                   "base": 0.25, "finetuned": 0.25, "delta": 0.0}
    assert record.outputs["flags"] and "identical" in record.outputs["flags"][0]
    assert "base vs fine-tuned: identical" in capfd.readouterr().err
    assert (tmp_path / "runs" / "t" / "eval-base" / "reports" / "t-base" / "general_mcq.json").is_file()
    capfd.readouterr()
    assert go(pipeline, "stages.deploy.served_model_name=tiny2") == 0  # the tuned side changes, not the base
    err = capfd.readouterr().err
    assert "eval-base: skipped (up to date)" in err and "eval: running (inputs changed: served, model)" in err


def test_a_stopped_server_is_restarted_only_when_a_later_stage_runs(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    pipeline = write_pipeline(tmp_path)
    go(pipeline)
    capfd.readouterr()
    go(pipeline)  # the server was stopped at the end; nothing needs it
    err = capfd.readouterr().err
    assert "deploy: waits (the server is not running; starts when a stage after it needs it)" in err
    assert "eval: skipped (up to date)" in err
    assert "deploy: not started (no stage that reads it had to run)" in err
    run(pipeline, overrides=["stages.eval.limit=2"], selection=Selection(), keep_serving=False)
    err = capfd.readouterr().err
    assert "deploy: running (needed by eval; the server is not running)" in err
    assert "eval: running (inputs changed: limit)" in err


CMMLU = Path(__file__).parent.parent.parent / "datasets" / "eval" / "cmmlu-sample"
CONNECTION = "openai.APIConnectionError: Connection error."
SCORED = "stages.eval.limit=2"  # the fake evalscope scores 2 questions of every subject


def evalscope_calls(log: Path) -> list[list[str]]:
    return [json.loads(line)["argv"] for line in log.read_text().splitlines()]


def test_one_failed_dataset_keeps_the_others_and_the_next_attempt_runs_only_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_EVAL_LOG", str(log))
    monkeypatch.setenv("FAKE_EVAL_FAIL", f"general_qa:{CONNECTION}")
    pipeline = write_pipeline(tmp_path)
    with pytest.raises(StageFailed):
        go(pipeline)
    record = eval_record(pipeline)
    assert record.message == (
        f"general_qa failed: {CONNECTION} (the server did not answer: check that it is up and its log, then resume); "
        "kept the scores of general_mcq")
    assert record.outputs["primary"] == {"general_mcq": {"metric": "accuracy:mean", "score": 0.25}}
    assert record.outputs["failed"] == {"general_qa": CONNECTION}
    assert "general_mcq: accuracy:mean 0.2500 (finished; kept in the manifest)" in capfd.readouterr().err
    report = (tmp_path / "runs" / "t" / "report" / "report.md").read_text()
    assert "| general_mcq | accuracy | 0.250 |" in report
    assert f"> warning: general_qa: {CONNECTION}" in report

    monkeypatch.delenv("FAKE_EVAL_FAIL")
    assert run(pipeline, overrides=[], selection=Selection(from_stage="eval"), keep_serving=False) == 0
    assert "kept from the failed last attempt (same settings): general_mcq; evaluating general_qa" in (
        capfd.readouterr().err)
    second = evalscope_calls(log)[-1]
    assert second[second.index("--datasets") + 1: second.index("--dataset-args")] == ["general_qa"]
    record = eval_record(pipeline)
    assert set(record.outputs["primary"]) == {"general_mcq", "general_qa"}
    assert (tmp_path / "runs" / "t" / "eval" / "finetuned" / "reports" / "tiny" / "general_mcq.json").is_file()


def test_a_changed_dataset_is_evaluated_again_after_a_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_EVAL_LOG", str(log))
    monkeypatch.setenv("FAKE_EVAL_FAIL", "general_qa:KeyError: 'choices'")
    pipeline = write_pipeline(tmp_path)
    with pytest.raises(StageFailed):
        go(pipeline)
    assert (eval_record(pipeline).message or "").startswith(
        "general_qa failed: KeyError: 'choices' (set stages.eval.ignore_errors: true to skip failed samples")
    monkeypatch.delenv("FAKE_EVAL_FAIL")
    assert go(pipeline, "stages.eval.datasets.general_mcq.few_shot_num=0") == 0
    last = evalscope_calls(log)[-1]
    assert last[last.index("--datasets") + 1: last.index("--dataset-args")] == ["general_mcq", "general_qa"]


def test_rows_changed_behind_the_same_file_name_are_evaluated_again_after_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_EVAL_LOG", str(log))
    monkeypatch.setenv("FAKE_EVAL_FAIL", f"general_qa:{CONNECTION}")
    pipeline = write_pipeline(tmp_path)
    with pytest.raises(StageFailed):
        go(pipeline)
    monkeypatch.delenv("FAKE_EVAL_FAIL")
    (tmp_path / "data" / "mcq" / "demo_val.csv").write_text("id,question,A,B,answer\n1,another,a,b,B\n")
    assert run(pipeline, overrides=[], selection=Selection(from_stage="eval"), keep_serving=False) == 0
    last = evalscope_calls(log)[-1]
    assert last[last.index("--datasets") + 1: last.index("--dataset-args")] == ["general_mcq", "general_qa"]


def test_a_cmmlu_csv_folder_is_converted_and_scored_per_subject(tmp_path: Path) -> None:
    pipeline = write_pipeline(tmp_path)
    assert go(pipeline, f"stages.eval.datasets.cmmlu.local_path={CMMLU}", SCORED) == 0
    record = eval_record(pipeline)
    converted = tmp_path / "runs" / "t" / "eval" / "benchmarks" / "cmmlu"
    subjects = ["chinese_food_culture", "computer_science", "elementary_mathematics"]
    assert record.outputs["benchmarks"]["cmmlu"] == {
        "source": str(CMMLU / "data"), "converted": str(converted), "subjects": subjects,
        "rows": {s: {"test": 10, "dev": 5} for s in subjects}}
    assert (converted / "README.md").is_file() and (converted / "test.jsonl").is_file()
    sent = json.loads(record.argv[record.argv.index("--dataset-args") + 1])["cmmlu"]
    assert sent["local_path"] == str(converted) and sent["subset_list"] == subjects
    assert record.outputs["subsets"]["cmmlu"] == dict(zip(subjects, (0.1, 0.2, 0.3), strict=True))
    report = (tmp_path / "runs" / "t" / "report" / "report.md").read_text()
    assert "| cmmlu | computer_science | 0.200 |" in report


def test_ceval_without_dev_rows_is_refused_before_anything_runs(tmp_path: Path) -> None:
    pipeline = write_pipeline(tmp_path)
    (tmp_path / "ceval" / "val").mkdir(parents=True)
    (tmp_path / "ceval" / "val" / "logic_val.csv").write_text(
        "id,question,A,B,C,D,answer,explanation\n0,q,a,b,c,d,A,\n")
    with pytest.raises(UserError) as err:
        eval_plan_argv(pipeline, "stages.eval.datasets.ceval.local_path=ceval")
    assert str(err.value) == (
        f"{pipeline} › stages.eval.datasets.ceval: few_shot_num is 5 (C-Eval's default) but logic has 0 dev rows "
        f"in {tmp_path / 'ceval'}, add dev/logic_dev.csv with at least 5 rows or set "
        "stages.eval.datasets.ceval.few_shot_num: 0")


def test_the_base_model_is_scored_per_subject_on_its_own_converted_copy(tmp_path: Path) -> None:
    pipeline = write_pipeline(tmp_path, extra_eval="    compare_base: true\n")
    assert go(pipeline, f"stages.eval.datasets.cmmlu.local_path={CMMLU}", SCORED) == 0
    manifest = load_manifest(pipeline.parent / "runs" / "t")
    assert manifest is not None
    base = manifest.stages["eval-base"]
    assert base.outputs["benchmarks"]["cmmlu"]["converted"] == str(tmp_path / "runs" / "t" / "eval-base" /
                                                                    "benchmarks" / "cmmlu")
    assert base.outputs["subsets"]["cmmlu"] == {"chinese_food_culture": 0.1, "computer_science": 0.2,
                                                "elementary_mathematics": 0.3}
    report = (tmp_path / "runs" / "t" / "report" / "report.md").read_text()
    assert "| cmmlu | computer_science | 0.200 | 0.200 | +0.000 |" in report


def test_a_subject_scored_on_other_rows_than_the_converted_ones_fails_the_stage(tmp_path: Path) -> None:
    pipeline = write_pipeline(tmp_path)  # limit 5: the stage's files hold 5 of each subject's 10
    with pytest.raises(StageFailed):
        go(pipeline, f"stages.eval.datasets.cmmlu.local_path={CMMLU}")
    converted = tmp_path / "runs" / "t" / "eval" / "benchmarks" / "cmmlu"
    assert eval_record(pipeline).message == "; ".join(
        f"stages.eval.datasets.cmmlu: evalscope scored 2 questions of {subject}, the stage's converted files "
        f"({converted}) hold 5 (limit 5 of 10): these scores are not of the files this stage names"
        for subject in ("chinese_food_culture", "computer_science", "elementary_mathematics"))


def test_evalscope_loads_datasets_through_a_cache_of_each_stage_folder_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = tmp_path / "caches.txt"
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "users-cache"))
    pipeline = write_pipeline(tmp_path, extra_eval="    compare_base: true\n")
    wrapper = tmp_path / "servevenv" / "bin" / "evalscope"
    wrapper.write_text(wrapper.read_text().replace("exec ", f'echo "$HF_DATASETS_CACHE" >> {seen}\nexec ', 1))
    assert go(pipeline) == 0
    runs = tmp_path / "runs" / "t"
    caches = [Path(p) for p in seen.read_text().split()]
    assert caches == [runs / "eval-base" / ".datasets-cache", runs / "eval" / ".datasets-cache"]
    assert not any(p.exists() for p in caches) and not (tmp_path / "users-cache").exists()
