"""The export kind: `swift export --merge_lora true` on the chosen checkpoint of a training stage.

swift writes into `<dir>.partial`; only a merge that finished and holds a config,
weights and args.json is renamed to `<checkpoint>-merged`. A leftover `-merged`
folder that the manifest does not vouch for is moved aside, never reused:
`swift export --exist_ok` would silently keep a half-written one.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from swiftpipe.config.schema import doc
from swiftpipe.core import console, fsio
from swiftpipe.core.argv import flags
from swiftpipe.core.errors import StageFailed
from swiftpipe.engine import artifacts
from swiftpipe.engine.fingerprint import dir_digest
from swiftpipe.engine.kind import CHECKPOINT, MODEL, Kind, Slot
from swiftpipe.engine.outputs import Model, Pending, TrainingRun
from swiftpipe.engine.stage import FileStage, StageContext, StagePlan, StageResult
from swiftpipe.kinds.common import stage_versions, weights_digest
from swiftpipe.kinds.swiftcall import SwiftConfig, prepare, run_swift
from swiftpipe.msswift import checkpoints

MERGED_FILES = ("config.json", "args.json")
WEIGHTS = ("model.safetensors", "model.safetensors.index.json")


@dataclass(frozen=True)
class ExportConfig(SwiftConfig):
    checkpoint: str = field(default="last", metadata=doc("last, best, or a checkpoint path", nonempty=True))


@dataclass(frozen=True)
class ExportParams:
    checkpoint: str
    partial: Path  # swift writes here; renamed to `final` only when complete
    final: Path


def _slots(cfg: ExportConfig) -> tuple[Slot, ...]:
    by_name = cfg.checkpoint in ("last", "best")
    missing = f"checkpoint '{cfg.checkpoint}' needs a training stage before it; give a checkpoint path"
    return (Slot("model", (CHECKPOINT,), required=by_name, nearest=by_name, missing=missing),)


class ExportStage(FileStage):
    def plan(self, ctx: StageContext[ExportConfig]) -> StagePlan[ExportParams]:
        cfg = ctx.cfg
        call = prepare(ctx, cfg)
        env = call.env
        ckpt, notes = self._checkpoint(ctx, cfg)
        merged = Pending(f"{ckpt}-merged") if isinstance(ckpt, Pending) else f"{ckpt}-merged"
        argv = [call.swift, "export", "--adapters", ckpt,
                "--merge_lora", "true", "--output_dir", merged + ".partial", *flags(call.args)]
        if isinstance(ckpt, Pending):
            return StagePlan(argv, env, {}, ready=False, notes=notes)
        inputs = {
            "argv": argv[1:],
            "checkpoint": dir_digest(Path(ckpt)),
            "versions": stage_versions(),
        }
        notes.append(f"checkpoint: {ckpt} ({cfg.checkpoint})")
        params = ExportParams(ckpt, Path(merged + ".partial"), Path(merged))
        return StagePlan(argv, env, inputs, notes=notes, params=params)

    def _checkpoint(self, ctx: StageContext[ExportConfig], cfg: ExportConfig) -> tuple[str, list[str]]:
        if cfg.checkpoint not in ("last", "best"):
            ckpt, notices = checkpoints.resolve(cfg.checkpoint, Path("."), base_dir=ctx.pipeline.base_dir)
            return str(ckpt.path), notices
        run = ctx.input("model", TrainingRun)
        assert run is not None  # the slot is required when checkpoint is last or best
        run_dir = run.run_dir
        if isinstance(run_dir, Pending):
            return Pending(f"{run_dir}/checkpoint-<{cfg.checkpoint}>"), []
        ckpt, notices = checkpoints.resolve(cfg.checkpoint, Path(run_dir), base_dir=ctx.pipeline.base_dir)
        return str(ckpt.path), notices

    def run(self, ctx: StageContext[ExportConfig], plan: StagePlan[ExportParams]) -> StageResult:
        for note in plan.notes:
            console.info(note)
        params = plan.params
        partial, final = params.partial, params.final
        _clear_leftovers(ctx, partial, final)
        run_swift(ctx, plan, "export")
        problem = _incomplete(partial)
        if problem:
            raise StageFailed(f"swift export exited 0 but {partial} is incomplete: {problem}")
        os.replace(partial, final)
        outputs = Model(model_dir=str(final), model_digest=weights_digest(final), checkpoint=params.checkpoint)
        return StageResult(outputs, [artifacts.describe(final)])


KIND = Kind(
    name="export", doc="swift export --merge_lora: a LoRA checkpoint merged into a model", config=ExportConfig,
    stage=ExportStage, produces=MODEL, slots=_slots, swift_args=True, key_outputs=("model_dir",),
    reserved={
        "adapters": "use checkpoint",
        "merge_lora": "the export stage always merges",
        "output_dir": "swiftpipe writes next to the checkpoint",
    },
)


def _incomplete(merged: Path) -> str | None:
    for name in MERGED_FILES:
        if not (merged / name).is_file():
            return f"no {name}"
    if not any((merged / name).is_file() for name in WEIGHTS):
        return "no weights file"
    return None


def _clear_leftovers(ctx: StageContext, partial: Path, final: Path) -> None:
    if partial.exists():
        console.notice(f"removing {partial.name}, left by an earlier export that did not finish")
        shutil.rmtree(partial)
    if final.exists():
        # Ours or not, a folder we are about to replace is kept, not deleted.
        aside = fsio.move_aside(final)
        assert aside is not None
        console.notice(f"moved existing {final.name} aside to {aside.name}; it is not reused")
