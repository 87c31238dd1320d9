"""The data kind: convert the configured sources into `<workdir>/<stage>/train.jsonl`.

`plan` resolves every setting into one typed `ConvertOptions` (swiftpipe/data/options.py):
each source (absolute path, format, limit), the split, dedupe, system prompt, max_length,
tokenizer and exact-length settings, the output paths and the result file's path. `run` writes
it to `<stage>/options.json` and runs `python -m swiftpipe.data <stage>/options.json` through
the launcher, so the command `swiftpipe plan` shows (with the file's content as a note) is
exactly what runs. The child writes one result file, `<stage>/result.json`: outputs and
metrics come from it, and so does a failure's message (too many rejects, a user error such as
an undetectable format); a child that dies without writing it fails the stage with its exit
code (the runner shows the log's tail). The top-level `data:` section is a data stage named
data. Outputs for training stages are absolute paths: `train`, `val` (None without a split),
`rejects`, `report`.

Token lengths are counted with the base model's `tokenizer.json` when `model` is a local
directory that has one; `max_length` defaults to `args.max_length` of the first training
stage that reads it. With a max_length and a model ms-swift can load (it has config.json), the
lengths are ms-swift's own (exact, with the pipeline's template and model_type). The
fingerprint covers every source's sha256 (size+mtime above the hashing limit), the whole
`data` section, the options file's content (resolved max_length included), the tokenizer's
digest and the converter's version.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from swiftpipe.config.schema import DataFormat, doc
from swiftpipe.core import process
from swiftpipe.core.errors import StageFailed, UserError
from swiftpipe.data.modality import is_multimodal
from swiftpipe.data.options import ConvertOptions, Source, plain, read_outcome, write_options
from swiftpipe.data.reading.read import MAX_ROW_BYTES
from swiftpipe.data.rows.row import Settings
from swiftpipe.engine import artifacts
from swiftpipe.engine.fingerprint import file_digest
from swiftpipe.engine.kind import DATA, Kind
from swiftpipe.engine.outputs import DataSplits
from swiftpipe.engine.stage import FileStage, StageContext, StagePlan, StageResult

# Bump when the converter's output for the same input changes, so old outputs are redone.
CONVERTER_VERSION = 2  # 2: exact lengths; the estimate counts qwen3's think block on tool calls


@dataclass(frozen=True)
class DataSource:
    path: str = field(
        metadata=doc("dataset file (.jsonl, .json, .csv, optionally .gz), relative to pipeline.yaml", nonempty=True)
    )
    format: DataFormat = field(default="auto", metadata=doc("input format; auto-detected per file"))
    limit: int | None = field(default=None, metadata=doc("use only the first N rows", at_least=1))


@dataclass(frozen=True)
class DataConfig:
    sources: list[DataSource] = field(metadata=doc("input files to convert", nonempty=True))
    val_ratio: float = field(
        default=0.0, metadata=doc("share of rows for the validation split", at_least=0, below=1)
    )
    seed: int = field(default=42, metadata=doc("seed of the deterministic split"))
    dedupe: bool = field(default=True, metadata=doc("reject exact duplicate conversations"))
    system: str | None = field(default=None, metadata=doc("system prompt for rows without one"))
    max_reject_ratio: float = field(
        default=0.05, metadata=doc("fail when a larger share of rows is rejected", at_least=0, at_most=1)
    )
    max_length: int | None = field(
        default=None,
        metadata=doc("token limit; defaults to args.max_length of the training stage reading it", at_least=1),
    )
    purpose: Literal["sft", "rlhf"] | None = field(
        default=None,
        metadata=doc("sft rejects preference/KTO rows, rlhf keeps only them; default: from the stages reading it"),
    )
    multimodal: bool | None = field(
        default=None, metadata=doc("keep images/audios/videos; default: whether the model takes them (config.json)")
    )
    strict: bool = field(default=False, metadata=doc("reject rows holding a {{placeholder}} instead of counting them"))
    system_template: str | None = field(
        default=None, metadata=doc("system line from row fields, e.g. 'reasoning language: {reasoning_language}'")
    )
    max_row_bytes: int | None = field(
        default=None,
        metadata=doc("reject a JSON Lines row longer than this many bytes unread; default 64 MiB", at_least=1),
    )
    media_root: str | None = field(
        default=None,
        metadata=doc("folder that image/audio/video paths must lie in, relative to pipeline.yaml; "
                     "default: each source file's own folder (rows naming files elsewhere are rejected)",
                     nonempty=True),
    )


@dataclass(frozen=True)
class DataParams:
    """The options file the child is handed (`file`) and what it holds."""

    file: Path
    options: ConvertOptions


class DataStage(FileStage):
    def plan(self, ctx: StageContext) -> StagePlan:
        cfg: DataConfig = ctx.cfg
        options = self._options(ctx, cfg)
        file = ctx.stage_dir / "options.json"
        shown = plain(options)
        settings = options.settings
        notes = [f"{len(options.sources)} source(s) -> {options.train} (for {settings.purpose})"]
        if not settings.multimodal:
            notes.append("the model takes text only: rows with images/audios/videos are rejected")
        if settings.tokenizer is None:
            notes.append("no local tokenizer.json: rows are not checked against max_length")
        notes.append(f"{file.name}: {json.dumps(shown, ensure_ascii=False)}")
        inputs = {
            "sources": {str(s.path): file_digest(s.path) for s in options.sources},
            "config": asdict(cfg),
            "options": shown,
            "tokenizer": file_digest(settings.tokenizer / "tokenizer.json") if settings.tokenizer else None,
            "converter": CONVERTER_VERSION,
        }
        argv = [sys.executable, "-m", "swiftpipe.data", str(file)]
        return StagePlan(argv, ctx.env({}, None), inputs, notes=notes, params=DataParams(file, options))

    def run(self, ctx: StageContext, plan: StagePlan) -> StageResult:
        params: DataParams = plan.params
        result = params.options.result
        assert result is not None
        write_options(params.file, params.options)
        result.unlink(missing_ok=True)  # an earlier run's result must not pass for this one's
        rc = ctx.launcher.run(plan.argv, process.child_env(plan.env), ctx.log_path(), echo=ctx.options.echo)
        outcome = read_outcome(result)
        if outcome is None:
            raise StageFailed(f"python -m swiftpipe.data exited with code {rc} and wrote no {result}", rc)
        if outcome.failure is not None and outcome.failure.kind == "user":
            raise UserError(outcome.failure.message)
        if outcome.failure is not None:
            raise StageFailed(outcome.failure.message, rc)
        if rc != 0:
            raise StageFailed(f"python -m swiftpipe.data wrote {result} but exited with code {rc}", rc)
        splits = DataSplits.from_dict(outcome.outputs)
        found = [artifacts.describe(Path(p)) for p in (splits.train, splits.val) if p is not None]
        return StageResult(splits, found, dict(outcome.metrics))

    def _options(self, ctx: StageContext, cfg: DataConfig) -> ConvertOptions:
        """Every setting of the conversion, resolved: what the options file holds."""
        paths = self._sources(ctx, cfg)
        out = ctx.stage_dir
        return ConvertOptions(
            sources=tuple(Source(path, s.format, s.limit) for path, s in zip(paths, cfg.sources, strict=True)),
            train=out / "train.jsonl",
            val=out / "val.jsonl" if cfg.val_ratio > 0 else None,
            rejects=out / "rejects.jsonl",
            report=out / "report.json",
            settings=self._settings(ctx, cfg),
            max_reject_ratio=cfg.max_reject_ratio,
            result=out / "result.json",
        )

    def _settings(self, ctx: StageContext, cfg: DataConfig) -> Settings:
        tokenizer = self._tokenizer(ctx)
        max_length = self._max_length(ctx, cfg) if tokenizer is not None else None
        # Lengths from ms-swift's own template when there is a limit and a model it can load.
        exact = tokenizer is not None and max_length is not None and (tokenizer / "config.json").is_file()
        return Settings(
            system=cfg.system,
            dedupe=cfg.dedupe,
            val_ratio=cfg.val_ratio,
            seed=cfg.seed,
            tokenizer=tokenizer,
            max_length=max_length,
            purpose=self._purpose(ctx, cfg),
            multimodal=self._multimodal(ctx, cfg),
            strict=cfg.strict,
            system_template=cfg.system_template,
            exact=exact,
            template=ctx.config.template if exact else None,
            model_type=ctx.config.model_type if exact else None,
            media_root=self._media_root(ctx, cfg),
            max_row_bytes=MAX_ROW_BYTES if cfg.max_row_bytes is None else cfg.max_row_bytes,
        )

    def _sources(self, ctx: StageContext, cfg: DataConfig) -> list[Path]:
        paths = [ctx.pipeline.path(s.path) for s in cfg.sources]
        for i, path in enumerate(paths):
            if not path.is_file():
                raise UserError(f"{ctx.where}.sources[{i}].path: {path}: no such file; check the path")
        return paths

    def _media_root(self, ctx: StageContext, cfg: DataConfig) -> Path | None:
        if cfg.media_root is None:
            return None
        path = ctx.pipeline.path(cfg.media_root)
        if not path.is_dir():
            raise UserError(f"{ctx.where}.media_root: {path}: no such directory; check the path")
        return path

    def _tokenizer(self, ctx: StageContext) -> Path | None:
        model = ctx.pipeline.path(ctx.config.model)
        return model if (model / "tokenizer.json").is_file() else None

    def _purpose(self, ctx: StageContext, cfg: DataConfig) -> str:
        """rlhf when an rlhf stage reads this one, else sft; stages needing both are refused."""
        if cfg.purpose is not None:
            return cfg.purpose
        graph = ctx.pipeline.graph
        kinds = {reader: graph[reader].kind for reader in graph.dependents(ctx.name)}
        rlhf = [name for name, kind in kinds.items() if kind == "rlhf"]
        other = [name for name, kind in kinds.items() if kind in ("sft", "pt")]
        if rlhf and other:
            raise UserError(
                f"{ctx.where}: read by rlhf stage '{rlhf[0]}' and {kinds[other[0]]} stage '{other[0]}', which need "
                "different rows (preference pairs vs conversations), use one data stage for each"
            )
        return "rlhf" if rlhf else "sft"

    def _multimodal(self, ctx: StageContext, cfg: DataConfig) -> bool:
        if cfg.multimodal is not None:
            return cfg.multimodal
        return is_multimodal(ctx.pipeline.path(ctx.config.model)) is not False

    def _max_length(self, ctx: StageContext, cfg: DataConfig) -> int | None:
        if cfg.max_length is not None:
            return cfg.max_length
        graph = ctx.pipeline.graph
        for reader in graph.dependents(ctx.name):
            value = getattr(graph[reader].config, "args", {}).get("max_length")
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        return None


KIND = Kind(
    name="data", doc="convert datasets to ms-swift JSONL", config=DataConfig, stage=DataStage, produces=DATA,
    key_outputs=("train",),
)
