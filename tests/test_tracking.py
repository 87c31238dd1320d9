"""SwanLab arguments for sft (token never in argv) and naming of eval metrics."""

from __future__ import annotations

from pathlib import Path

import pytest

from swiftpipe import tracking
from swiftpipe.config.load import load_pipeline
from swiftpipe.engine.stage import StageContext
from swiftpipe.errors import UserError
from tests.conftest import stage_context


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
