"""The select kind: pick the best of several candidates by one metric; stages after it read the winner's model.

A candidate is an evaluation (`metric: <dataset>.<metric>`, a key of its scores) or a training run
(`metric: eval_loss` or `train_loss`, its final loss); `from:` lists them. An evaluation's loss is
that of the training behind it. In a sweep, `from: eval` reads every copy of the swept eval stage
(swiftpipe/sweep/expand.py). The winner's model is the model behind it: eval -> deploy -> the export
or training that made the model (a LoRA run is merged first). Ties go to the candidate listed
first. The pick, its value, the runner-up and the margin are the stage's outputs (`Selection`) and
metrics, and are written to <workdir>/<stage>/selection.json.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from swiftpipe.config.schema import doc
from swiftpipe.core import fsio
from swiftpipe.core.errors import StageFailed, UserError
from swiftpipe.engine import artifacts
from swiftpipe.engine.kind import CHECKPOINT, MODEL, SCORES, Kind, Problem, Slot
from swiftpipe.engine.outputs import TYPES, ModelOutputs, Scores, Selection, TrainingRun, known
from swiftpipe.engine.stage import FileStage, StageContext, StagePlan, StageResult

MAX_CANDIDATES = 32
LOSSES = ("eval_loss", "train_loss")


@dataclass(frozen=True)
class SelectConfig:
    # swiftpipe/sweep reads this: `from:` naming a swept stage means all its copies, and this
    # stage is not copied per variant (it is where the variants meet).
    gathers: ClassVar[bool] = True

    metric: str = field(metadata=doc("what to compare: <dataset>.<metric> of the candidates' scores "
                                     "(general_mcq.acc), or eval_loss / train_loss of their training",
                                     nonempty=True))
    mode: Literal["max", "min"] = field(default="max", metadata=doc("max: the highest value wins; min: the lowest"))


@dataclass(frozen=True)
class SelectParams:
    values: dict[str, float | None]  # candidate -> its value (None: it has none)
    models: dict[str, str]  # candidate -> the stage whose model it stands for
    selection: Path


def _slots(cfg: SelectConfig) -> tuple[Slot, ...]:
    missing = "name the stages to choose from with from: (eval stages, or training stages for a loss)"
    return tuple(Slot(f"candidate{i}", (SCORES, CHECKPOINT), required=i == 1, nearest=False, merge=True,
                      missing=missing) for i in range(1, MAX_CANDIDATES + 1))


def _check(cfg: SelectConfig) -> list[Problem]:
    dataset, dot, metric = cfg.metric.partition(".")
    if cfg.metric in LOSSES or (dot and dataset and metric):
        return []
    return [Problem("metric", f"expected eval_loss, train_loss or <dataset>.<metric> (general_mcq.acc), "
                              f"got '{cfg.metric}'")]


class SelectStage(FileStage):
    def plan(self, ctx: StageContext[SelectConfig]) -> StagePlan[SelectParams]:
        names = self._candidates(ctx)
        models = {name: self._source(ctx, name, (MODEL, CHECKPOINT)) for name in names}
        for name in names:
            self._check_metric(ctx, name)
        notes = [f"picks the {'highest' if ctx.cfg.mode == 'max' else 'lowest'} {ctx.cfg.metric} of "
                 f"{', '.join(names)}; stages after it read the winner's model"]
        if not all(_outputs(ctx, models[n]) is not None and _outputs(ctx, n) is not None for n in names):
            return StagePlan([], {}, {}, ready=False, notes=notes)
        values = {name: self._value(ctx, name) for name in names}
        digests = {name: self._model(ctx, models[name]).model_digest for name in names}
        params = SelectParams(values, models, ctx.stage_dir / "selection.json")
        inputs = {"metric": ctx.cfg.metric, "mode": ctx.cfg.mode, "values": values, "models": digests}
        winner = _pick(values, ctx.cfg.mode)
        if winner is not None:
            notes.append(f"now: {winner[0]} ({_show(values[winner[0]])})")
        return StagePlan([], {}, inputs, notes=notes, params=params)

    def _candidates(self, ctx: StageContext[SelectConfig]) -> list[str]:
        """The stages read, as the user named them (a training, not the export merging it)."""
        return [self._written(ctx, up) for up in ctx.node.upstream.values()]

    def _written(self, ctx: StageContext[SelectConfig], name: str) -> str:
        node = ctx.pipeline.graph[name]
        return next(iter(node.upstream.values())) if node.implied and node.upstream else name

    def _source(self, ctx: StageContext[SelectConfig], name: str, produces: tuple[str, ...]) -> str:
        """The nearest stage at or above `name` producing one of `produces` (its model, its training)."""
        graph, todo, seen = ctx.pipeline.graph, [name], set()
        while todo:
            current = todo.pop(0)
            if graph.kind(current).produces in produces:
                return self._merged(ctx, current) if produces[0] == MODEL else current
            seen.add(current)
            todo += [u for u in graph[current].upstream.values() if u not in seen]
        what = "model" if produces[0] == MODEL else "training run"
        raise UserError(f"{ctx.where}.from: {name} has no {what} of its own (it evaluates the base model); "
                        "select chooses among trained models")

    def _merged(self, ctx: StageContext[SelectConfig], name: str) -> str:
        """A LoRA training's model is the export that merges it, when the graph has one."""
        graph = ctx.pipeline.graph
        merges = [d for d in graph.dependents(name) if graph.kind(d).produces == MODEL and graph[d].implied]
        return merges[0] if merges else name

    def _check_metric(self, ctx: StageContext[SelectConfig], name: str) -> None:
        metric = ctx.cfg.metric
        if metric in LOSSES:
            self._source(ctx, name, (CHECKPOINT,))
            return
        if ctx.pipeline.graph.kind(name).produces != SCORES:
            raise UserError(f"{ctx.where}.metric: {name} is a training stage, it has no {metric}; "
                            "compare trainings by eval_loss or train_loss, or read eval stages")
        datasets = getattr(ctx.pipeline.graph[name].config, "datasets", None)
        dataset = metric.partition(".")[0]
        if isinstance(datasets, dict) and dataset not in datasets:
            raise UserError(f"{ctx.where}.metric: {name} does not evaluate {dataset} "
                            f"(its datasets: {', '.join(datasets) or 'none'})")

    def _model(self, ctx: StageContext[SelectConfig], name: str) -> ModelOutputs:
        produced = TYPES[ctx.pipeline.graph.kind(name).produces]
        model = produced.from_dict(_outputs(ctx, name) or {}, pending=name)
        assert isinstance(model, ModelOutputs)
        return model

    def _value(self, ctx: StageContext[SelectConfig], name: str) -> float | None:
        metric = ctx.cfg.metric
        if metric in LOSSES:
            training = self._source(ctx, name, (CHECKPOINT,))
            run = TrainingRun.from_dict(_outputs(ctx, training) or {}, pending=training)
            return final_loss(Path(run.logging), metric) if known(run.logging) else None
        dataset, _, key = metric.partition(".")
        scores = Scores.from_dict(_outputs(ctx, name) or {})
        value = score(scores.scores.get(dataset) or {}, key)
        return float(value) if isinstance(value, int | float) and math.isfinite(value) else None

    def run(self, ctx: StageContext[SelectConfig], plan: StagePlan[SelectParams]) -> StageResult:
        params, cfg = plan.params, ctx.cfg
        lacking = [n for n, v in params.values.items() if v is None]
        if lacking:
            raise StageFailed(f"no {cfg.metric} for {', '.join(lacking)}; {self._has(ctx, lacking[0])}")
        picked = _pick(params.values, cfg.mode)
        assert picked is not None
        winner, runner_up = picked
        model = self._model(ctx, params.models[winner])
        checkpoint = str(getattr(model, "checkpoint", None) or getattr(model, "last_checkpoint", model.model_dir))
        value = params.values[winner]
        margin = None if runner_up is None else abs(value - params.values[runner_up])  # type: ignore[operator]
        outputs = Selection(
            model_dir=model.model_dir, model_digest=model.model_digest, checkpoint=checkpoint, winner=winner,
            variant=_variant(ctx, winner), model_stage=params.models[winner], metric=cfg.metric, mode=cfg.mode,
            value=value, runner_up=runner_up, margin=margin, candidates=dict(params.values),
            selection=str(params.selection),
        )
        fsio.atomic_write_text(params.selection, json.dumps(outputs.to_dict(), indent=2) + "\n")
        arts = [artifacts.describe(params.selection), artifacts.describe(Path(model.model_dir))]
        metrics = {"winner": winner, "value": value, "margin": margin}
        return StageResult(outputs, arts, metrics)

    def _has(self, ctx: StageContext[SelectConfig], name: str) -> str:
        if ctx.cfg.metric in LOSSES:
            return "its training logged no such loss (eval_loss needs a validation split and eval_steps)"
        scores = Scores.from_dict(_outputs(ctx, name) or {})
        found = [f"{d}.{k}" for d, keys in scores.scores.items() for k in (keys or {})]
        return f"{name} has {', '.join(found) or 'no scores'}"


def _outputs(ctx: StageContext[SelectConfig], name: str) -> dict[str, Any] | None:
    """Stage `name`'s outputs: select reads stages beyond its slots (the model behind an eval, the
    training behind a model), which StageContext.input does not reach."""
    return ctx._lookup(name)


def score(found: dict[str, Any], key: str) -> Any:
    """A dataset's `key` score: the key as evalscope names it (`accuracy:mean`), or its name before
    the colon when only one of its keys has that name (`accuracy`)."""
    if key in found:
        return found[key]
    named = [k for k in found if k.partition(":")[0] == key]
    return found[named[0]] if len(named) == 1 else None


def _pick(values: dict[str, float | None], mode: str) -> tuple[str, str | None] | None:
    """(winner, runner-up): the best value, the first listed among equals; None when one is missing."""
    if any(v is None for v in values.values()):
        return None
    sign = -1.0 if mode == "max" else 1.0
    ranked = sorted(values, key=lambda n: sign * values[n])  # type: ignore[operator]  # stable: ties keep order
    return ranked[0], ranked[1] if len(ranked) > 1 else None


def _variant(ctx: StageContext[SelectConfig], name: str) -> str | None:
    """A sweep copy's values as its name shows them (`lr1e-2-r4` of eval-lr1e-2-r4)."""
    written = ctx.pipeline.graph[name].where.rpartition(".")[2]
    return name[len(written) + 1:] if name.startswith(written + "-") else None


def final_loss(logging: Path, metric: str) -> float | None:
    """The last `metric` swift logged in logging.jsonl (its summary line's log_history, or the lines)."""
    found: float | None = None
    try:
        lines = logging.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        entries = entry.get("log_history", [entry]) if isinstance(entry, dict) else []
        for item in entries:
            if isinstance(item, dict) and isinstance(item.get(metric), int | float):
                found = float(item[metric])
    return found


def _show(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


KIND = Kind(
    name="select", doc="pick the best of several eval (or training) stages by one metric; stages after it "
                       "read the winner's model", config=SelectConfig, stage=SelectStage, produces=MODEL,
    slots=_slots, check=_check, key_outputs=("winner", "model_dir"),
)
