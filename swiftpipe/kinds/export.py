"""The export stage: `swift export --merge_lora true` on the chosen checkpoint.

swift writes into `<dir>.partial`; only a merge that finished and holds a config,
weights and args.json is renamed to `<checkpoint>-merged`. A leftover `-merged`
folder that the manifest does not vouch for is moved aside, never reused:
`swift export --exist_ok` would silently keep a half-written one.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import ClassVar

from swiftpipe import console, process
from swiftpipe.argv import flags
from swiftpipe.config.schema import ExportConfig
from swiftpipe.engine import artifacts
from swiftpipe.engine.fingerprint import dir_digest
from swiftpipe.engine.manifest import StageRecord
from swiftpipe.engine.stage import Pending, StageContext, StagePlan, StageResult
from swiftpipe.errors import StageFailed
from swiftpipe.kinds.common import stage_versions, swift_program
from swiftpipe.msswift import checkpoints

MERGED_FILES = ("config.json", "args.json")
WEIGHTS = ("model.safetensors", "model.safetensors.index.json")


class ExportStage:
    name: ClassVar[str] = "export"
    ephemeral: ClassVar[bool] = False

    def _cfg(self, ctx: StageContext) -> ExportConfig:
        assert ctx.config.stages.export is not None
        return ctx.config.stages.export

    def plan(self, ctx: StageContext) -> StagePlan:
        cfg = self._cfg(ctx)
        env = ctx.env(cfg.env, cfg.venv)
        ckpt, notes = self._checkpoint(ctx, cfg)
        merged = Pending(f"{ckpt}-merged") if isinstance(ckpt, Pending) else f"{ckpt}-merged"
        argv = [swift_program(ctx, env, "stages.export", cfg.args), "export", "--adapters", ckpt,
                "--merge_lora", "true", "--output_dir", merged + ".partial", *flags(cfg.args)]
        if isinstance(ckpt, Pending):
            return StagePlan(argv, env, {}, ready=False, notes=notes)
        inputs = {
            "argv": argv[1:],
            "checkpoint": dir_digest(Path(ckpt)),
            "versions": stage_versions(),
        }
        notes.append(f"checkpoint: {ckpt} ({cfg.checkpoint})")
        return StagePlan(argv, env, inputs, notes=notes)

    def _checkpoint(self, ctx: StageContext, cfg: ExportConfig) -> tuple[str, list[str]]:
        if cfg.checkpoint not in ("last", "best"):
            ckpt, notices = checkpoints.resolve(cfg.checkpoint, Path("."), base_dir=ctx.pipeline.base_dir)
            return str(ckpt.path), notices
        run_dir = ctx.output("sft", "run_dir")
        if isinstance(run_dir, Pending):
            return Pending(f"{run_dir}/checkpoint-<{cfg.checkpoint}>"), []
        ckpt, notices = checkpoints.resolve(cfg.checkpoint, Path(run_dir), base_dir=ctx.pipeline.base_dir)
        return str(ckpt.path), notices

    def run(self, ctx: StageContext, plan: StagePlan) -> StageResult:
        for note in plan.notes:
            console.info(note)
        partial = Path(plan.argv[plan.argv.index("--output_dir") + 1])
        final = partial.with_name(partial.name.removesuffix(".partial"))
        _clear_leftovers(ctx, partial, final)
        rc = process.run(plan.argv, env=process.child_env(plan.env),
                         log_path=ctx.log_path(self.name), echo=ctx.options.echo)
        if rc != 0:
            raise StageFailed(f"swift export exited with code {rc}", rc)
        problem = _incomplete(partial)
        if problem:
            raise StageFailed(f"swift export exited 0 but {partial} is incomplete: {problem}")
        os.replace(partial, final)
        checkpoint = plan.argv[plan.argv.index("--adapters") + 1]
        outputs = {"merged_dir": str(final), "checkpoint": checkpoint}
        return StageResult(outputs, [artifacts.describe(final)])

    def stale(self, ctx: StageContext, record: StageRecord) -> str | None:
        return artifacts.stale_reason(record.artifacts)

    def close(self, ctx: StageContext) -> None:
        return None


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
        aside = final.with_name(f"{final.name}.stale-{time.strftime('%Y%m%d-%H%M%S')}")
        console.notice(f"moving existing {final.name} aside to {aside.name}; it is not reused")
        os.replace(final, aside)
