"""The eval kind: `evalscope eval` against a deploy stage's server or any OpenAI-compatible URL.

With `compare_base: true` the base model's evaluation is a node of its own (kind
base-eval), keyed by the base model and these settings, evaluated once and reused by
every eval stage with the same settings; this stage then writes
<workdir>/<stage>/compare.{json,md} with the per-metric deltas. Several eval stages may read
one deploy stage, each with its own datasets and settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swiftpipe import tracking
from swiftpipe.config.schema import doc
from swiftpipe.core import console, process
from swiftpipe.core.errors import UserError
from swiftpipe.core.versions import tool_versions
from swiftpipe.engine import artifacts
from swiftpipe.engine.kind import SCORES, SERVER, Implied, Kind, Problem, Slot
from swiftpipe.engine.outputs import Pending, Scores, Served
from swiftpipe.engine.stage import FileStage, StageContext, StagePlan, StageResult
from swiftpipe.evaluation import benchmarks, compare, counts, evalcommand, reuse
from swiftpipe.evaluation.evalreport import read_reports
from swiftpipe.evaluation.run import data_digests, evaluate, fits, move_aside, prepared, score_outputs
from swiftpipe.evaluation.settings import EvalSettings, settings_of
from swiftpipe.kinds.common import program
from swiftpipe.serving.server import http_status
from swiftpipe.serving.swiftdeploy import ServeSettings, api_key


@dataclass(frozen=True)
class EvalConfig(EvalSettings):
    compare_base: bool = field(default=False, metadata=doc("also evaluate the base model (once, cached)"))
    api_url: str | None = field(
        default=None,
        metadata=doc("evaluate this OpenAI-compatible endpoint instead of a deploy stage", nonempty=True),
    )
    served_model_name: str | None = field(
        default=None, metadata=doc("the model name to ask api_url for", nonempty=True)
    )
    api_key_env: str | None = field(
        default=None,
        metadata=doc("environment variable holding api_url's key (a deploy stage's own by default)", nonempty=True),
    )


@dataclass(frozen=True)
class EvalParams:
    work_dir: Path
    keyed_by: str | None  # the variable holding the key, if the server wants one
    health: str | None  # a URL that answers 200 when the server is up (None: an external endpoint)
    conversions: list[benchmarks.Conversion] = field(default_factory=list)  # CSV folders to convert first


def _slots(cfg: EvalConfig) -> tuple[Slot, ...]:
    own = cfg.api_url is None
    missing = "nothing to evaluate: add a deploy stage before it (or name one with from:) or give api_url"
    return (Slot("server", (SERVER,), required=own, nearest=own, missing=missing),)


def _check(cfg: EvalConfig) -> list[Problem]:
    if cfg.api_url is not None and not cfg.served_model_name:
        return [Problem("served_model_name", "required with api_url: the model name the endpoint serves")]
    if cfg.api_url is None and cfg.served_model_name:
        return [Problem("served_model_name", "only with api_url; a deploy stage names its own model")]
    return []


def _implies(cfg: EvalConfig, upstream: Mapping[str, Any]) -> list[Implied]:
    if not cfg.compare_base:
        return []
    server = upstream.get("server")
    serve = ServeSettings.of(server) if server is not None else ServeSettings()
    from swiftpipe.kinds.base_eval import BaseEvalConfig

    config = BaseEvalConfig(settings_of(cfg), serve)
    return [Implied("base", "base-eval", config, "base", "evaluates the base model with the same settings")]


class EvalStage(FileStage):
    def plan(self, ctx: StageContext[EvalConfig]) -> StagePlan[EvalParams]:
        cfg = ctx.cfg
        env = ctx.env(cfg.env, cfg.venv)
        datasets = evalcommand.dataset_args(ctx.pipeline, cfg, ctx.where)
        sent, conversions = benchmarks.prepare(datasets, ctx.stage_dir, ctx.where, ctx.pipeline.display_name)
        api_url, model, served, keyed_by, health = self._target(ctx, cfg)
        work_dir = ctx.stage_dir / "finetuned"
        argv = evalcommand.eval_argv(program(ctx, "evalscope", env), cfg, sent, api_url=api_url, model=model,
                                     work_dir=work_dir, keyed=keyed_by is not None)
        notes = [f"datasets: {', '.join(datasets)}", *(c.note() for c in conversions)]
        if keyed_by:
            notes.append("API key: passed in EVALSCOPE_API_KEY, not on the command line")
        base = ctx.input("base", Scores)
        params = EvalParams(work_dir, keyed_by, health, conversions)
        if isinstance(served, Pending) or (base is not None and not ctx.available("base")):
            return StagePlan(argv, env, {}, ready=False, notes=notes, params=params)
        inputs: dict[str, Any] = {
            "shaping": evalcommand.shaping(cfg, sent, model=model, keyed=keyed_by is not None),
            "served": served, "data": data_digests(datasets),
            "evalscope": tool_versions().get("evalscope"),
        }
        if base is not None:
            inputs["base"] = base.primary
        return StagePlan(argv, env, inputs, notes=notes, params=params)

    def _target(self, ctx: StageContext[EvalConfig], cfg: EvalConfig) -> tuple[str, str, Any, str | None, str | None]:
        """(api_url, model, what identifies the served model, key variable, health URL)."""
        if cfg.api_url is not None:
            assert cfg.served_model_name is not None
            return cfg.api_url, cfg.served_model_name, {"api_url": cfg.api_url, "model": cfg.served_model_name}, \
                cfg.api_key_env, None
        server, served = ctx.upstream("server"), ctx.input("server", Served)
        assert server is not None and served is not None
        api_url = served.api_url
        health = None if isinstance(api_url, Pending) else api_url.removesuffix("/v1") + "/health"
        keyed_by = cfg.api_key_env or getattr(server.config, "api_key_env", None)
        return api_url, served.served_model_name, served.serving_key, keyed_by, health

    def run(self, ctx: StageContext[EvalConfig], plan: StagePlan[EvalParams]) -> StageResult:
        cfg = ctx.cfg
        params = plan.params
        for note in plan.notes:
            console.info(note)
        if evalcommand.asks_bleu(evalcommand.dataset_args(ctx.pipeline, cfg, ctx.where)):
            console.notice(evalcommand.BLEU_NOTICE)
        if params.health is not None and http_status(params.health) != 200:
            raise UserError(f"{ctx.where}: no server answers at {params.health}; run the deploy stage first")
        aside = move_aside(ctx.stage_dir)
        converted = prepared(ctx, params.conversions)
        served = ctx.input("server", Served) if cfg.api_url is None else None
        if served is not None and served.model:
            fits(ctx, cfg, params.conversions, Path(served.model))
        env = process.child_env(plan.env)
        if params.keyed_by is not None:
            key = api_key(params.keyed_by, ctx.where)
            assert key is not None
            env["EVALSCOPE_API_KEY"] = key
        keys = reuse.dataset_keys(plan.inputs, list(cfg.datasets))
        reports = evaluate(ctx, cfg, plan.argv, env, params.work_dir, keys, aside)
        counts.check(params.conversions, reports, cfg.limit, ctx.where)
        outputs = {**score_outputs(reports, params.work_dir, keys), **converted}
        metrics = {n: r.primary_score for n, r in reports.items()}
        files = [Path(r.path) for r in reports.values()]
        base = ctx.input("base", Scores)
        if base is not None:
            outputs.update(self._compare(ctx, base, reports, params.work_dir))
            metrics.update({f"base/{n}": p.get("score") for n, p in base.primary.items()})
            files += [Path(outputs["compare_json"]), Path(outputs["compare_md"])]
        tracking.log_eval(ctx, metrics)
        return StageResult(Scores.from_dict(outputs), [artifacts.describe(p) for p in files], metrics)

    def _compare(self, ctx: StageContext[EvalConfig], base: Scores, tuned: Any, tuned_dir: Path) -> dict[str, Any]:
        base_dir = Path(base.work_dir)
        result = compare.compare(read_reports(base_dir), tuned, base_dir, tuned_dir)
        json_path, md_path = compare.write(result, ctx.stage_dir)
        for flag in result.flags:
            console.notice(f"base vs fine-tuned: {flag}")
        return {"compare_json": str(json_path), "compare_md": str(md_path), "flags": result.flags}


KIND = Kind(
    name="eval", doc="evalscope eval against a deploy stage's server or api_url", config=EvalConfig,
    stage=EvalStage, produces=SCORES, slots=_slots, check=_check, implies=_implies, key_outputs=("primary",),
    reserved={
        "model": "the eval stage asks for the served model name",
        "api_url": "the eval stage uses the deployed server, or api_url",
        "api_key": "use api_key_env",
        "datasets": "use datasets",
        "dataset_args": "use datasets",
        "limit": "use limit",
        "generation_config": "use generation_config",
        "eval_batch_size": "use batch_size",
        "work_dir": "swiftpipe writes under the workdir",
    },
)
