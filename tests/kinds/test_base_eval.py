"""The base-eval node swiftpipe adds for `compare_base: true`: the base model evaluated with the eval
stage's settings, served the way the deploy stage serves, on loopback, as `<pipeline>-base`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from swiftpipe.engine.stage import StageContext
from swiftpipe.kinds.base_eval import LOOPBACK, BaseEvalConfig, BaseEvalParams, BaseEvalStage
from swiftpipe.loading import load_pipeline
from swiftpipe.serving import backends
from tests.conftest import stage_context
from tests.kinds.servefakes import write_pipeline

GPU = backends.HostFacts(True, "nvidia-smi -L lists a GPU", "/venv/bin/python", "0.11.1")


def base_ctx(tmp_path: Path, *overrides: str, extra_deploy: str = "") -> StageContext[BaseEvalConfig]:
    pipeline = write_pipeline(tmp_path, extra_eval="    compare_base: true\n", extra_deploy=extra_deploy)
    ctx: StageContext[BaseEvalConfig] = stage_context(load_pipeline(pipeline, list(overrides)), "eval-base")
    return ctx


def test_compare_base_adds_the_node_the_eval_reads_as_its_base(tmp_path: Path) -> None:
    loaded = load_pipeline(write_pipeline(tmp_path, extra_eval="    compare_base: true\n"), [])
    assert loaded.graph["eval"].upstream == {"server": "deploy", "base": "eval-base"}
    assert loaded.graph["eval-base"].kind == "base-eval" and loaded.graph["eval-base"].upstream == {}
    assert "eval-base" not in load_pipeline(write_pipeline(tmp_path / "no"), []).graph.names


def test_the_plan_is_the_eval_command_aimed_at_a_server_it_starts_itself(tmp_path: Path) -> None:
    ctx = base_ctx(tmp_path, "stages.eval.limit=3")
    plan = BaseEvalStage().plan(ctx)
    argv = [str(a) for a in plan.argv]
    venv = tmp_path / "servevenv"
    assert argv[:9] == [str(venv / "bin" / "evalscope"), "eval", "--eval-type", "openai_api", "--api-url",
                        "<base server>", "--model", "t-base", "--datasets"]
    assert argv[9:11] == ["general_mcq", "general_qa"]
    assert json.loads(argv[argv.index("--dataset-args") + 1])["general_mcq"]["local_path"] == str(tmp_path / "data" /
                                                                                                 "mcq")
    assert argv[-5:] == ["--limit", "3", "--work-dir", str(tmp_path / "runs" / "t" / "eval-base"), "--no-timestamp"]
    assert "--api-key" not in argv  # the base model's server is ours and keyless
    assert plan.ready and plan.notes == ["the base model, served for the comparison with backend transformers "
                                         "(configured)"]
    assert plan.params == BaseEvalParams(tmp_path / "runs" / "t" / "eval-base", "transformers", [])
    assert plan.env["VIRTUAL_ENV"] == str(venv)


def test_an_auto_backend_is_resolved_and_the_reason_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends, "probe", lambda env: GPU)
    plan = BaseEvalStage().plan(base_ctx(tmp_path, "stages.deploy.backend=auto"))
    assert plan.params.backend == "lmdeploy"
    assert plan.notes == ["the base model, served for the comparison with backend lmdeploy (auto: nvidia-smi -L "
                          "lists a GPU and lmdeploy 0.11.1 is installed)"]


def test_the_base_server_serves_the_base_model_on_loopback_with_the_deploy_stages_arguments(tmp_path: Path) -> None:
    ctx = base_ctx(tmp_path, "stages.deploy.args.max_batch_size=4", "template=qwen3",
                   extra_deploy="    host: 0.0.0.0\n    expose: true\n    api_key_env: DEPLOY_KEY\n")
    stage = BaseEvalStage()
    plan = stage.plan(ctx)
    spec: Any = stage._spec(ctx, ctx.cfg, plan.params)
    port = str(spec.port)
    assert spec.argv == [str(tmp_path / "servevenv" / "bin" / "swift"), "deploy", "--model", str(tmp_path / "model"),
                         "--infer_backend", "transformers", "--host", LOOPBACK, "--port", port,
                         "--served_model_name", "t-base", "--verbose", "false", "--max_batch_size", "4",
                         "--template", "qwen3"]
    assert (spec.host, spec.served_model_name, spec.api_key) == ("127.0.0.1", "t-base", None)
    assert spec.log_path == tmp_path / "runs" / "t" / "logs" / "eval-base.server.log"
    assert spec.ready_timeout == 30


def test_a_template_under_the_deploy_stages_args_is_not_passed_twice(tmp_path: Path) -> None:
    ctx = base_ctx(tmp_path, "stages.deploy.args.template=chatml", "template=qwen3")
    stage = BaseEvalStage()
    spec: Any = stage._spec(ctx, ctx.cfg, stage.plan(ctx).params)
    assert spec.argv.count("--template") == 1 and spec.argv[-2:] == ["--template", "chatml"]
