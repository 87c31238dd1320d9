"""What the training kinds (`swift sft`, `swift pt`) share: config, command line, outputs.

The run folder is taken from swift's own `output_dir:` log line, never guessed from `vN`
numbers (failed runs consume a vN too). An interrupted run with the same fingerprint
continues from its newest complete checkpoint. A training stage reads a data stage (slot
`data`) and, optionally, another training stage's final model (slot `model`; a LoRA
checkpoint is merged first by an export stage swiftpipe adds); without one it trains the
pipeline's base model.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swiftpipe import tracking
from swiftpipe.config.schema import doc
from swiftpipe.core import console
from swiftpipe.core.argv import flags, secret_values
from swiftpipe.core.errors import StageFailed, UserError
from swiftpipe.engine import artifacts
from swiftpipe.engine.fingerprint import file_digest, fingerprint
from swiftpipe.engine.kind import CHECKPOINT, DATA, MODEL, Kind, Problem, Slot
from swiftpipe.engine.launch import LaunchConfig
from swiftpipe.engine.outputs import DataSplits, Pending, TrainingRun
from swiftpipe.engine.stage import FileStage, StageContext, StagePlan, StageResult
from swiftpipe.kinds import launching
from swiftpipe.kinds.common import model_args, model_source, stage_versions, weights_digest
from swiftpipe.kinds.swiftcall import SwiftConfig, prepare, run_swift
from swiftpipe.msswift import checkpoints, secrets

OUTPUT_DIR_LINE = re.compile(r"\[INFO:swift\] output_dir: (\S.*)$")
FILTERED_LINE = re.compile(r"Dataset filtered, origin length: (\d+), filtered dataset length: (\d+)")
RESUME_FLAG = "--resume_from_checkpoint"


@dataclass(frozen=True)
class TrainingConfig(SwiftConfig):
    dataset: list[str] = field(default_factory=list, metadata=doc("extra training files"))
    val_dataset: list[str] = field(default_factory=list, metadata=doc("extra validation files"))
    resume: bool = field(
        default=True, metadata=doc("continue an interrupted run from its newest complete checkpoint")
    )
    launch: LaunchConfig = field(
        default_factory=LaunchConfig, metadata=doc("processes, machines, GPUs and DeepSpeed"))


# Arguments swiftpipe sets itself: a user value would silently fight the pipeline.
RESERVED = {
    "model": "set the top-level 'model', or read a training stage with from:",
    "model_type": "set the top-level 'model_type'",
    "template": "set the top-level 'template'",
    "dataset": "read a data stage (from:) or list files under dataset",
    "val_dataset": "read a data stage (from:) or list files under val_dataset",
    "output_dir": "swiftpipe writes under the workdir",
    "resume_from_checkpoint": "swiftpipe resumes interrupted runs itself (resume: true)",
    "deepspeed": "use launch.deepspeed (zero2, zero3, ... or a JSON file)",
}


def slots(cfg: TrainingConfig) -> tuple[Slot, ...]:
    return (
        Slot("data", (DATA,), required=not cfg.dataset,
             missing="no training data; add a 'data' section (or a data stage) or list files under dataset"),
        Slot("model", (CHECKPOINT, MODEL), required=False, nearest=False, merge=True),
    )


def is_adapter(cfg: TrainingConfig) -> bool:
    return str(cfg.args.get("tuner_type", "lora")) != "full"


@dataclass(frozen=True)
class TrainParams:
    """What run() needs from the plan: the resolved launch (world size, DeepSpeed config, plugins)."""

    launch: launching.Launch


class TrainingStage(FileStage):
    command = "sft"

    def plan(self, ctx: StageContext[TrainingConfig]) -> StagePlan[TrainParams]:
        cfg = ctx.cfg
        call = prepare(ctx, cfg, tracking.swanlab_env(ctx))
        env, args = call.env, call.args
        model, model_id = model_source(ctx)
        train, val = self._datasets(ctx, cfg)
        argv = [call.swift, self.command, *model_args(ctx, model)]
        argv += ["--dataset", *train]
        if val:
            argv += ["--val_dataset", *val]
        argv += ["--output_dir", str(ctx.stage_dir)]
        argv += flags(self._defaults(ctx, cfg))
        argv += flags(tracking.training_args(ctx, args))
        launch = self._launch(ctx, cfg, env)
        env.update(launch.env)
        argv += launch.argv
        argv += tracking.swanlab_sft_args(ctx)
        # model_args writes the model as text: a Pending model shows through its id, not argv
        ready = not any(isinstance(a, Pending) for a in argv) and not isinstance(model_id, Pending)
        inputs = self._inputs(argv, model_id, train + val) if ready else {}
        if ready and launch.inputs:
            inputs["launch"] = launch.inputs
        plan: StagePlan[TrainParams] = StagePlan(argv, env, inputs, ready, notes=launch.notes,
                                                 params=TrainParams(launch))
        if ready:
            self._add_resume(ctx, cfg, plan)
        return plan

    def _datasets(self, ctx: StageContext[TrainingConfig], cfg: TrainingConfig) -> tuple[list[str], list[str]]:
        train = [str(ctx.pipeline.path(p)) for p in cfg.dataset]
        val = [str(ctx.pipeline.path(p)) for p in cfg.val_dataset]
        data, splits = ctx.upstream("data"), ctx.input("data", DataSplits)
        if data is not None and splits is not None:
            train.insert(0, splits.train)
            if data.config.val_ratio > 0 and splits.val is not None:
                val.insert(0, splits.val)
        for i, path in enumerate(cfg.dataset + cfg.val_dataset):
            if not ctx.pipeline.path(path).is_file():
                key = "dataset" if i < len(cfg.dataset) else "val_dataset"
                raise UserError(f"{ctx.where}.{key}: {ctx.pipeline.path(path)}: no such file")
        return train, val

    def _launch(self, ctx: StageContext[TrainingConfig], cfg: TrainingConfig,
                env: dict[str, str | None]) -> launching.Launch:
        from swiftpipe.core import process

        return launching.plan_launch(cfg.launch, cfg.args, process.child_env(env), where=ctx.where,
                                     pipeline_dir=ctx.pipeline.base_dir, stage_dir=ctx.stage_dir)

    def _defaults(self, ctx: StageContext[TrainingConfig], cfg: TrainingConfig) -> dict[str, Any]:
        defaults: dict[str, Any] = {}
        if ctx.config.offline and "check_model" not in cfg.args:
            defaults["check_model"] = False  # it calls the ModelScope hub otherwise
        return {k: v for k, v in defaults.items() if k not in cfg.args}

    def _inputs(self, argv: list[str], model_id: Any, data: list[str]) -> dict[str, Any]:
        return {
            "argv": argv[1:],
            "model": model_id,
            "data": {p: file_digest(Path(p)) for p in data},
            "versions": stage_versions(),
        }

    def _add_resume(self, ctx: StageContext[TrainingConfig], cfg: TrainingConfig, plan: StagePlan) -> None:
        record = ctx.record
        if not cfg.resume or record is None or not record.status.resumable:
            return
        run_dir = TrainingRun.from_dict(record.outputs, pending=ctx.name).run_dir  # the run so far
        if record.fingerprint != fingerprint(plan.inputs) or isinstance(run_dir, Pending):
            return
        ckpt, _ = checkpoints.last_complete(Path(run_dir))
        if ckpt is not None:
            plan.argv += [RESUME_FLAG, str(ckpt.path)]
            plan.notes.append(f"resumes the interrupted run from {ckpt.path} (step {ckpt.step})")

    def run(self, ctx: StageContext[TrainingConfig], plan: StagePlan[TrainParams]) -> StageResult:
        seen: dict[str, Any] = {}

        def on_line(line: str) -> None:
            if match := OUTPUT_DIR_LINE.search(line):
                seen["run_dir"] = match.group(1).strip()
                ctx.report_output("run_dir", seen["run_dir"])
            elif match := FILTERED_LINE.search(line):
                seen["swift_rows_in"], seen["swift_rows_kept"] = map(int, match.groups())

        from swiftpipe.msswift import deepspeed, plugins

        launch = plan.params.launch
        deepspeed.write_config(launch.inputs.get("deepspeed", {}))
        plugins.write(launch.inputs.get("exit_plugin", {}))
        try:
            run_swift(ctx, plan, self.command, on_line)
        finally:  # secrets swift could only take in argv (swanlab_secret) are in its args.json
            secrets.scrub_args_json(ctx.stage_dir, secret_values(plan.argv, plan.env))
        if ctx.cfg.launch.node_rank > 0:  # only node 0 logs and writes the run folder
            return StageResult(metrics=launching.metrics(ctx.cfg.args, launch.world_size))
        if "run_dir" not in seen:
            raise StageFailed(f"swift {self.command} finished but never printed its output_dir line")
        result = self._result(ctx, Path(seen["run_dir"]), seen)
        result.metrics.update(launching.metrics(ctx.cfg.args, launch.world_size))
        return result

    def _result(self, ctx: StageContext[TrainingConfig], run_dir: Path, seen: dict[str, Any]) -> StageResult:
        summary = _summary(run_dir)
        last = summary.get("last_model_checkpoint")
        if not last or not checkpoints.inspect(Path(last)).complete:
            raise StageFailed(f"{run_dir}: swift {self.command} reported no complete last checkpoint")
        if "swift_rows_in" in seen and seen["swift_rows_in"] != seen["swift_rows_kept"]:
            dropped = seen["swift_rows_in"] - seen["swift_rows_kept"]
            console.notice(f"swift dropped {dropped} of {seen['swift_rows_in']} rows (see {ctx.log_path()})")
        outputs = TrainingRun(
            run_dir=str(run_dir), last_checkpoint=last, best_checkpoint=summary.get("best_model_checkpoint"),
            logging=str(run_dir / "logging.jsonl"),
            # Read only when the checkpoint is a whole model (tuner_type: full).
            model_dir=last, model_digest=weights_digest(Path(last)),
        )
        arts = [artifacts.describe(run_dir / "logging.jsonl"), artifacts.describe(Path(last))]
        metrics = {k: v for k, v in seen.items() if k.startswith("swift_rows")}
        metrics.update(_train_metrics(summary))
        return StageResult(outputs, arts, metrics)


def training_kind(name: str, doc_text: str, stage: type[TrainingStage]) -> Kind:
    return Kind(
        name=name, doc=doc_text, config=TrainingConfig, stage=stage, produces=CHECKPOINT, slots=slots,
        reserved=RESERVED, swift_args=True, key_outputs=("run_dir", "last_checkpoint"), adapter=is_adapter,
        check=check, launch=lambda cfg: cfg.launch,
    )


def check(cfg: TrainingConfig) -> list[Problem]:
    return launching.check(cfg.launch) + launching.check_env(cfg.env)


def _summary(run_dir: Path) -> dict[str, Any]:
    try:
        lines = (run_dir / "logging.jsonl").read_text(encoding="utf-8").strip().splitlines()
        summary = json.loads(lines[-1])
    except (OSError, ValueError, IndexError):
        raise StageFailed(f"{run_dir}/logging.jsonl: missing or without a summary line") from None
    return summary if isinstance(summary, dict) else {}


def _train_metrics(summary: dict[str, Any]) -> dict[str, Any]:
    metrics: dict[str, Any] = {"global_step": summary.get("global_step")}
    for entry in summary.get("log_history", []):
        for key in ("train_loss", "eval_loss"):
            if key in entry:
                metrics[key] = entry[key]
    return metrics
