"""The training kinds (sft, pt, rlhf): the exact `swift` command, what keeps a plan from being ready,
resuming an interrupted run, and what a finished run records."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from swiftpipe.core.errors import StageFailed, UserError
from swiftpipe.engine.fingerprint import fingerprint
from swiftpipe.engine.manifest import StageRecord
from swiftpipe.engine.outputs import TrainingRun
from swiftpipe.engine.pipeline import LoadedPipeline
from swiftpipe.engine.stage import StageContext, StagePlan
from swiftpipe.engine.status import Status
from swiftpipe.kinds import get_kind
from swiftpipe.kinds.pt import PtStage
from swiftpipe.kinds.rlhf import RlhfConfig, RlhfStage
from swiftpipe.kinds.sft import SftStage
from swiftpipe.kinds.training import RESUME_FLAG, TrainParams
from swiftpipe.loading import load_pipeline
from tests.conftest import stage_context
from tests.kinds.conftest import SWIFT, FakeLauncher, checkpoint

WritePipeline = Callable[..., Path]
EFFECTIVE = ("effective batch 16 = per_device_train_batch_size 1 x gradient_accumulation_steps 16 "
             "(ms-swift's default: ceil(16 / 1 / 1)) x world size 1")


def load(write_pipeline: WritePipeline, body: str, *overrides: str, head: str = "") -> LoadedPipeline:
    """A pipeline of `body` (its stages, and data section), with a local model and train.jsonl/val.jsonl."""
    path = write_pipeline(f"name: demo\nmodel: model\n{head}{body}")
    (path.parent / "model").mkdir(exist_ok=True)
    for name in ("train.jsonl", "val.jsonl"):
        (path.parent / name).write_text('{"messages": []}\n')
    return load_pipeline(path, list(overrides))


def plan_of(loaded: LoadedPipeline, name: str, outputs: dict[str, dict[str, Any]] | None = None) -> StagePlan[Any]:
    plan: StagePlan[Any] = get_kind(loaded.graph[name].kind).stage().plan(stage_context(loaded, name, outputs))
    return plan


def test_sft_on_files_is_the_exact_command(write_pipeline: WritePipeline, tmp_path: Path) -> None:
    loaded = load(write_pipeline, "stages:\n  sft: {dataset: [train.jsonl], val_dataset: [val.jsonl], "
                                  "args: {max_steps: 4, learning_rate: 1e-4}}\n")
    plan = plan_of(loaded, "sft")
    assert plan.argv == [SWIFT, "sft", "--model", str(tmp_path / "model"), "--dataset", str(tmp_path / "train.jsonl"),
                         "--val_dataset", str(tmp_path / "val.jsonl"), "--output_dir", str(loaded.workdir / "sft"),
                         "--check_model", "false", "--max_steps", "4", "--learning_rate", "1e-4"]
    assert plan.ready and plan.notes == ["world size 1", EFFECTIVE]
    assert isinstance(plan.params, TrainParams) and plan.params.launch.world_size == 1
    assert plan.inputs["argv"] == plan.argv[1:]
    assert sorted(plan.inputs["data"]) == [str(tmp_path / "train.jsonl"), str(tmp_path / "val.jsonl")]


def test_a_check_model_of_the_users_is_passed_once(write_pipeline: WritePipeline) -> None:
    loaded = load(write_pipeline, "stages:\n  sft: {dataset: [train.jsonl], args: {check_model: true}}\n")
    argv = plan_of(loaded, "sft").argv
    assert argv[-2:] == ["--check_model", "true"] and argv.count("--check_model") == 1


def test_online_a_hub_id_is_passed_as_it_is_and_the_hub_is_not_switched_off(write_pipeline: WritePipeline) -> None:
    loaded = load(write_pipeline, "offline: false\nstages:\n  sft: {dataset: [train.jsonl]}\n",
                  "model=Qwen/Qwen3-0.6B")
    plan = plan_of(loaded, "sft")
    assert plan.argv[2:4] == ["--model", "Qwen/Qwen3-0.6B"] and "--check_model" not in plan.argv
    assert "HF_HUB_OFFLINE" not in plan.env


def test_offline_a_model_that_is_no_folder_is_one_line(write_pipeline: WritePipeline, tmp_path: Path) -> None:
    loaded = load(write_pipeline, "stages:\n  sft: {dataset: [train.jsonl]}\n", "model=nowhere")
    with pytest.raises(UserError) as err:
        plan_of(loaded, "sft")
    assert str(err.value) == (f"{loaded.display_name} › model: {tmp_path / 'nowhere'}: no such directory (offline: hub "
                              "ids are not downloaded; build the demo model with 'make tiny-model')")


def test_model_type_and_template_follow_the_model(write_pipeline: WritePipeline, tmp_path: Path) -> None:
    loaded = load(write_pipeline, "model_type: qwen3\ntemplate: qwen3\nstages:\n  sft: {dataset: [train.jsonl]}\n")
    assert plan_of(loaded, "sft").argv[2:8] == ["--model", str(tmp_path / "model"), "--model_type", "qwen3",
                                                "--template", "qwen3"]


@pytest.mark.parametrize(("key", "stage"), [("dataset", "{dataset: [train.jsonl, gone.jsonl]}"),
                                            ("val_dataset", "{dataset: [train.jsonl], val_dataset: [gone.jsonl]}")])
def test_a_listed_file_that_does_not_exist_is_one_line(write_pipeline: WritePipeline, tmp_path: Path, key: str,
                                                       stage: str) -> None:
    loaded = load(write_pipeline, f"stages:\n  sft: {stage}\n")
    with pytest.raises(UserError) as err:
        plan_of(loaded, "sft")
    assert str(err.value) == f"stages.sft.{key}: {tmp_path / 'gone.jsonl'}: no such file"


DATA = "data: {sources: [{path: train.jsonl}], val_ratio: 0.1}\n"


def test_before_its_data_stage_has_run_the_plan_is_not_ready(write_pipeline: WritePipeline) -> None:
    loaded = load(write_pipeline, DATA + "stages:\n  sft: {dataset: [val.jsonl]}\n")
    plan = plan_of(loaded, "sft")
    assert plan.argv[4:9] == ["--dataset", "<data.train>", str(loaded.base_dir / "val.jsonl"), "--val_dataset",
                              "<data.val>"]
    assert not plan.ready and plan.inputs == {} and RESUME_FLAG not in plan.argv


def test_the_data_stages_splits_come_first(write_pipeline: WritePipeline, tmp_path: Path) -> None:
    loaded = load(write_pipeline, DATA + "stages:\n  sft: {val_dataset: [val.jsonl]}\n")
    outputs = {"data": {"train": str(tmp_path / "train.jsonl"), "val": str(tmp_path / "val.jsonl")}}
    plan = plan_of(loaded, "sft", outputs)
    assert plan.ready and plan.argv[4:9] == ["--dataset", str(tmp_path / "train.jsonl"), "--val_dataset",
                                             str(tmp_path / "val.jsonl"), str(tmp_path / "val.jsonl")]


def test_without_a_validation_split_no_val_dataset(write_pipeline: WritePipeline, tmp_path: Path) -> None:
    loaded = load(write_pipeline, "data: {sources: [{path: train.jsonl}]}\nstages:\n  sft: {}\n")
    plan = plan_of(loaded, "sft", {"data": {"train": str(tmp_path / "train.jsonl")}})
    assert plan.ready and "--val_dataset" not in plan.argv
    assert plan.argv[4:7] == ["--dataset", str(tmp_path / "train.jsonl"), "--output_dir"]


def test_a_stage_training_on_a_merged_model_waits_for_it_then_loads_it(write_pipeline: WritePipeline,
                                                                       tmp_path: Path) -> None:
    loaded = load(write_pipeline, "stages:\n  sft: {dataset: [train.jsonl]}\n  merged: {kind: export, from: sft}\n"
                                  "  again: {kind: sft, from: merged, dataset: [train.jsonl]}\n")
    assert plan_of(loaded, "again").argv[2:4] == ["--model", "<merged.model_dir>"]
    merged = {"model_dir": str(tmp_path / "merged"), "model_digest": "abc", "checkpoint": "/c"}
    plan = plan_of(loaded, "again", {"merged": merged})
    assert plan.ready and plan.argv[2:4] == ["--model", str(tmp_path / "merged")]
    assert plan.inputs["model"] == {"from": "merged", "weights": "abc"}


def test_pt_runs_swift_pt(write_pipeline: WritePipeline) -> None:
    loaded = load(write_pipeline, "stages:\n  raw: {kind: pt, dataset: [train.jsonl]}\n")
    stage = loaded.graph["raw"]
    plan = plan_of(loaded, "raw")
    assert isinstance(get_kind(stage.kind).stage(), PtStage) and plan.argv[1] == "pt"
    assert plan.argv[-3:] == [str(loaded.workdir / "raw"), "--check_model", "false"]


@pytest.mark.parametrize(("yaml", "expected"), [("", "dpo"), ("rlhf_type: kto, ", "kto")])
def test_rlhf_passes_its_rlhf_type_before_the_users_args(write_pipeline: WritePipeline, yaml: str,
                                                         expected: str) -> None:
    stage = f"{{kind: rlhf, {yaml}dataset: [train.jsonl], args: {{beta: 0.1}}}}"
    loaded = load(write_pipeline, f"stages:\n  dpo: {stage}\n")
    assert isinstance(loaded.graph["dpo"].config, RlhfConfig)
    argv = RlhfStage().plan(stage_context(loaded, "dpo")).argv
    assert argv[1] == "rlhf"
    assert argv[-6:] == ["--rlhf_type", expected, "--check_model", "false", "--beta", "0.1"]


def interrupted(plan: StagePlan[Any], run_dir: Path, status: Status = Status.INTERRUPTED) -> StageRecord:
    return StageRecord(kind="sft", status=status, fingerprint=fingerprint(plan.inputs),
                       outputs={"run_dir": str(run_dir)})


def test_an_interrupted_run_continues_from_its_newest_complete_checkpoint(write_pipeline: WritePipeline) -> None:
    loaded = load(write_pipeline, "stages:\n  sft: {dataset: [train.jsonl]}\n")
    run_dir = loaded.workdir / "sft" / "v0-1"
    good = checkpoint(run_dir, 2)
    checkpoint(run_dir, 4, complete=False)
    ctx = stage_context(loaded, "sft")
    ctx.record = interrupted(SftStage().plan(ctx), run_dir)
    plan = SftStage().plan(ctx)
    assert plan.argv[-2:] == [RESUME_FLAG, str(good)]
    assert plan.notes[-1] == f"resumes the interrupted run from {good} (step 2)"


@pytest.mark.parametrize("why", ["resume off", "succeeded", "changed", "no checkpoint"])
def test_a_run_starts_afresh_when_it_cannot_resume(write_pipeline: WritePipeline, why: str) -> None:
    resume = "false" if why == "resume off" else "true"
    loaded = load(write_pipeline, f"stages:\n  sft: {{dataset: [train.jsonl], resume: {resume}}}\n")
    run_dir = loaded.workdir / "sft" / "v0-1"
    if why != "no checkpoint":
        checkpoint(run_dir, 2)
    ctx = stage_context(loaded, "sft")
    record = interrupted(SftStage().plan(ctx), run_dir, Status.SUCCEEDED if why == "succeeded" else Status.FAILED)
    if why == "changed":
        record.fingerprint = "other"
    ctx.record = record
    plan = SftStage().plan(ctx)
    assert RESUME_FLAG not in plan.argv and plan.notes == ["world size 1", EFFECTIVE]


def finished_run(run_dir: Path, summary: dict[str, Any] | None = None) -> Callable[[list[str]], None]:
    """What swift sft leaves behind: a complete checkpoint and logging.jsonl ending in its summary."""
    def act(argv: list[str]) -> None:
        last = checkpoint(run_dir, 4)
        rows = [{"loss": 1.0, "global_step/max_steps": "4/4"},
                summary if summary is not None else {"last_model_checkpoint": str(last), "global_step": 4,
                                                      "best_model_checkpoint": None,
                                                      "log_history": [{"train_loss": 1.5}, {"eval_loss": 1.25}]}]
        (run_dir / "logging.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return act


def run_ctx(write_pipeline: WritePipeline, launcher: FakeLauncher, reported: dict[str, Any],
            args: str = "{}") -> StageContext[Any]:
    loaded = load(write_pipeline, f"stages:\n  sft: {{dataset: [train.jsonl], args: {args}}}\n")
    return StageContext(loaded, loaded.graph["sft"], lambda name: None, launcher=launcher,
                        on_output=reported.__setitem__)


def test_a_finished_run_records_its_folder_checkpoint_losses_and_rows(
    write_pipeline: WritePipeline, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / "runs" / "demo" / "sft" / "v0-20260101"
    lines = [f"[INFO:swift] output_dir: {run_dir}", "Dataset filtered, origin length: 10, filtered dataset length: 8"]
    reported: dict[str, Any] = {}
    ctx = run_ctx(write_pipeline, FakeLauncher(lines=lines, act=finished_run(run_dir)), reported)
    result = SftStage().run(ctx, SftStage().plan(ctx))
    last = str(run_dir / "checkpoint-4")
    assert reported == {"run_dir": str(run_dir)}
    assert isinstance(result.outputs, TrainingRun)
    assert (result.outputs.run_dir, result.outputs.last_checkpoint, result.outputs.model_dir) == (
        str(run_dir), last, last)
    assert result.outputs.logging == str(run_dir / "logging.jsonl") and result.outputs.best_checkpoint is None
    assert result.metrics == {"swift_rows_in": 10, "swift_rows_kept": 8, "global_step": 4, "train_loss": 1.5,
                              "eval_loss": 1.25, "world_size": 1, "effective_batch": 16}
    assert [a.path for a in result.artifacts] == [str(run_dir / "logging.jsonl"), last]
    assert "swift dropped 2 of 10 rows (see " in capsys.readouterr().err


def test_a_run_that_never_names_its_folder_fails(write_pipeline: WritePipeline) -> None:
    ctx = run_ctx(write_pipeline, FakeLauncher(), {})
    with pytest.raises(StageFailed) as err:
        SftStage().run(ctx, SftStage().plan(ctx))
    assert str(err.value) == "swift sft finished but never printed its output_dir line"


def test_a_failed_swift_fails_the_stage_with_its_exit_code(write_pipeline: WritePipeline) -> None:
    ctx = run_ctx(write_pipeline, FakeLauncher(rc=3), {})
    with pytest.raises(StageFailed) as err:
        SftStage().run(ctx, SftStage().plan(ctx))
    assert str(err.value) == "swift sft exited with code 3" and err.value.exit_code == 3


def test_a_run_without_a_complete_last_checkpoint_fails(write_pipeline: WritePipeline, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    act = finished_run(run_dir, {"last_model_checkpoint": str(run_dir / "checkpoint-9")})
    ctx = run_ctx(write_pipeline, FakeLauncher(lines=[f"[INFO:swift] output_dir: {run_dir}"], act=act), {})
    with pytest.raises(StageFailed) as err:
        SftStage().run(ctx, SftStage().plan(ctx))
    assert str(err.value) == f"{run_dir}: swift sft reported no complete last checkpoint"


def test_a_run_without_logging_jsonl_fails(write_pipeline: WritePipeline, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    ctx = run_ctx(write_pipeline, FakeLauncher(lines=[f"[INFO:swift] output_dir: {run_dir}"]), {})
    with pytest.raises(StageFailed) as err:
        SftStage().run(ctx, SftStage().plan(ctx))
    assert str(err.value) == f"{run_dir}/logging.jsonl: missing or without a summary line"


def test_a_secret_swift_takes_only_in_argv_is_scrubbed_from_args_json(
    write_pipeline: WritePipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK", "hook-secret-1234")
    run_dir = tmp_path / "runs" / "demo" / "sft" / "v0-1"
    finish = finished_run(run_dir)

    def act(argv: list[str]) -> None:
        finish(argv)
        (run_dir / "args.json").write_text(json.dumps({"swanlab_secret": argv[argv.index("--swanlab_secret") + 1]}))

    launcher = FakeLauncher(lines=[f"[INFO:swift] output_dir: {run_dir}"], act=act)
    ctx = run_ctx(write_pipeline, launcher, {}, "{swanlab_secret: '${HOOK}'}")
    SftStage().run(ctx, SftStage().plan(ctx))
    assert "hook-secret-1234" in launcher.calls[0].argv
    assert json.loads((run_dir / "args.json").read_text()) == {"swanlab_secret": "***"}
