"""CMMLU and C-Eval CSV folders as users have them, evaluated for real: swiftpipe converts them,
`swift deploy` serves the tiny model (transformers backend) and the real evalscope scores
every subject. A dataset that fails in the middle keeps the scores of those before it, and
the next attempt evaluates only what did not finish."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from swiftpipe.commands.run import run
from swiftpipe.core import host, process
from swiftpipe.core.errors import StageFailed
from swiftpipe.engine.manifest import load_manifest
from swiftpipe.engine.select import Selection
from swiftpipe.evaluation.evalreport import read_report
from swiftpipe.serving.server import ServerInfo

pytestmark = pytest.mark.integration

REPO = Path(__file__).parent.parent.parent
VENV = Path(sys.executable).parent.parent
DATA = REPO / "datasets" / "eval"
CMMLU_SUBJECTS = ["chinese_food_culture", "computer_science", "elementary_mathematics"]
CEVAL_SUBJECTS = ["computer_network", "high_school_mathematics", "logic"]


def test_cmmlu_and_ceval_folders_per_subject_and_a_failed_dataset_resumed_alone(
    tmp_path: Path, tiny_model: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(f"""
name: bench
model: {tiny_model}
model_type: qwen3
template: qwen3
stages:
  deploy:
    backend: transformers
    port: {host.free_port()}
    served_model_name: tiny
    ready_timeout: 120
    venv: {VENV}
    args: {{model_type: qwen3, template: qwen3}}  # the deploy kind passes neither for a base model
  eval:
    venv: {VENV}
    datasets:
      cmmlu: {{local_path: {DATA / "cmmlu-sample"}}}
      ceval: {{local_path: {DATA / "ceval-sample"}}}
      general_mcq: {{local_path: {tmp_path / "empty"}, subset_list: [demo]}}
    limit: 2
    batch_size: 2
    generation_config: {{temperature: 0, max_tokens: 8, timeout: 60, retries: 1}}
""")
    workdir = tmp_path / "runs" / "bench"
    with pytest.raises(StageFailed):
        run(pipeline, overrides=[], selection=Selection(), keep_serving=False)
    first = load_manifest(workdir)
    assert first is not None
    failed = first.stages["eval"]
    assert str(failed.status) == "failed"
    assert (failed.message or "").startswith("general_mcq failed: FileNotFoundError: ")
    assert (failed.message or "").endswith(
        "(evalscope found no data file: check stages.eval.datasets.general_mcq.local_path and subset_list); "
        "kept the scores of cmmlu, ceval")
    assert set(failed.outputs["primary"]) == {"cmmlu", "ceval"}
    assert sorted(failed.outputs["subsets"]["cmmlu"]) == CMMLU_SUBJECTS
    assert sorted(failed.outputs["subsets"]["ceval"]) == CEVAL_SUBJECTS
    assert "cmmlu: accuracy:mean " in capfd.readouterr().err

    fixed = [f"stages.eval.datasets.general_mcq.local_path={DATA / 'mcq'}"]
    assert run(pipeline, overrides=fixed, selection=Selection(from_stage="eval"), keep_serving=False) == 0
    assert "kept from the failed last attempt (same settings): cmmlu, ceval; evaluating general_mcq" in (
        capfd.readouterr().err)
    result = load_manifest(workdir)
    assert result is not None
    evals, deploy = result.stages["eval"], result.stages["deploy"]
    assert str(evals.status) == "succeeded"
    sent = evals.argv[evals.argv.index("--datasets") + 1: evals.argv.index("--dataset-args")]
    assert sent == ["cmmlu", "ceval", "general_mcq"]  # the recorded command is the whole stage's
    converted = workdir / "eval" / "benchmarks"
    assert evals.outputs["benchmarks"]["ceval"]["converted"] == str(converted / "ceval")
    for name, subjects in (("cmmlu", CMMLU_SUBJECTS), ("ceval", CEVAL_SUBJECTS)):
        report = read_report(workdir / "eval" / "finetuned" / "reports" / "tiny" / f"{name}.json")
        assert report.requested == 2 * len(subjects) and report.errored == 0
        assert sorted(evals.outputs["subsets"][name]) == subjects
        assert evals.outputs["primary"][name] == {"metric": report.primary, "score": report.primary_score}
    page = (workdir / "report" / "report.md").read_text()
    assert "## Results" in page and "Per subject:" in page
    for subject in CMMLU_SUBJECTS + CEVAL_SUBJECTS:
        assert f"| {subject} |" in page, subject
    info = ServerInfo.from_outputs(deploy.outputs)
    assert info is not None and not info.running and process.group_members(info.pgid) == []
