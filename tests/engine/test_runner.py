"""Resume decisions, driven through `swiftpipe run` with a fake swift (fault injection)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from swiftpipe.commands.plan import plan
from swiftpipe.commands.run import run
from swiftpipe.core.errors import EXIT_CRASH, EXIT_INTERRUPTED, StageFailed, UserError, boundary
from swiftpipe.engine.manifest import load_manifest
from swiftpipe.engine.select import Selection
from swiftpipe.kinds.export import ExportStage


@pytest.fixture
def pipeline(tmp_path: Path, fake_venv: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}")
    (tmp_path / "train.jsonl").write_text('{"messages": []}\n')
    monkeypatch.setenv("FAKE_SWIFT_LOG", str(tmp_path / "calls.jsonl"))
    path = tmp_path / "pipeline.yaml"
    path.write_text(f"""
name: t
model: model
stages:
  sft:
    venv: {fake_venv}
    dataset: [train.jsonl]
    args: {{max_steps: 4}}
  export:
    venv: {fake_venv}
""")
    return path


def calls(pipeline: Path) -> list[str]:
    log = pipeline.parent / "calls.jsonl"
    if not log.exists():
        return []
    return [json.loads(line)[0] for line in log.read_text().splitlines()]


def go(pipeline: Path, *overrides: str, **sel: object) -> int:
    return run(pipeline, overrides=list(overrides), selection=Selection(**sel), keep_serving=False)  # type: ignore[arg-type]


def statuses(pipeline: Path) -> dict[str, str]:
    manifest = load_manifest(pipeline.parent / "runs" / "t")
    assert manifest is not None
    return {name: rec.status for name, rec in manifest.stages.items()}


def test_first_run_runs_all_then_everything_is_skipped(pipeline: Path) -> None:
    assert go(pipeline) == 0
    assert calls(pipeline) == ["sft", "export"]
    assert go(pipeline) == 0
    assert calls(pipeline) == ["sft", "export"]
    assert statuses(pipeline) == {"sft": "skipped", "export": "skipped"}


def test_manifest_names_run_folder_checkpoint_and_merged_model(pipeline: Path) -> None:
    go(pipeline)
    manifest = load_manifest(pipeline.parent / "runs" / "t")
    assert manifest is not None
    sft, export = manifest.stages["sft"], manifest.stages["export"]
    run_dir = Path(sft.outputs["run_dir"])
    assert run_dir.parent == pipeline.parent / "runs" / "t" / "sft"
    assert export.outputs["checkpoint"] == str(run_dir / "checkpoint-4")
    assert export.outputs["model_dir"] == str(run_dir / "checkpoint-4-merged")
    assert sft.exit_code == 0 and len(sft.attempts) == 1 and sft.fingerprint
    assert sft.artifacts[0].sha256 is not None


def test_changed_argument_reruns_sft_and_export(pipeline: Path) -> None:
    go(pipeline)
    go(pipeline, "stages.sft.args.learning_rate=1e-4")
    assert calls(pipeline) == ["sft", "export", "sft", "export"]


def test_deleted_merged_model_reruns_export_only(pipeline: Path) -> None:
    go(pipeline)
    manifest = load_manifest(pipeline.parent / "runs" / "t")
    assert manifest is not None
    shutil.rmtree(manifest.stages["export"].outputs["model_dir"])
    go(pipeline)
    assert calls(pipeline) == ["sft", "export", "export"]


def test_failed_stage_is_recorded_and_resumed(
    pipeline: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FAKE_SWIFT_FAIL", "export")
    with pytest.raises(StageFailed) as info:
        go(pipeline)
    assert str(info.value) == (
        f"stage export failed; fix the cause, then resume with:\n  swiftpipe run {pipeline} --from export"
    )
    assert "ValueError: simulated failure of swift export" in capsys.readouterr().err
    assert statuses(pipeline) == {"sft": "succeeded", "export": "failed"}
    monkeypatch.delenv("FAKE_SWIFT_FAIL")
    go(pipeline)
    assert calls(pipeline) == ["sft", "export", "export"]
    assert statuses(pipeline) == {"sft": "skipped", "export": "succeeded"}


def test_leftover_partial_and_merged_folders_are_not_reused(pipeline: Path) -> None:
    go(pipeline)
    manifest = load_manifest(pipeline.parent / "runs" / "t")
    assert manifest is not None
    merged = Path(manifest.stages["export"].outputs["model_dir"])
    (merged / "model.safetensors").write_text("tampered, and now a different size")
    Path(f"{merged}.partial").mkdir()
    go(pipeline)
    assert calls(pipeline)[-1] == "export"
    assert (merged / "model.safetensors").read_text() == "{}"
    assert not Path(f"{merged}.partial").exists()
    assert len(list(merged.parent.glob(f"{merged.name}.stale-*"))) == 1


def test_interrupted_training_resumes_from_its_newest_complete_checkpoint(
    pipeline: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_SWIFT_CRASH_AFTER", "2")
    with pytest.raises(StageFailed):
        go(pipeline)
    monkeypatch.delenv("FAKE_SWIFT_CRASH_AFTER")
    go(pipeline)
    argv = [json.loads(line) for line in (pipeline.parent / "calls.jsonl").read_text().splitlines()]
    first_run = Path(argv[0][argv[0].index("--output_dir") + 1])
    resumed = argv[1][argv[1].index("--resume_from_checkpoint") + 1]
    assert Path(resumed).parent.parent == first_run
    assert Path(resumed).name == "checkpoint-2"


def test_only_export_without_a_trained_model_is_refused(pipeline: Path) -> None:
    with pytest.raises(UserError) as info:
        go(pipeline, only="export")
    assert str(info.value) == (
        f"stage export needs the outputs of sft, which has not succeeded in "
        f"{pipeline.parent / 'runs' / 't'}; run sft first (drop --only/--from)"
    )
    assert calls(pipeline) == []


def test_force_and_only(pipeline: Path) -> None:
    go(pipeline)
    go(pipeline, only="export", force=True)
    assert calls(pipeline) == ["sft", "export", "export"]


def test_unknown_selection(pipeline: Path) -> None:
    with pytest.raises(UserError) as info:
        go(pipeline, until="deploy")
    assert str(info.value) == "--until deploy: not a stage of this pipeline (stages: sft, export)"


def test_missing_dataset_fails_before_anything_runs(pipeline: Path) -> None:
    (pipeline.parent / "train.jsonl").unlink()
    with pytest.raises(UserError) as info:
        go(pipeline)
    assert str(info.value) == f"stages.sft.dataset: {pipeline.parent / 'train.jsonl'}: no such file"
    assert calls(pipeline) == []


def test_plan_writes_nothing(pipeline: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert plan(pipeline, overrides=[], selection=Selection()) == 0
    out = capsys.readouterr().out
    assert "sft: run (never ran)" in out
    assert "export: run (runs after sft)" in out
    assert "--adapters '<sft.run_dir>/checkpoint-<last>'" in out
    assert not (pipeline.parent / "runs").exists()
    assert calls(pipeline) == []


def test_plan_after_a_run_shows_skips(pipeline: Path, capsys: pytest.CaptureFixture[str]) -> None:
    go(pipeline)
    capsys.readouterr()
    plan(pipeline, overrides=["stages.sft.args.max_steps=6"], selection=Selection())
    out = capsys.readouterr().out
    assert "sft: run (inputs changed: --max_steps)" in out
    assert "export: run (after sft: runs if their outputs change)" in out


def test_a_crash_inside_a_stage_is_recorded_as_crashed_with_a_log_and_no_resume_hint(
    pipeline: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def boom(self: object, ctx: object, plan: object) -> None:
        raise KeyError("a bug in swiftpipe")

    monkeypatch.setattr(ExportStage, "run", boom)
    assert boundary(lambda: go(pipeline)) == EXIT_CRASH
    err = capsys.readouterr().err
    log = pipeline.parent / "runs" / "t" / "logs" / "export.crash.log"
    assert "swiftpipe: internal error in stage export: KeyError: 'a bug in swiftpipe'\n" in err
    assert f"swiftpipe: the stage is recorded as crashed; traceback in {log}; " in err
    assert "resume" not in err
    assert "KeyError: 'a bug in swiftpipe'" in log.read_text()
    assert statuses(pipeline) == {"sft": "succeeded", "export": "crashed"}
    record = load_manifest(pipeline.parent / "runs" / "t").stages["export"]  # type: ignore[union-attr]
    assert record.message == "internal error: KeyError: 'a bug in swiftpipe'"


def test_an_interrupt_is_recorded_as_interrupted_with_the_resume_command(
    pipeline: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def stop(self: object, ctx: object, plan: object) -> None:
        raise KeyboardInterrupt("SIGTERM")

    monkeypatch.setattr(ExportStage, "run", stop)
    assert boundary(lambda: go(pipeline)) == EXIT_INTERRUPTED
    assert f"export interrupted; resume with:\n  swiftpipe run {pipeline} --from export" in capsys.readouterr().err
    assert statuses(pipeline) == {"sft": "succeeded", "export": "interrupted"}


@pytest.fixture
def branches(tmp_path: Path, fake_venv: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}")
    (tmp_path / "train.jsonl").write_text('{"messages": []}\n')
    monkeypatch.setenv("FAKE_SWIFT_LOG", str(tmp_path / "calls.jsonl"))
    path = tmp_path / "pipeline.yaml"
    path.write_text(f"""
name: t
model: model
stages:
  a: {{kind: sft, venv: {fake_venv}, dataset: [train.jsonl], args: {{learning_rate: 1e-4}}}}
  b: {{kind: sft, venv: {fake_venv}, dataset: [train.jsonl], args: {{learning_rate: 1e-4}}}}
  ea: {{kind: export, from: a, venv: {fake_venv}}}
  eb: {{kind: export, from: b, venv: {fake_venv}}}
""")
    return path


def test_changing_one_branch_reruns_only_that_branch(branches: Path, capsys: pytest.CaptureFixture[str]) -> None:
    go(branches)
    assert calls(branches) == ["sft", "sft", "export", "export"]
    capsys.readouterr()
    go(branches, "stages.b.args.learning_rate=2e-4")
    assert calls(branches) == ["sft", "sft", "export", "export", "sft", "export"]
    err = capsys.readouterr().err
    assert "[1/4] a: skipped (up to date)" in err and "[3/4] ea: skipped (up to date)" in err
    assert "[2/4] b: running (inputs changed: --learning_rate)" in err


def test_an_identical_rebuild_leaves_the_stages_after_it_skipped(
    branches: Path, fake_venv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = branches.read_text() + f"  c: {{kind: sft, from: ea, venv: {fake_venv}, dataset: [train.jsonl]}}\n"
    branches.write_text(text)
    go(branches)
    manifest = load_manifest(branches.parent / "runs" / "t")
    assert manifest is not None
    c_model = manifest.stages["c"].argv[manifest.stages["c"].argv.index("--model") + 1]
    assert c_model == manifest.stages["ea"].outputs["model_dir"]
    shutil.rmtree(c_model)
    capsys.readouterr()
    go(branches)
    assert calls(branches)[-1] == "export"  # the merge ran again; c did not
    err = capsys.readouterr().err
    assert "ea: running (" in err
    assert "[5/5] c: skipped (up to date; what it reads came out the same)" in err


def test_each_stage_is_planned_once_unless_a_stage_it_reads_ran(pipeline: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from swiftpipe.kinds.training import TrainingStage

    planned: list[str] = []
    for cls in (TrainingStage, ExportStage):
        def counted(self: object, ctx: object, real: object = cls.plan) -> object:
            planned.append(ctx.name)  # type: ignore[attr-defined]
            return real(self, ctx)  # type: ignore[operator]
        monkeypatch.setattr(cls, "plan", counted)
    assert go(pipeline) == 0
    assert planned == ["sft", "export", "export"]  # export again: its input appeared when sft ran
    planned.clear()
    assert go(pipeline) == 0
    assert planned == ["sft", "export"]  # nothing ran: the preflight's plans are the run's
