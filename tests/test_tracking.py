"""SwanLab arguments for sft (token never in argv) and naming of eval metrics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swiftpipe import tracking
from swiftpipe.core.errors import UserError
from swiftpipe.engine.experiments import announcing
from swiftpipe.engine.stage import StageContext, StagePlan
from swiftpipe.kinds import get_kind
from swiftpipe.loading import load_pipeline
from tests.conftest import stage_context
from tests.integration.tiny import swiftpipe, write_sft_pipeline, write_train


def ctx_for(tmp_path: Path, tracking_yaml: str) -> StageContext:
    (tmp_path / "train.jsonl").write_text("")
    (tmp_path / "pipeline.yaml").write_text(f"name: demo\nmodel: m\nstages: {{sft: {{dataset: [train.jsonl]}}}}\n"
                                            f"{tracking_yaml}")
    loaded = load_pipeline(tmp_path / "pipeline.yaml", [])
    ctx: StageContext = stage_context(loaded, "sft")
    return ctx


def test_sft_args_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWANLAB_API_KEY", "sl-secret")
    ctx = ctx_for(tmp_path, "tracking: {backend: swanlab, project: p}\n")
    args = tracking.swanlab_sft_args(ctx)
    assert args == ["--report_to", "swanlab", "--swanlab_project", "p", "--swanlab_exp_name", "demo",
                    "--swanlab_mode", "local"]
    assert "sl-secret" not in " ".join(args)
    assert tracking.swanlab_env(ctx) == {"SWANLAB_LOGDIR": str(ctx.workdir / "swanlog")}


def test_within_a_run_the_training_and_eval_runs_carry_the_experiments_id_and_name(tmp_path: Path) -> None:
    ctx = ctx_for(tmp_path, "tracking: {backend: swanlab, project: p}\n")
    assert tracking.experiment_labels() == {} and tracking.experiment_env() == {}
    with announcing("exp-20261205-172948-1a2b", "lr, 5e-3"):
        assert tracking.experiment_labels() == {
            "group": "exp-20261205-172948-1a2b", "tags": ["swiftpipe:exp-20261205-172948-1a2b", "name:lr  5e-3"],
            "description": "swiftpipe experiment exp-20261205-172948-1a2b (lr, 5e-3)"}
        assert tracking.swanlab_env(ctx) == {
            "SWANLAB_LOGDIR": str(ctx.workdir / "swanlog"), "SWANLAB_GROUP": "exp-20261205-172948-1a2b",
            "SWANLAB_TAGS": "swiftpipe:exp-20261205-172948-1a2b,name:lr  5e-3",
            "SWANLAB_DESCRIPTION": "swiftpipe experiment exp-20261205-172948-1a2b (lr, 5e-3)"}
        with announcing("exp-2", None):
            assert tracking.experiment_labels()["tags"] == ["swiftpipe:exp-2"]
        assert tracking.experiment_labels()["group"] == "exp-20261205-172948-1a2b"
    assert tracking.experiment_env() == {}
    off = ctx_for(tmp_path, "")
    with announcing("exp-3", "x"):
        assert tracking.swanlab_env(off) == {}


@pytest.mark.integration
def test_eval_scores_logged_for_real_carry_the_experiments_id_and_name(tmp_path: Path) -> None:
    ctx = ctx_for(tmp_path, "tracking: {backend: swanlab, project: p}\n")
    ctx.stage_dir.mkdir(parents=True)
    with announcing("exp-20261205-172948-1a2b", "grid"):
        tracking.log_eval(ctx, {"general_mcq": 0.5})
    payload = json.loads((ctx.stage_dir / "tracking.json").read_text())
    assert payload["labels"] == {
        "group": "exp-20261205-172948-1a2b", "tags": ["swiftpipe:exp-20261205-172948-1a2b", "name:grid"],
        "description": "swiftpipe experiment exp-20261205-172948-1a2b (grid)"}
    [run] = (ctx.workdir / "swanlog").glob("run-*")
    saved = b"".join(p.read_bytes() for p in run.glob("*.swanlab"))
    assert b"swiftpipe:exp-20261205-172948-1a2b" in saved and b"name:grid" in saved


def test_off_and_unsupported_modes(tmp_path: Path) -> None:
    assert tracking.swanlab_sft_args(ctx_for(tmp_path, "")) == []
    # ms-swift 4.6 accepts only local and cloud, so the schema refuses anything else.
    with pytest.raises(UserError) as info:
        ctx_for(tmp_path, "tracking: {backend: swanlab, mode: offline}\n")
    assert str(info.value) == (
        f"{tmp_path / 'pipeline.yaml'}:4 › tracking.mode: expected one of 'local', 'cloud', got 'offline'"
    )


def test_training_run_id_from_the_log_dir(tmp_path: Path) -> None:
    ctx = ctx_for(tmp_path, "tracking: {backend: swanlab}\n")
    assert tracking.training_run_id(ctx) is None
    (ctx.workdir / "swanlog" / "run-20260101_120000-abc123").mkdir(parents=True)
    (ctx.workdir / "swanlog" / "run-20260102_120000-def456").mkdir()
    assert tracking.training_run_id(ctx) == "def456"


def test_metric_names() -> None:
    assert tracking.metric_name("eval", "base", "general_mcq") == "eval/base/general_mcq"
    assert tracking.metric_name("eval", 'rouge:mean[x="y"]') == "eval/rouge_mean_x_y"


def test_eval_logging_gets_the_key_routed_from_the_training_stages_swanlab_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SL", "sl-from-args")
    (tmp_path / "train.jsonl").write_text("")
    (tmp_path / "pipeline.yaml").write_text(
        "name: demo\nmodel: m\ntracking: {backend: swanlab}\n"
        "stages: {sft: {dataset: [train.jsonl], args: {swanlab_token: '${SL}'}, env: {A: b}}}\n")
    ctx = stage_context(load_pipeline(tmp_path / "pipeline.yaml", []), "sft")
    env = tracking._env(ctx)
    assert env["SWANLAB_API_KEY"] == "sl-from-args" and env["A"] == "b"


def sft_argv(tmp_path: Path, args_yaml: str, tracking_yaml: str, overrides: list[str] | None = None,
             kind: str = "sft") -> list[str]:
    """The planned `swift sft` (or `kind`'s) argv of a one-stage pipeline with these args and tracking."""
    return [str(a) for a in training_plan(tmp_path, args_yaml, tracking_yaml, overrides, kind).argv]


def training_plan(tmp_path: Path, args_yaml: str, tracking_yaml: str, overrides: list[str] | None = None,
                  kind: str = "sft") -> StagePlan:
    (tmp_path / "train.jsonl").write_text("")
    (tmp_path / "m").mkdir(exist_ok=True)
    (tmp_path / "pipeline.yaml").write_text(f"name: demo\nmodel: m\nstages: {{{kind}: {{kind: {kind}, "
                                            f"dataset: [train.jsonl], args: {args_yaml}}}}}\n{tracking_yaml}")
    ctx = stage_context(load_pipeline(tmp_path / "pipeline.yaml", overrides or []), kind)
    return get_kind(kind).stage().plan(ctx)


def report_to(argv: list[str]) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a == "--report_to"]


def test_the_tracker_replaces_report_to_none(tmp_path: Path) -> None:
    # The demo writes report_to: none (no tensorboard); switching tracking on must need nothing else.
    argv = sft_argv(tmp_path, "{report_to: none}", "tracking: {backend: none}\n",
                    ["tracking.backend=swanlab", "tracking.mode=local"])
    assert report_to(argv) == ["swanlab"]
    assert argv[argv.index("--swanlab_mode") + 1] == "local"


def test_report_to_none_stays_when_tracking_is_off(tmp_path: Path) -> None:
    assert report_to(sft_argv(tmp_path, "{report_to: none}", "")) == ["none"]


def test_a_null_report_to_drops_the_flag_with_tracking_on_or_off(tmp_path: Path) -> None:
    assert report_to(sft_argv(tmp_path, "{report_to: null}", "")) == []
    on = sft_argv(tmp_path, "{report_to: none}", "tracking: {backend: swanlab}\n", ["stages.sft.args.report_to=null"])
    assert report_to(on) == ["swanlab"]


@pytest.mark.parametrize("kind", ["pt", "sft", "rlhf"])
def test_every_training_kind_reports_to_swanlab(tmp_path: Path, kind: str) -> None:
    plan = training_plan(tmp_path, "{report_to: none}", "tracking: {backend: swanlab, project: p}\n", kind=kind)
    argv = [str(a) for a in plan.argv]
    assert argv[1] == kind and report_to(argv) == ["swanlab"]
    assert argv[argv.index("--swanlab_project") + 1] == "p"
    assert plan.env["SWANLAB_LOGDIR"] == str(tmp_path / "runs" / "demo" / "swanlog")


def test_a_report_to_beside_tracking_is_refused_for_an_rlhf_stage(tmp_path: Path) -> None:
    (tmp_path / "train.jsonl").write_text("")
    (tmp_path / "pipeline.yaml").write_text(
        "name: demo\nmodel: m\ntracking: {backend: swanlab}\n"
        "stages: {dpo: {kind: rlhf, dataset: [train.jsonl], args: {report_to: tensorboard}}}\n")
    with pytest.raises(UserError) as err:
        load_pipeline(tmp_path / "pipeline.yaml", [])
    assert str(err.value).endswith("stages.dpo.args.report_to: set by 'tracking'; remove it here")


def test_eval_logging_runs_in_the_environment_of_an_rlhf_stage(tmp_path: Path) -> None:
    (tmp_path / "train.jsonl").write_text("")
    (tmp_path / "pipeline.yaml").write_text(
        "name: demo\nmodel: m\ntracking: {backend: swanlab}\n"
        "stages: {dpo: {kind: rlhf, dataset: [train.jsonl], env: {A: b}, venv: v}}\n")
    ctx = stage_context(load_pipeline(tmp_path / "pipeline.yaml", []), "dpo")
    assert tracking._env(ctx)["A"] == "b"
    assert tracking._python(ctx) == str(tmp_path / "v" / "bin" / "python")


def test_which_report_to_values_yield_to_the_tracker() -> None:
    assert [tracking.yields_to_tracking(v) for v in (None, "none", ["none"], "tensorboard", ["swanlab"])] == [
        True, True, True, False, False]


@pytest.mark.integration
def test_a_real_sft_with_local_swanlab_logs_under_the_workdir(tmp_path: Path, tiny_model: Path) -> None:
    # The demo's way: report_to: none in the file, tracking switched on from the command line.
    write_train(tmp_path / "train.jsonl", 8)
    write_sft_pipeline(tmp_path, tiny_model, {
        "max_steps": 2, "save_steps": 2, "logging_steps": 1, "torch_dtype": "float32", "fp16": False, "bf16": False,
        "dataloader_num_workers": 0, "report_to": "none"})
    done = swiftpipe("run", "pipeline.yaml", "--set", "tracking.backend=swanlab", "--set", "tracking.mode=local",
                     "--name", "tagged", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    workdir = tmp_path / "runs" / "it"
    runs = list((workdir / "swanlog").glob("run-*"))
    assert len(runs) == 1 and (runs[0] / "files" / "config.yaml").is_file(), runs
    # the SwanLab run carries the experiment's id (group, tag) and name (tag), as `exps list` shows them
    [record] = (workdir / "experiments").glob("exp-*.json")
    saved = b"".join(p.read_bytes() for p in runs[0].glob("*.swanlab"))
    assert f"swiftpipe:{record.stem}".encode() in saved and b"name:tagged" in saved
    argv = json.loads((workdir / "manifest.json").read_text())["stages"]["sft"]["argv"]
    assert report_to(argv) == ["swanlab"]
