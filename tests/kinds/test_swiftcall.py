"""What every kind that runs swift shares: secrets routed out of argv, its swift found and checked,
and the command run through the stage's launcher with its exit code checked."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from swiftpipe.core.errors import StageFailed, UserError
from swiftpipe.engine.stage import RunOptions, StageContext, StagePlan
from swiftpipe.kinds.sft import SftStage
from swiftpipe.kinds.swiftcall import SwiftCall, prepare, run_swift
from swiftpipe.loading import load_pipeline
from tests.conftest import stage_context
from tests.kinds.conftest import FakeLauncher

WritePipeline = Callable[..., Path]


def sh_venv(root: Path) -> Path:
    """A venv whose bin/swift is a shell script: not ms-swift's console script, so its args are not checked."""
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "swift").write_text("#!/bin/sh\nexit 0\n")
    (root / "bin" / "swift").chmod(0o755)
    return root


def sft_ctx(write_pipeline: WritePipeline, *keys: str) -> StageContext[Any]:
    """The context of a one-stage pipeline whose sft stage has `keys` (YAML lines) besides its dataset."""
    stage = "".join(f"    {key}\n" for key in keys)
    path = write_pipeline(f"name: demo\nmodel: model\nstages:\n  sft:\n    dataset: [train.jsonl]\n{stage}")
    (path.parent / "model").mkdir(exist_ok=True)
    (path.parent / "train.jsonl").write_text("{}\n")
    ctx: StageContext[Any] = stage_context(load_pipeline(path), "sft")
    return ctx


def test_a_hub_token_travels_in_the_environment_never_in_argv(
    write_pipeline: WritePipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_HUB", "hf-secret-value")
    venv = sh_venv(tmp_path / "v")
    ctx = sft_ctx(write_pipeline, f"venv: {venv}", "args: {hub_token: '${MY_HUB}', learning_rate: 1e-4}")
    call = prepare(ctx, ctx.cfg)
    assert call.swift == str(venv / "bin" / "swift") and call.args == {"learning_rate": "1e-4"}
    assert call.env["HF_TOKEN"] == call.env["MODELSCOPE_API_TOKEN"] == "hf-secret-value"
    plan = SftStage().plan(ctx)
    assert "hf-secret-value" not in " ".join(map(str, plan.argv)) and "--hub_token" not in plan.argv
    assert plan.argv[-2:] == ["--learning_rate", "1e-4"] and plan.env["HF_TOKEN"] == "hf-secret-value"


def test_a_swanlab_token_becomes_swanlab_api_key(
    write_pipeline: WritePipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SL", "sl-secret-value")
    venv = sh_venv(tmp_path / "v")
    ctx = sft_ctx(write_pipeline, f"venv: {venv}", "args: {swanlab_token: '${SL}'}")
    call = prepare(ctx, ctx.cfg)
    assert call.args == {} and call.env["SWANLAB_API_KEY"] == "sl-secret-value"
    assert "HF_TOKEN" not in call.env


def test_the_stage_env_overrides_the_kinds_own_and_the_venv_comes_first_on_path(
    write_pipeline: WritePipeline, tmp_path: Path
) -> None:
    venv = sh_venv(tmp_path / "v")
    ctx = sft_ctx(write_pipeline, f"venv: {venv}", "env: {B: stage, C: stage}")
    call = prepare(ctx, ctx.cfg, {"A": "kind", "B": "kind"})
    assert (call.env["A"], call.env["B"], call.env["C"]) == ("kind", "stage", "stage")
    assert call.env["VIRTUAL_ENV"] == str(venv) and str(call.env["PATH"]).startswith(f"{venv / 'bin'}:")
    assert call.env["HF_HUB_OFFLINE"] == "1" and call.env["PYTHONUNBUFFERED"] == "1"
    assert SwiftCall(call.swift, call.args, call.env) == call


def test_a_venv_without_swift_is_one_line(write_pipeline: WritePipeline, tmp_path: Path) -> None:
    (tmp_path / "empty" / "bin").mkdir(parents=True)
    ctx = sft_ctx(write_pipeline, f"venv: {tmp_path / 'empty'}")
    with pytest.raises(UserError) as err:
        prepare(ctx, ctx.cfg)
    assert str(err.value) == ("stages.sft: program 'swift' not found on PATH; run 'make install' or set the "
                              "stage's 'venv' to an environment that has it")


def test_an_argument_the_installed_swift_lacks_is_refused_before_anything_runs(write_pipeline: WritePipeline) -> None:
    ctx = sft_ctx(write_pipeline, "args: {learnin_rate: 1e-4}")  # the ms-swift installed beside swiftpipe
    with pytest.raises(UserError) as err:
        prepare(ctx, ctx.cfg)
    message = str(err.value)
    where = f"{ctx.pipeline.display_name} › stages.sft.args.learnin_rate"
    assert message.startswith(f"{where}: not an argument of ms-swift ")
    assert message.endswith("; did you mean 'learning_rate'?") and "\n" not in message


def plan_for(ctx: StageContext[Any]) -> StagePlan[Any]:
    return StagePlan(["/bin/swift", "sft", "--x", "1"], {"SET_ME": "yes", "UNSET_ME": None})


def test_run_swift_hands_the_exact_command_to_the_launcher(
    write_pipeline: WritePipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UNSET_ME", "parent")
    monkeypatch.setenv("KEPT", "parent")
    ctx = sft_ctx(write_pipeline)
    ctx.launcher = launcher = FakeLauncher(lines=["one", "two"])
    ctx.options = RunOptions(echo=False)
    seen: list[str] = []
    run_swift(ctx, plan_for(ctx), "sft", seen.append)
    [call] = launcher.calls
    assert call.argv == ["/bin/swift", "sft", "--x", "1"] and call.echo is False
    assert call.log_path == ctx.workdir / "logs" / "sft.log"
    assert call.env["SET_ME"] == "yes" and call.env["KEPT"] == "parent" and "UNSET_ME" not in call.env
    assert seen == ["one", "two"]


@pytest.mark.parametrize("rc", [1, 2, 137])
def test_a_non_zero_exit_fails_the_stage_with_its_code(write_pipeline: WritePipeline, rc: int) -> None:
    ctx = sft_ctx(write_pipeline)
    ctx.launcher = FakeLauncher(rc=rc)
    with pytest.raises(StageFailed) as err:
        run_swift(ctx, plan_for(ctx), "export")
    assert str(err.value) == f"swift export exited with code {rc}" and err.value.exit_code == rc
