"""The eval stage: `evalscope eval` against the deployed server, optionally the base model too.

Scores are read from evalscope's report files, never from its console. A run
whose requests failed or whose report is incomplete fails the stage (unless
`ignore_errors: true`): a zero from a dead server is not a result. With
`compare_base: true` the base model gets its own temporary server (same
backend, served as `<name>-base`) and the identical evalscope command, and
<workdir>/eval/compare.{json,md} hold the per-metric deltas.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, ClassVar

from swiftpipe import console, process, tracking
from swiftpipe.config.schema import EvalConfig
from swiftpipe.engine import artifacts
from swiftpipe.engine.fingerprint import dir_digest, file_digest
from swiftpipe.engine.manifest import StageRecord
from swiftpipe.engine.stage import Pending, StageContext, StagePlan, StageResult
from swiftpipe.errors import StageFailed, UserError
from swiftpipe.evaluation import compare, evalcommand
from swiftpipe.evaluation.evalreport import DatasetReport, problems, read_reports
from swiftpipe.kinds import deploy
from swiftpipe.kinds.common import model_inputs, program
from swiftpipe.serving import ports, serverrecord
from swiftpipe.serving.server import Server, ServerError, ServerInfo, ServerSpec, http_status
from swiftpipe.versions import tool_versions


def _cfg(ctx: StageContext) -> EvalConfig:
    assert ctx.config.stages.eval is not None
    return ctx.config.stages.eval


def _keyed(ctx: StageContext) -> bool:
    return ctx.config.stages.deploy is not None and ctx.config.stages.deploy.api_key_env is not None


class EvalStage:
    name: ClassVar[str] = "eval"
    ephemeral: ClassVar[bool] = False

    def plan(self, ctx: StageContext) -> StagePlan:
        cfg = _cfg(ctx)
        env = ctx.env(cfg.env, cfg.venv)
        datasets = evalcommand.dataset_args(ctx.pipeline, cfg)
        api_url = ctx.output("deploy", "api_url")
        model = ctx.output("deploy", "served_model_name")
        argv = evalcommand.eval_argv(
            program(ctx, "evalscope", env, "stages.eval"), cfg, datasets, api_url=api_url, model=model,
            work_dir=ctx.workdir / "eval" / "finetuned", keyed=_keyed(ctx),
        )
        notes = [f"datasets: {', '.join(datasets)}"]
        if _keyed(ctx):
            notes.append("API key: passed in EVALSCOPE_API_KEY, not on the command line")
        if isinstance(api_url, Pending):
            return StagePlan(argv, env, {}, ready=False, notes=notes)
        return StagePlan(argv, env, self._inputs(ctx, argv, datasets), notes=notes)

    def _inputs(self, ctx: StageContext, argv: list[str], datasets: dict[str, Any]) -> dict[str, Any]:
        cfg = _cfg(ctx)
        stable = list(argv[1:])
        stable[stable.index("--api-url") + 1] = "<deploy.api_url>"  # the port does not shape scores
        inputs: dict[str, Any] = {
            "argv": stable,
            "served_model": ctx.output("deploy", "model"),
            "data": {n: _digest(Path(a["local_path"])) for n, a in datasets.items() if "local_path" in a},
            "evalscope": tool_versions().get("evalscope"),
        }
        if cfg.compare_base:
            inputs["base_model"] = model_inputs(ctx)
        return inputs

    def run(self, ctx: StageContext, plan: StagePlan) -> StageResult:
        for note in plan.notes:
            console.info(note)
        cfg = _cfg(ctx)
        if evalcommand.asks_bleu(evalcommand.dataset_args(ctx.pipeline, cfg)):
            console.notice(evalcommand.BLEU_NOTICE)
        api_url = plan.argv[plan.argv.index("--api-url") + 1]
        if http_status(api_url.removesuffix("/v1") + "/health") != 200:
            raise UserError(f"stages.eval: no server answers at {api_url}; run the deploy stage first")
        # A base-model server an earlier attempt recorded and never stopped (that run died).
        base = ctx.previous.get(self.name, {}).get("base_server")
        serverrecord.reap(ServerInfo.from_outputs(base if isinstance(base, dict) else None))
        _move_aside(ctx.workdir / "eval")
        env = self._env(ctx, plan)
        finetuned = self._evaluate(ctx, plan.argv, env)
        outputs: dict[str, Any] = _outputs("finetuned", plan.argv, finetuned)
        metrics = _metrics("", finetuned)
        found = [*finetuned.values()]
        if cfg.compare_base:
            base, server = self._evaluate_base(ctx, plan.argv, env)
            outputs.update(_outputs("base", plan.argv, base), base_server=server.to_outputs())
            metrics.update(_metrics("base/", base))
            outputs.update(self._compare(ctx, base, finetuned))
            found += base.values()
        tracking.log_eval(ctx, metrics)
        files = [Path(r.path) for r in found] + [Path(p) for k, p in outputs.items() if k.startswith("compare_")]
        return StageResult(outputs, [artifacts.describe(p) for p in files], metrics)

    def _env(self, ctx: StageContext, plan: StagePlan) -> dict[str, str]:
        env = process.child_env(plan.env)
        if _keyed(ctx):
            key = deploy.api_key(deploy.deploy_config(ctx))
            assert key is not None
            env["EVALSCOPE_API_KEY"] = key
        return env

    def _evaluate(self, ctx: StageContext, argv: list[str], env: dict[str, str]) -> dict[str, DatasetReport]:
        cfg = _cfg(ctx)
        work_dir = Path(argv[argv.index("--work-dir") + 1])
        rc = process.run(argv, env=env, log_path=ctx.log_path(self.name), echo=ctx.options.echo)
        try:
            reports = read_reports(work_dir)
        except (OSError, ValueError) as exc:
            raise StageFailed(f"cannot read evalscope's reports in {work_dir}: {exc}", rc) from None
        found = ([f"evalscope exited with code {rc}"] if rc != 0 else []) + problems(reports, list(cfg.datasets))
        if found and not cfg.ignore_errors:
            raise StageFailed("; ".join(found) + " (set stages.eval.ignore_errors: true to accept this)", rc)
        for problem in found:
            console.notice(f"{problem} (ignored: stages.eval.ignore_errors is true)")
        return reports

    def _evaluate_base(
        self, ctx: StageContext, argv: list[str], env: dict[str, str]
    ) -> tuple[dict[str, DatasetReport], ServerInfo]:
        spec = _base_spec(ctx)
        console.step(f"eval: serving the base model as '{spec.served_model_name}' for comparison")
        server = Server(spec)
        try:
            info = server.start(on_spawn=lambda i: ctx.report_output(self.name, "base_server", i.to_outputs()))
        except ServerError as exc:
            raise StageFailed(f"base model server: {exc}\nlast lines of {spec.log_path}:\n{exc.tail}") from None
        try:
            base_argv = evalcommand.with_target(argv, api_url=info.api_url, model=info.served_model_name,
                                                work_dir=ctx.workdir / "eval" / "base")
            return self._evaluate(ctx, base_argv, env), info
        finally:
            server.stop()
            ctx.report_output(self.name, "base_server", info.to_outputs())

    def _compare(
        self, ctx: StageContext, base: dict[str, DatasetReport], tuned: dict[str, DatasetReport]
    ) -> dict[str, Any]:
        result = compare.compare(base, tuned, ctx.workdir / "eval" / "base", ctx.workdir / "eval" / "finetuned")
        json_path, md_path = compare.write(result, ctx.workdir / "eval")
        for flag in result.flags:
            console.notice(f"base vs fine-tuned: {flag}")
        return {"compare_json": str(json_path), "compare_md": str(md_path), "flags": result.flags}

    def stale(self, ctx: StageContext, record: StageRecord) -> str | None:
        return artifacts.stale_reason(record.artifacts)

    def close(self, ctx: StageContext) -> None:
        return None  # the base server is stopped where it is started


def _base_spec(ctx: StageContext) -> ServerSpec:
    """A server for the base model with the deploy stage's backend and settings."""
    dcfg = deploy.deploy_config(ctx)
    env = ctx.env(dcfg.env, dcfg.venv)
    local = ctx.pipeline.path(ctx.config.model)
    model = str(local) if local.exists() else ctx.config.model
    backend = str(ctx.output("deploy", "backend"))
    argv = deploy.deploy_argv(program(ctx, "swift", env, "stages.deploy"), model, backend,
                              ports.free_port(dcfg.host), f"{deploy.served_name(ctx)}-base", dcfg)
    for key in ("model_type", "template"):
        value = getattr(ctx.config, key)
        if value and key not in dcfg.args:
            argv += [f"--{key}", value]
    return deploy.server_spec(ctx, argv, env, ctx.log_path("deploy-base"))


def _outputs(side: str, argv: list[str], reports: dict[str, DatasetReport]) -> dict[str, Any]:
    work_dir = argv[argv.index("--work-dir") + 1] if side == "finetuned" else None
    prefix = "" if side == "finetuned" else "base_"
    out: dict[str, Any] = {
        f"{prefix}scores": {n: r.scores for n, r in reports.items()},
        f"{prefix}primary": {n: {"metric": r.primary, "score": r.primary_score} for n, r in reports.items()},
        f"{prefix}reports": [r.path for r in reports.values()],
    }
    if work_dir is not None:
        out["work_dir"] = work_dir
    elif reports:
        out["base_work_dir"] = str(Path(next(iter(reports.values())).path).parents[2])
    return out


def _metrics(prefix: str, reports: dict[str, DatasetReport]) -> dict[str, Any]:
    return {f"{prefix}{n}": r.primary_score for n, r in reports.items()}


def _digest(path: Path) -> Any:
    return dir_digest(path) if path.is_dir() else file_digest(path)


def _move_aside(path: Path) -> None:
    """Earlier results are kept: evalscope would mix old reports with new ones."""
    if path.exists():
        aside = path.with_name(f"{path.name}.stale-{time.strftime('%Y%m%d-%H%M%S')}")
        console.notice(f"moving the earlier {path.name}/ aside to {aside.name}/")
        os.replace(path, aside)

