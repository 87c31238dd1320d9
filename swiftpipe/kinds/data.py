"""The data stage: convert the configured sources into `<workdir>/data/train.jsonl`.

It runs in-process (no child): `swiftpipe.data.convert.run` with the pipeline's `data`
section. Outputs for sft are absolute paths: `train`, `val` (None without a split),
`rejects`, `report`. Token lengths are counted with the base model's `tokenizer.json` when
`model` is a local directory that has one; `max_length` defaults to `stages.sft.args.max_length`.
The fingerprint covers every source's sha256 (size+mtime above the hashing limit), the whole
`data` section, the resolved max_length and the tokenizer's digest.
"""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any, ClassVar

from swiftpipe.config.schema import DataConfig
from swiftpipe.engine import artifacts
from swiftpipe.engine.fingerprint import file_digest
from swiftpipe.engine.manifest import StageRecord
from swiftpipe.engine.stage import StageContext, StagePlan, StageResult
from swiftpipe.errors import StageFailed, UserError

# Bump when the converter's output for the same input changes, so old outputs are redone.
CONVERTER_VERSION = 1


class DataStage:
    name: ClassVar[str] = "data"
    ephemeral: ClassVar[bool] = False

    def _cfg(self, ctx: StageContext) -> DataConfig:
        assert ctx.config.data is not None
        return ctx.config.data

    def plan(self, ctx: StageContext) -> StagePlan:
        cfg = self._cfg(ctx)
        sources = self._sources(ctx, cfg)
        out = ctx.workdir / "data"
        tokenizer = self._tokenizer(ctx)
        max_length = self._max_length(ctx, cfg) if tokenizer is not None else None
        argv = [sys.executable, "-m", "swiftpipe", "convert", *map(str, sources), "-o", str(out / "train.jsonl")]
        notes = [f"{len(sources)} source(s) -> {out}/train.jsonl"]
        if tokenizer is None:
            notes.append("no local tokenizer.json: rows are not checked against max_length")
        inputs = {
            "sources": {str(p): file_digest(p) for p in sources},
            "config": asdict(cfg),
            "max_length": max_length,
            "tokenizer": file_digest(tokenizer / "tokenizer.json") if tokenizer else None,
            "converter": CONVERTER_VERSION,
        }
        return StagePlan(argv, {}, inputs, notes=notes)

    def run(self, ctx: StageContext, plan: StagePlan) -> StageResult:
        from swiftpipe.data.convert import ConvertOptions, run

        cfg = self._cfg(ctx)
        out = ctx.workdir / "data"
        options = ConvertOptions(
            inputs=tuple(self._sources(ctx, cfg)),
            train=out / "train.jsonl",
            val=out / "val.jsonl" if cfg.val_ratio > 0 else None,
            rejects=out / "rejects.jsonl",
            report=out / "report.json",
            formats=tuple(s.format for s in cfg.sources),
            limits=tuple(s.limit for s in cfg.sources),
            max_reject_ratio=cfg.max_reject_ratio,
            dedupe=cfg.dedupe,
            system=cfg.system,
            val_ratio=cfg.val_ratio,
            seed=cfg.seed,
            tokenizer=self._tokenizer(ctx) if plan.inputs["tokenizer"] else None,
            max_length=plan.inputs["max_length"],
        )
        result = run(options)
        if result.failure is not None:
            raise StageFailed(f"data: {result.failure}")
        outputs: dict[str, Any] = {
            "train": str(options.train),
            "val": str(options.val) if options.val else None,
            "rejects": str(options.rejects),
            "report": str(options.report),
        }
        found = [artifacts.describe(p) for p in (options.train, options.val) if p is not None]
        metrics = {k: result.report[k] for k in ("rows_in", "train", "val", "rejected")}
        return StageResult(outputs, found, metrics)

    def stale(self, ctx: StageContext, record: StageRecord) -> str | None:
        return artifacts.stale_reason(record.artifacts)

    def close(self, ctx: StageContext) -> None:
        return None

    def _sources(self, ctx: StageContext, cfg: DataConfig) -> list[Path]:
        paths = [ctx.pipeline.path(s.path) for s in cfg.sources]
        for i, path in enumerate(paths):
            if not path.is_file():
                raise UserError(f"data.sources[{i}].path: {path}: no such file; check the path")
        return paths

    def _tokenizer(self, ctx: StageContext) -> Path | None:
        model = ctx.pipeline.path(ctx.config.model)
        return model if (model / "tokenizer.json").is_file() else None

    def _max_length(self, ctx: StageContext, cfg: DataConfig) -> int | None:
        if cfg.max_length is not None:
            return cfg.max_length
        sft = ctx.config.stages.sft
        value = sft.args.get("max_length") if sft is not None else None
        return value if isinstance(value, int) and not isinstance(value, bool) else None
