"""The deploy stage: serve the merged model with `swift deploy` until eval is done.

When the run's selection ends at deploy (`--until deploy`, `--only deploy`,
`--keep-serving`) the server outlives swiftpipe and the manifest records it
(`kept`); `swiftpipe stop` ends it. Otherwise `close()` stops it. A server that
an earlier run recorded but never stopped (that run died) is stopped before a
new one starts, but only after proving it is ours (see serverrecord.py).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import ClassVar

from swiftpipe import console, process
from swiftpipe.argv import flags
from swiftpipe.config.schema import DeployConfig
from swiftpipe.engine.manifest import StageRecord, save_manifest
from swiftpipe.engine.stage import Pending, StageContext, StagePlan, StageResult
from swiftpipe.errors import StageFailed, UserError
from swiftpipe.kinds.common import stage_versions, swift_program
from swiftpipe.serving import backends, serverrecord
from swiftpipe.serving.server import Server, ServerError, ServerInfo, ServerSpec


def deploy_config(ctx: StageContext) -> DeployConfig:
    assert ctx.config.stages.deploy is not None
    return ctx.config.stages.deploy


def served_name(ctx: StageContext) -> str:
    return deploy_config(ctx).served_model_name or ctx.config.name


def deploy_argv(swift: str, model: str, backend: str, port: int, name: str, cfg: DeployConfig) -> list[str]:
    """The `swift deploy` command line; never holds the API key."""
    return [
        swift, "deploy", "--model", model, "--infer_backend", backend, "--host", cfg.host,
        "--port", str(port), "--served_model_name", name, "--verbose", "false", *flags(cfg.args),
    ]


def api_key(cfg: DeployConfig) -> str | None:
    """The server's API key from the variable named by api_key_env (never from the file)."""
    if cfg.api_key_env is None:
        return None
    value = os.environ.get(cfg.api_key_env)
    if not value:
        raise UserError(
            f"stages.deploy.api_key_env: environment variable {cfg.api_key_env} is not set; "
            "export it or remove api_key_env"
        )
    return value


def server_spec(ctx: StageContext, argv: list[str], env: dict[str, str | None], log: Path) -> ServerSpec:
    cfg = deploy_config(ctx)
    port = int(argv[argv.index("--port") + 1])
    name = argv[argv.index("--served_model_name") + 1]
    return ServerSpec(
        argv=[str(a) for a in argv], env=process.child_env(env), host=cfg.host, port=port,
        served_model_name=name, log_path=log, ready_timeout=cfg.ready_timeout, api_key=api_key(cfg),
    )


class DeployStage:
    name: ClassVar[str] = "deploy"
    ephemeral: ClassVar[bool] = True

    def plan(self, ctx: StageContext) -> StagePlan:
        cfg = deploy_config(ctx)
        env = ctx.env(cfg.env, cfg.venv)
        model, notes = self._model(ctx)
        facts = backends.probe(process.child_env(env))
        backend, why = backends.resolve(cfg.backend, facts)
        notes.append(f"backend: {backend} ({why})")
        swift = swift_program(ctx, env, "stages.deploy", cfg.args)
        argv = deploy_argv(swift, model, backend, cfg.port, served_name(ctx), cfg)
        if cfg.api_key_env:
            notes.append(f"API key: from ${cfg.api_key_env}, passed to swift in its environment")
        if isinstance(model, Pending):
            return StagePlan(argv, env, {}, ready=False, notes=notes)
        inputs = {"argv": argv[1:], "versions": stage_versions()}
        return StagePlan(argv, env, inputs, notes=notes)

    def _model(self, ctx: StageContext) -> tuple[str, list[str]]:
        if ctx.config.stages.export is not None:
            return ctx.output("export", "merged_dir"), []
        local = ctx.pipeline.path(ctx.config.model)
        model = str(local) if local.exists() else ctx.config.model
        return model, [f"no export stage: serving the base model {model}"]

    def run(self, ctx: StageContext, plan: StagePlan) -> StageResult:
        for note in plan.notes:
            console.info(note)
        model = plan.argv[plan.argv.index("--model") + 1]
        if os.sep in model and not Path(model).is_dir():
            raise UserError(f"stages.deploy: model directory {model} does not exist; run the export stage")
        self._replace_previous(ctx)
        serverrecord.reap_orphans(ctx.manifest, ctx.workdir, (("eval", "base_server"),))
        server = Server(server_spec(ctx, plan.argv, plan.env, ctx.log_path(self.name)))
        started = time.monotonic()
        try:
            info = server.start(on_spawn=lambda i: self._record(ctx, i))
        except ServerError as exc:
            ctx.report_output(self.name, "running", False)
            raise StageFailed(f"swift deploy: {exc}") from None
        except BaseException:
            ctx.report_output(self.name, "running", False)
            raise
        serverrecord.register(_key(ctx), server)
        console.info(f"serving '{info.served_model_name}' at {info.api_url} (pid {info.pid})")
        outputs = {**info.to_outputs(), "backend": plan.argv[plan.argv.index("--infer_backend") + 1],
                   "model": model}
        return StageResult(outputs, [], {"ready_s": round(time.monotonic() - started, 1)})

    def _replace_previous(self, ctx: StageContext) -> None:
        """A server kept on purpose is never replaced silently; one left by a dead run is stopped."""
        prev = ServerInfo.from_outputs(ctx.previous.get(self.name))
        if prev is None or not prev.running or not serverrecord.is_ours(prev):
            return
        if not prev.kept:
            serverrecord.reap(prev)
            return
        self._record(ctx, prev)  # still findable by `swiftpipe stop`
        how = f"stop it with: swiftpipe stop {ctx.pipeline.display_name}"
        if prev.port == deploy_config(ctx).port:
            raise UserError(f"stages.deploy.port: port {prev.port} on {prev.host} is already in use by the "
                            f"server swiftpipe left running for this pipeline (pid {prev.pid}); {how}")
        raise UserError(f"stages.deploy: the server swiftpipe left running for this pipeline is still "
                        f"running at {prev.url} (pid {prev.pid}); {how}")

    def _record(self, ctx: StageContext, info: ServerInfo) -> None:
        for key, value in info.to_outputs().items():
            ctx.report_output(self.name, key, value)

    def stale(self, ctx: StageContext, record: StageRecord) -> str | None:
        info = ServerInfo.from_outputs(record.outputs)
        if info is None or not info.running:
            return "the server is not running"
        if not serverrecord.is_ours(info):
            return f"the server recorded at {info.url} (pid {info.pid}) is gone"
        if not info.kept:
            return f"the server at {info.url} was left by a run that did not finish"
        if not serverrecord.is_healthy(info):
            return f"the server at {info.url} does not answer /health and /v1/models"
        return None

    def close(self, ctx: StageContext) -> None:
        server = serverrecord.take(_key(ctx))
        if server is None or server.info is None:
            return
        record = ctx.manifest.stage(self.name)
        if ctx.options.keep_serving:
            record.outputs["kept"] = True
            save_manifest(ctx.manifest, ctx.workdir)
            console.info(f"the server keeps running at {server.info.api_url} (pid {server.info.pid}); "
                         f"stop it with: swiftpipe stop {ctx.pipeline.display_name}")
            return
        result = server.stop()
        record.outputs["running"] = False
        save_manifest(ctx.manifest, ctx.workdir)
        if not result.port_free:
            console.notice(f"port {server.info.port} is still in use after the server stopped")


def _key(ctx: StageContext) -> str:
    return f"{ctx.workdir}:deploy"
