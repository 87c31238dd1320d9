"""The export kind: the checkpoint it merges, its exact `swift export`, and a merge kept only when it is
complete; what an earlier attempt left is cleared first, and nothing a user may want is deleted."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from swiftpipe.core.errors import StageFailed, UserError
from swiftpipe.engine.outputs import Model
from swiftpipe.engine.pipeline import LoadedPipeline
from swiftpipe.engine.stage import StageContext, StagePlan
from swiftpipe.kinds.common import weights_digest
from swiftpipe.kinds.export import ExportParams, ExportStage
from swiftpipe.loading import load_pipeline
from tests.conftest import stage_context
from tests.kinds.conftest import SWIFT, FakeLauncher, checkpoint

WritePipeline = Callable[..., Path]


def load(write_pipeline: WritePipeline, export: str) -> LoadedPipeline:
    path = write_pipeline(f"name: demo\nmodel: model\nstages:\n  sft: {{dataset: [t.jsonl]}}\n  merged: {export}\n")
    (path.parent / "model").mkdir(exist_ok=True)
    (path.parent / "t.jsonl").write_text("{}\n")
    return load_pipeline(path)


def ctx_of(loaded: LoadedPipeline, run_dir: Path | None = None) -> StageContext[Any]:
    ctx: StageContext[Any] = stage_context(loaded, "merged", {"sft": {"run_dir": str(run_dir)}} if run_dir else None)
    return ctx


def test_before_the_training_stage_ran_the_plan_names_placeholders_and_is_not_ready(
    write_pipeline: WritePipeline,
) -> None:
    plan = ExportStage().plan(ctx_of(load(write_pipeline, "{kind: export}")))
    assert plan.argv == [SWIFT, "export", "--adapters", "<sft.run_dir>/checkpoint-<last>", "--merge_lora", "true",
                         "--output_dir", "<sft.run_dir>/checkpoint-<last>-merged.partial"]
    assert not plan.ready and plan.notes == [] and plan.inputs == {} and plan.params is None


def test_the_last_complete_checkpoint_is_merged_next_to_itself(write_pipeline: WritePipeline, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    good = checkpoint(run_dir, 2)
    checkpoint(run_dir, 4, complete=False)
    plan = ExportStage().plan(ctx_of(load(write_pipeline, "{kind: export}"), run_dir))
    assert plan.argv == [SWIFT, "export", "--adapters", str(good), "--merge_lora", "true",
                         "--output_dir", f"{good}-merged.partial"]
    assert plan.ready and plan.notes == ["skipping checkpoint-4: no trainer_state.json", f"checkpoint: {good} (last)"]
    assert plan.params == ExportParams(str(good), Path(f"{good}-merged.partial"), Path(f"{good}-merged"))


def test_the_users_args_follow(write_pipeline: WritePipeline, tmp_path: Path) -> None:
    checkpoint(tmp_path / "run", 2)
    plan = ExportStage().plan(ctx_of(load(write_pipeline, "{kind: export, args: {torch_dtype: bfloat16}}"),
                                     tmp_path / "run"))
    assert plan.argv[-2:] == ["--torch_dtype", "bfloat16"]


def test_best_is_the_checkpoint_swifts_summary_names(write_pipeline: WritePipeline, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    best = checkpoint(run_dir, 2)
    checkpoint(run_dir, 4)
    summary = {"last_model_checkpoint": "x", "best_model_checkpoint": str(best)}
    (run_dir / "logging.jsonl").write_text(json.dumps(summary))
    plan = ExportStage().plan(ctx_of(load(write_pipeline, "{kind: export, checkpoint: best}"), run_dir))
    assert plan.argv[3] == str(best) and plan.notes == [f"checkpoint: {best} (best)"]


def test_best_without_evaluation_during_training_is_one_line(write_pipeline: WritePipeline, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    checkpoint(run_dir, 2)
    (run_dir / "logging.jsonl").write_text(json.dumps({"last_model_checkpoint": "x", "best_model_checkpoint": None}))
    with pytest.raises(UserError) as err:
        ExportStage().plan(ctx_of(load(write_pipeline, "{kind: export, checkpoint: best}"), run_dir))
    assert str(err.value) == (
        f"{run_dir}: no best checkpoint (best_model_checkpoint is null); it needs evaluation during training: "
        "set data.val_ratio or stages.sft.val_dataset, or use checkpoint: last")


def test_a_run_without_a_complete_checkpoint_is_one_line(write_pipeline: WritePipeline, tmp_path: Path) -> None:
    checkpoint(tmp_path / "run", 2, complete=False)
    with pytest.raises(UserError) as err:
        ExportStage().plan(ctx_of(load(write_pipeline, "{kind: export}"), tmp_path / "run"))
    assert str(err.value) == f"{tmp_path / 'run'}: no complete checkpoint"


def test_a_checkpoint_path_is_read_relative_to_the_pipeline(write_pipeline: WritePipeline, tmp_path: Path) -> None:
    ckpt = checkpoint(tmp_path / "kept", 7)
    plan = ExportStage().plan(ctx_of(load(write_pipeline, "{kind: export, checkpoint: kept/checkpoint-7}")))
    assert plan.ready and plan.argv[3] == str(ckpt) and plan.notes == [f"checkpoint: {ckpt} (kept/checkpoint-7)"]


@pytest.mark.parametrize(("complete", "why"), [(False, "incomplete (no trainer_state.json)"),
                                               (None, "no such directory")])
def test_a_checkpoint_path_that_is_not_a_complete_checkpoint_is_one_line(
    write_pipeline: WritePipeline, tmp_path: Path, complete: bool | None, why: str
) -> None:
    if complete is not None:
        checkpoint(tmp_path / "kept", 7, complete=complete)
    with pytest.raises(UserError) as err:
        ExportStage().plan(ctx_of(load(write_pipeline, "{kind: export, checkpoint: kept/checkpoint-7}")))
    assert str(err.value) == f"checkpoint {tmp_path / 'kept' / 'checkpoint-7'}: {why}"


def merge(files: tuple[str, ...] = ("config.json", "args.json", "model.safetensors")) -> Callable[[list[str]], None]:
    """What swift export writes into its --output_dir."""
    def act(argv: list[str]) -> None:
        out = Path(argv[argv.index("--output_dir") + 1])
        out.mkdir(parents=True)
        for name in files:
            (out / name).write_text("{}" if name.endswith(".json") else "weights")
    return act


def planned(write_pipeline: WritePipeline, tmp_path: Path, launcher: FakeLauncher) -> tuple[StageContext[Any],
                                                                                              StagePlan[Any]]:
    ctx = ctx_of(load(write_pipeline, "{kind: export}"), tmp_path / "run")
    ctx.launcher = launcher
    checkpoint(tmp_path / "run", 2)
    return ctx, ExportStage().plan(ctx)


def test_a_complete_merge_is_renamed_into_place(write_pipeline: WritePipeline, tmp_path: Path) -> None:
    launcher = FakeLauncher(act=merge())
    ctx, plan = planned(write_pipeline, tmp_path, launcher)
    result = ExportStage().run(ctx, plan)
    final = tmp_path / "run" / "checkpoint-2-merged"
    assert launcher.calls[0].argv == plan.argv
    assert sorted(p.name for p in final.iterdir()) == ["args.json", "config.json", "model.safetensors"]
    assert not (tmp_path / "run" / "checkpoint-2-merged.partial").exists()
    assert result.outputs == Model(model_dir=str(final), model_digest=weights_digest(final),
                                   checkpoint=str(tmp_path / "run" / "checkpoint-2"))
    assert [a.path for a in result.artifacts] == [str(final)]


def test_leftovers_are_cleared_a_partial_removed_and_an_old_merge_moved_aside(
    write_pipeline: WritePipeline, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx, plan = planned(write_pipeline, tmp_path, FakeLauncher(act=merge()))
    partial, final = plan.params.partial, plan.params.final
    partial.mkdir()
    (partial / "half.safetensors").write_text("x")
    final.mkdir()
    (final / "mine.txt").write_text("keep me")
    ExportStage().run(ctx, plan)
    [aside] = [p for p in final.parent.iterdir() if p.name.startswith("checkpoint-2-merged.stale-")]
    assert (aside / "mine.txt").read_text() == "keep me" and not (final / "mine.txt").exists()
    err = capsys.readouterr().err
    assert "removing checkpoint-2-merged.partial, left by an earlier export that did not finish" in err
    assert f"moved existing checkpoint-2-merged aside to {aside.name}; it is not reused" in err


@pytest.mark.parametrize(("files", "problem"), [(("config.json", "model.safetensors"), "no args.json"),
                                                (("args.json", "model.safetensors"), "no config.json"),
                                                (("config.json", "args.json"), "no weights file")])
def test_an_incomplete_merge_fails_and_is_not_renamed(write_pipeline: WritePipeline, tmp_path: Path,
                                                       files: tuple[str, ...], problem: str) -> None:
    ctx, plan = planned(write_pipeline, tmp_path, FakeLauncher(act=merge(files)))
    with pytest.raises(StageFailed) as err:
        ExportStage().run(ctx, plan)
    assert str(err.value) == f"swift export exited 0 but {plan.params.partial} is incomplete: {problem}"
    assert not plan.params.final.exists()


def test_a_sharded_merge_is_complete(write_pipeline: WritePipeline, tmp_path: Path) -> None:
    ctx, plan = planned(write_pipeline, tmp_path,
                        FakeLauncher(act=merge(("config.json", "args.json", "model.safetensors.index.json"))))
    ExportStage().run(ctx, plan)
    assert (plan.params.final / "model.safetensors.index.json").is_file()


def test_a_failed_export_keeps_its_exit_code(write_pipeline: WritePipeline, tmp_path: Path) -> None:
    ctx, plan = planned(write_pipeline, tmp_path, FakeLauncher(rc=1))
    with pytest.raises(StageFailed) as err:
        ExportStage().run(ctx, plan)
    assert str(err.value) == "swift export exited with code 1" and err.value.exit_code == 1
