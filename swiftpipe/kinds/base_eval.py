"""The base-eval kind: the base model's scores, for eval stages with `compare_base: true`.

swiftpipe adds this node itself. Its fingerprint covers only the base model, the eval
settings and how the model is served, so it is evaluated once and reused by every variant
and every later run. It serves the base model on a free port for as long as evalscope runs
(same backend and settings as the deploy stage the eval reads), as `<pipeline>-base`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from swiftpipe.core import console, host, process
from swiftpipe.core.errors import StageFailed
from swiftpipe.core.versions import tool_versions
from swiftpipe.engine import artifacts
from swiftpipe.engine.kind import SCORES, Kind
from swiftpipe.engine.outputs import Pending, Scores
from swiftpipe.engine.stage import FileStage, StageContext, StagePlan, StageResult
from swiftpipe.evaluation import benchmarks, counts, evalcommand, reuse
from swiftpipe.evaluation.run import data_digests, evaluate, fits, move_aside, prepared, score_outputs
from swiftpipe.evaluation.settings import EvalSettings
from swiftpipe.kinds.common import base_model, model_inputs, program
from swiftpipe.serving import backends, serverrecord
from swiftpipe.serving.server import Server, ServerError, ServerInfo
from swiftpipe.serving.swiftdeploy import ServeSettings, deploy_argv, server_spec

# The base model's server is ours alone, keyless and short-lived: it listens on loopback only,
# whatever host the deploy stage it mirrors is exposed on.
LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class BaseEvalConfig:
    settings: EvalSettings
    serve: ServeSettings


@dataclass(frozen=True)
class BaseEvalParams:
    work_dir: Path
    backend: str
    conversions: list[benchmarks.Conversion] = field(default_factory=list)  # CSV folders to convert first


class BaseEvalStage(FileStage):
    def plan(self, ctx: StageContext[BaseEvalConfig]) -> StagePlan[BaseEvalParams]:
        cfg = ctx.cfg
        env = ctx.env(cfg.settings.env, cfg.settings.venv)
        datasets = evalcommand.dataset_args(ctx.pipeline, cfg.settings, ctx.where)
        sent, conversions = benchmarks.prepare(datasets, ctx.stage_dir, ctx.where, ctx.pipeline.display_name)
        work_dir = ctx.stage_dir
        argv = evalcommand.eval_argv(program(ctx, "evalscope", env), cfg.settings, sent,
                                     api_url=Pending("<base server>"), model=self._name(ctx), work_dir=work_dir,
                                     keyed=False)
        serve_env = ctx.env(cfg.serve.env, cfg.serve.venv)
        backend, why = backends.resolve(cfg.serve.backend, backends.probe(process.child_env(serve_env)))
        inputs = {
            "shaping": evalcommand.shaping(cfg.settings, sent, model=self._name(ctx), keyed=False),
            "base_model": model_inputs(ctx), "serve": {**asdict(cfg.serve), "backend": backend},
            "data": data_digests(datasets), "evalscope": tool_versions().get("evalscope"),
        }
        notes = [f"the base model, served for the comparison with backend {backend} ({why})",
                 *(c.note() for c in conversions)]
        return StagePlan(argv, env, inputs, notes=notes, params=BaseEvalParams(work_dir, backend, conversions))

    def _name(self, ctx: StageContext) -> str:
        return f"{ctx.config.name}-base"

    def run(self, ctx: StageContext[BaseEvalConfig], plan: StagePlan[BaseEvalParams]) -> StageResult:
        cfg = ctx.cfg
        params = plan.params
        previous = ctx.previous.get("server")
        serverrecord.reap(ServerInfo.from_outputs(previous if isinstance(previous, dict) else None))
        aside = move_aside(params.work_dir)
        converted = prepared(ctx, params.conversions)
        fits(ctx, cfg.settings, params.conversions, Path(base_model(ctx)))
        keys = reuse.dataset_keys(plan.inputs, list(cfg.settings.datasets))
        server = Server(self._spec(ctx, cfg, params), ctx.launcher)
        console.step(f"{ctx.name}: serving the base model as '{self._name(ctx)}'")
        try:
            info = server.start(on_spawn=lambda i: ctx.report_output("server", i.to_outputs()))
        except ServerError as exc:
            raise StageFailed(f"base model server: {exc}\nlast lines of {ctx.log_path('.server')}:\n{exc.tail}") \
                from None
        try:
            argv = evalcommand.with_target(plan.argv, api_url=info.api_url, model=info.served_model_name,
                                           work_dir=params.work_dir)
            reports = evaluate(ctx, cfg.settings, argv, process.child_env(plan.env), params.work_dir, keys, aside)
        finally:
            server.stop()
            ctx.report_output("server", {**info.to_outputs(), "running": False})
        counts.check(params.conversions, reports, cfg.settings.limit, ctx.where)
        outputs = {**score_outputs(reports, params.work_dir, keys), **converted,
                   "server": {**info.to_outputs(), "running": False}}
        metrics = {n: r.primary_score for n, r in reports.items()}
        return StageResult(Scores.from_dict(outputs), [artifacts.describe(Path(r.path)) for r in reports.values()],
                           metrics)

    def _spec(self, ctx: StageContext[BaseEvalConfig], cfg: BaseEvalConfig, params: BaseEvalParams) -> Any:
        serve = cfg.serve
        env = ctx.env(serve.env, serve.venv)
        port = host.free_port(LOOPBACK)
        argv = deploy_argv(program(ctx, "swift", env), str(base_model(ctx)), backend=params.backend,
                           host=LOOPBACK, port=port, name=self._name(ctx), args=serve.args)
        for key in ("model_type", "template"):
            value = getattr(ctx.config, key)
            if value and key not in serve.args:
                argv += [f"--{key}", value]
        return server_spec(argv, process.child_env(env), host=LOOPBACK, port=port, name=self._name(ctx),
                           log=ctx.log_path(".server"), ready_timeout=serve.ready_timeout, key=None,
                           where=ctx.where)


KIND = Kind(
    name="base-eval", doc="the base model's evaluation, shared by eval stages with compare_base",
    config=BaseEvalConfig, stage=BaseEvalStage, produces=SCORES, key_outputs=("primary",), internal=True,
)
