"""The sft stage: `swift sft` on the base model and the converted data.

The run folder is taken from swift's own `output_dir:` log line, never guessed
from `vN` numbers (failed runs consume a vN too). An interrupted run with the
same fingerprint continues from its newest complete checkpoint.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, ClassVar

from swiftpipe import console, process, tracking
from swiftpipe.argv import flags
from swiftpipe.config.schema import SftConfig
from swiftpipe.engine import artifacts
from swiftpipe.engine.fingerprint import file_digest
from swiftpipe.engine.manifest import StageRecord
from swiftpipe.engine.stage import Pending, StageContext, StagePlan, StageResult
from swiftpipe.errors import StageFailed, UserError
from swiftpipe.kinds.common import model_inputs, stage_versions, swift_program
from swiftpipe.msswift import checkpoints

OUTPUT_DIR_LINE = re.compile(r"\[INFO:swift\] output_dir: (\S.*)$")
FILTERED_LINE = re.compile(r"Dataset filtered, origin length: (\d+), filtered dataset length: (\d+)")
RESUME_FLAG = "--resume_from_checkpoint"


class SftStage:
    name: ClassVar[str] = "sft"
    ephemeral: ClassVar[bool] = False

    def _cfg(self, ctx: StageContext) -> SftConfig:
        assert ctx.config.stages.sft is not None
        return ctx.config.stages.sft

    def plan(self, ctx: StageContext) -> StagePlan:
        cfg = self._cfg(ctx)
        env = ctx.env({**tracking.swanlab_env(ctx), **cfg.env}, cfg.venv)
        train, val = self._datasets(ctx, cfg)
        argv = [swift_program(ctx, env, "stages.sft", cfg.args), "sft", *model_args(ctx)]
        argv += ["--dataset", *train]
        if val:
            argv += ["--val_dataset", *val]
        argv += ["--output_dir", str(ctx.workdir / "sft")]
        argv += flags(self._defaults(ctx, cfg))
        argv += flags(cfg.args)
        argv += tracking.swanlab_sft_args(ctx)
        ready = not any(isinstance(a, Pending) for a in argv)
        inputs = self._inputs(ctx, argv, train + val) if ready else {}
        plan = StagePlan(argv, env, inputs, ready)
        if ready:
            self._add_resume(ctx, cfg, plan)
        return plan

    def _datasets(self, ctx: StageContext, cfg: SftConfig) -> tuple[list[str], list[str]]:
        train = [str(ctx.pipeline.path(p)) for p in cfg.dataset]
        val = [str(ctx.pipeline.path(p)) for p in cfg.val_dataset]
        if ctx.config.data is not None:
            train.insert(0, ctx.output("data", "train"))
            if ctx.config.data.val_ratio > 0:
                val.insert(0, ctx.output("data", "val"))
        for i, path in enumerate(cfg.dataset + cfg.val_dataset):
            if not ctx.pipeline.path(path).is_file():
                key = "dataset" if i < len(cfg.dataset) else "val_dataset"
                raise UserError(f"stages.sft.{key}: {ctx.pipeline.path(path)}: no such file")
        return train, val

    def _defaults(self, ctx: StageContext, cfg: SftConfig) -> dict[str, Any]:
        defaults: dict[str, Any] = {}
        if ctx.config.offline and "check_model" not in cfg.args:
            defaults["check_model"] = False  # it calls the ModelScope hub otherwise
        return {k: v for k, v in defaults.items() if k not in cfg.args}

    def _inputs(self, ctx: StageContext, argv: list[str], data: list[str]) -> dict[str, Any]:
        return {
            "argv": argv[1:],
            "model": model_inputs(ctx),
            "data": {p: file_digest(Path(p)) for p in data},
            "versions": stage_versions(),
        }

    def _add_resume(self, ctx: StageContext, cfg: SftConfig, plan: StagePlan) -> None:
        from swiftpipe.engine.fingerprint import fingerprint

        record = ctx.record(self.name)
        if not cfg.resume or record is None or record.status not in ("failed", "interrupted"):
            return
        run_dir = record.outputs.get("run_dir")
        if record.fingerprint != fingerprint(plan.inputs) or not run_dir:
            return
        ckpt, _ = checkpoints.last_complete(Path(run_dir))
        if ckpt is not None:
            plan.argv += [RESUME_FLAG, str(ckpt.path)]
            plan.notes.append(f"resumes the interrupted run from {ckpt.path} (step {ckpt.step})")

    def run(self, ctx: StageContext, plan: StagePlan) -> StageResult:
        seen: dict[str, Any] = {}

        def on_line(line: str) -> None:
            if match := OUTPUT_DIR_LINE.search(line):
                seen["run_dir"] = match.group(1).strip()
                ctx.report_output(self.name, "run_dir", seen["run_dir"])
            elif match := FILTERED_LINE.search(line):
                seen["swift_rows_in"], seen["swift_rows_kept"] = map(int, match.groups())

        env = process.child_env(plan.env)
        rc = process.run(plan.argv, env=env, log_path=ctx.log_path(self.name),
                         echo=ctx.options.echo, on_line=on_line)
        if rc != 0:
            raise StageFailed(f"swift sft exited with code {rc}", rc)
        if "run_dir" not in seen:
            raise StageFailed("swift sft finished but never printed its output_dir line")
        return self._result(Path(seen["run_dir"]), seen)

    def _result(self, run_dir: Path, seen: dict[str, Any]) -> StageResult:
        summary = _summary(run_dir)
        last = summary.get("last_model_checkpoint")
        if not last or not checkpoints.inspect(Path(last)).complete:
            raise StageFailed(f"{run_dir}: swift sft reported no complete last checkpoint")
        if "swift_rows_in" in seen and seen["swift_rows_in"] != seen["swift_rows_kept"]:
            dropped = seen["swift_rows_in"] - seen["swift_rows_kept"]
            console.notice(f"swift dropped {dropped} of {seen['swift_rows_in']} rows (see logs/sft.log)")
        outputs = {
            "run_dir": str(run_dir),
            "last_checkpoint": last,
            "best_checkpoint": summary.get("best_model_checkpoint"),
            "logging": str(run_dir / "logging.jsonl"),
        }
        arts = [artifacts.describe(run_dir / "logging.jsonl"), artifacts.describe(Path(last))]
        metrics = {k: v for k, v in seen.items() if k.startswith("swift_rows")}
        metrics.update(_train_metrics(summary))
        return StageResult(outputs, arts, metrics)

    def stale(self, ctx: StageContext, record: StageRecord) -> str | None:
        return artifacts.stale_reason(record.artifacts)

    def close(self, ctx: StageContext) -> None:
        return None


def model_args(ctx: StageContext) -> list[str]:
    cfg = ctx.config
    out = ["--model", str(model_path(ctx))]
    if cfg.model_type:
        out += ["--model_type", cfg.model_type]
    if cfg.template:
        out += ["--template", cfg.template]
    return out


def model_path(ctx: StageContext) -> str | Path:
    """The base model as swift should see it: an absolute local dir (or a hub id online)."""
    local = ctx.pipeline.path(ctx.config.model)
    if local.is_dir():
        return local
    if ctx.config.offline:
        raise UserError(
            f"{ctx.pipeline.display_name} › model: {local}: no such directory "
            "(offline: hub ids are not downloaded; build the demo model with 'make tiny-model')"
        )
    return ctx.config.model


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
