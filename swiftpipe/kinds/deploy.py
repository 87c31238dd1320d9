"""The deploy kind: serve a model with `swift deploy` while the stages that read it run.

It serves the model of the stage it reads (an export, or a training stage whose LoRA
checkpoint swiftpipe merges first), a `model:` directory, or else the base model. The
server starts just before the first stage that needs it and stops after the last one
(engine/runner.py). When nothing selected reads it (`--until deploy`) or with
`--keep-serving`, it outlives swiftpipe and the manifest records it (`kept`); `swiftpipe
stop` ends it. A server an earlier run recorded but never stopped (that run died) is
stopped before a new one starts, but only after proving it is ours (serving/serverrecord.py).
"""

from __future__ import annotations

import ipaddress
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from swiftpipe.config.schema import Backend, doc
from swiftpipe.core import console, process
from swiftpipe.core.errors import StageFailed, UserError
from swiftpipe.engine.fingerprint import fingerprint
from swiftpipe.engine.kind import CHECKPOINT, MODEL, SERVER, Kind, Problem, Slot
from swiftpipe.engine.manifest import StageRecord
from swiftpipe.engine.outputs import Pending, Served
from swiftpipe.engine.stage import StageContext, StagePlan, StageResult
from swiftpipe.kinds.common import base_model, model_inputs, model_source, stage_versions
from swiftpipe.kinds.swiftcall import SwiftConfig, prepare
from swiftpipe.serving import backends, serverrecord, swiftdeploy
from swiftpipe.serving.server import Server, ServerError, ServerInfo


@dataclass(frozen=True)
class DeployConfig(SwiftConfig):
    backend: Backend = field(default="auto", metadata=doc("inference backend of swift deploy"))
    host: str = field(
        default="127.0.0.1",
        metadata=doc("address the server listens on; other than loopback it needs api_key_env and expose",
                     nonempty=True),
    )
    expose: bool = field(
        default=False, metadata=doc("set true to serve on a non-loopback host, which other machines can reach")
    )
    port: int = field(
        default=8000, metadata=doc("port; a busy port is an error, never moved", at_least=1, at_most=65535)
    )
    model: str | None = field(
        default=None, metadata=doc("serve this model directory instead of a stage's", nonempty=True)
    )
    served_model_name: str | None = field(
        default=None,
        metadata=doc("defaults to the pipeline name (<pipeline>-<stage> for other stage names)", nonempty=True),
    )
    api_key_env: str | None = field(
        default=None, metadata=doc("environment variable holding the server's API key", nonempty=True)
    )
    ready_timeout: float = field(default=600.0, metadata=doc("seconds to wait for the server", above=0))


@dataclass(frozen=True)
class DeployParams:
    model: str
    backend: str
    served_model_name: str


def _slots(cfg: DeployConfig) -> tuple[Slot, ...]:
    return (Slot("model", (CHECKPOINT, MODEL), required=False, nearest=cfg.model is None, merge=True),)


def _check(cfg: DeployConfig) -> list[Problem]:
    """A server other machines can reach needs a key and a word saying that is meant."""
    if is_loopback(cfg.host):
        return []
    reach = f"'{cfg.host}' lets other machines reach the server"
    problems = []
    if cfg.api_key_env is None:
        problems.append(Problem("host", f"{reach}; add api_key_env: <VARIABLE> naming the environment variable "
                                        "that holds its API key"))
    if not cfg.expose:
        problems.append(Problem("host", f"{reach}; add expose: true to confirm that is intended"))
    return problems


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost: only this machine can connect."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def served_name(ctx: StageContext[DeployConfig]) -> str:
    cfg = ctx.cfg
    default = ctx.config.name if ctx.name == "deploy" else f"{ctx.config.name}-{ctx.name}"
    return cfg.served_model_name or default


class DeployStage:
    def __init__(self) -> None:
        self.server: Server | None = None

    def plan(self, ctx: StageContext[DeployConfig]) -> StagePlan[DeployParams]:
        cfg = ctx.cfg
        call = prepare(ctx, cfg)
        env, args = call.env, call.args
        model, model_id, notes = self._model(ctx, cfg)
        facts = backends.probe(process.child_env(env))
        backend, why = backends.resolve(cfg.backend, facts)
        notes.append(f"backend: {backend} ({why})")
        name = served_name(ctx)
        argv = swiftdeploy.deploy_argv(call.swift, str(model), backend=backend,
                                       host=cfg.host, port=cfg.port, name=name, args=args)
        identity = _model_identity(ctx, model, args)
        argv += identity
        if cfg.api_key_env:
            notes.append(f"API key: from ${cfg.api_key_env}, passed to swift in its environment")
        params = DeployParams(str(model), backend, name)
        if isinstance(model_id, Pending):
            return StagePlan(argv, env, {}, ready=False, notes=notes, params=params)
        # What a reader's scores depend on; where it listens (host, port) does not shape them.
        serving = asdict(Serving(model_id, backend, name, dict(args), identity, stage_versions()))
        inputs = {"serving": serving, "listen": {"host": cfg.host, "port": cfg.port}}
        promised = {"model": str(model), "served_model_name": name, "backend": backend,
                    "serving_key": fingerprint(serving), "keyed": cfg.api_key_env is not None}
        return StagePlan(argv, env, inputs, notes=notes, params=params, promised=promised)

    def _model(self, ctx: StageContext[DeployConfig], cfg: DeployConfig) -> tuple[str | Path, Any, list[str]]:
        if cfg.model is not None:
            local = ctx.pipeline.path(cfg.model)
            return local, {"path": str(local)}, [f"serving {local} (model:)"]
        if ctx.upstream("model") is not None:
            model, model_id = model_source(ctx)
            return model, model_id, []
        model = base_model(ctx)
        return model, model_inputs(ctx), [f"no stage to serve: serving the base model {model}"]

    def run(self, ctx: StageContext[DeployConfig], plan: StagePlan[DeployParams]) -> StageResult:
        cfg = ctx.cfg
        params = plan.params
        for note in plan.notes:
            console.info(note)
        if os.sep in params.model and not Path(params.model).is_dir():
            raise UserError(f"{ctx.where}: model directory {params.model} does not exist; run the stage that makes it")
        self._replace_previous(ctx)
        spec = swiftdeploy.server_spec(
            plan.argv, process.child_env(plan.env), host=cfg.host, port=cfg.port, name=params.served_model_name,
            log=ctx.log_path(), ready_timeout=cfg.ready_timeout, key=swiftdeploy.api_key(cfg.api_key_env, ctx.where),
            where=ctx.where,
        )
        self.server = Server(spec, ctx.launcher)
        started = time.monotonic()
        try:
            info = self.server.start(on_spawn=lambda i: self._record(ctx, i))
        except ServerError as exc:
            ctx.report_output("running", False)
            raise StageFailed(f"swift deploy: {exc}") from None
        except BaseException:
            ctx.report_output("running", False)
            raise
        serverrecord.register(_key(ctx), self.server)
        console.info(f"serving '{info.served_model_name}' at {info.api_url} (pid {info.pid})")
        outputs = Served.from_dict({**info.to_outputs(), **plan.promised})
        return StageResult(outputs, [], {"ready_s": round(time.monotonic() - started, 1)})

    def _replace_previous(self, ctx: StageContext[DeployConfig]) -> None:
        """A server kept on purpose is never replaced silently; one left by a dead run is stopped."""
        cfg = ctx.cfg
        prev = ServerInfo.from_outputs(ctx.previous)
        if prev is None or not prev.running or not serverrecord.is_ours(prev):
            return
        if not prev.kept:
            serverrecord.reap(prev)
            return
        self._record(ctx, prev)  # still findable by `swiftpipe stop`
        how = f"stop it with: swiftpipe stop {ctx.pipeline.display_name}"
        if prev.port == cfg.port:
            raise UserError(f"{ctx.where}.port: port {prev.port} on {prev.host} is already in use by the "
                            f"server swiftpipe left running for this pipeline (pid {prev.pid}); {how}")
        raise UserError(f"{ctx.where}: the server swiftpipe left running for this pipeline is still "
                        f"running at {prev.url} (pid {prev.pid}); {how}")

    def _record(self, ctx: StageContext, info: ServerInfo) -> None:
        for key, value in info.to_outputs().items():
            ctx.report_output(key, value)

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
        server, self.server = self.server, None
        serverrecord.take(_key(ctx))
        if server is None or server.info is None:
            return
        if ctx.options.keep_serving:
            ctx.report_output("kept", True)
            console.info(f"the server keeps running at {server.info.api_url} (pid {server.info.pid}); "
                         f"stop it with: swiftpipe stop {ctx.pipeline.display_name}")
            return
        result = server.stop()
        ctx.report_output("running", False)
        if not result.port_free:
            console.notice(f"port {server.info.port} is still in use after the server stopped")


def _model_identity(ctx: StageContext, model: str | Path, args: Any) -> list[str]:
    """--model_type/--template for a model folder swift cannot identify by itself.

    A merged or trained model carries its args.json (swift reads both from it); the base model
    does not, and swift refuses a folder that matches several model types.
    """
    if isinstance(model, Pending) or (Path(model) / "args.json").is_file():
        return []
    out = []
    for key in ("model_type", "template"):
        value = getattr(ctx.config, key)
        if value and key not in args:
            out += [f"--{key}", value]
    return out


@dataclass(frozen=True)
class Serving:
    """What a server answers with, for the fingerprints of deploy and of the stages reading it."""

    model: Any  # what identifies the model: its weights' digest, or the base model's files
    backend: str
    served_model_name: str
    args: dict[str, Any]  # args: less any secret (routed to the environment)
    identity: list[str]  # --model_type/--template for a folder swift cannot identify itself
    versions: dict[str, str | None]


def _key(ctx: StageContext) -> str:
    return f"{ctx.workdir}:{ctx.name}"


KIND = Kind(
    name="deploy", doc="swift deploy: an OpenAI-compatible server for the stages that read it",
    config=DeployConfig, stage=DeployStage, produces=SERVER, slots=_slots, swift_args=True, ephemeral=True,
    check=_check, key_outputs=("url",),
    reserved={
        "model": "the deploy stage serves the model of the stage it reads (or model:)",
        "host": "use host",
        "port": "use port",
        "served_model_name": "use served_model_name",
        "infer_backend": "use backend",
        "api_key": "use api_key_env",
    },
)
