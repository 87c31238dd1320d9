"""The data kind: convert the configured sources into `<workdir>/<stage>/train.jsonl`.

It runs `python -m swiftpipe convert` as a child, through the launcher, with every setting
on its command line (per-source `--format` and `--limit` in source order), so the command
`swiftpipe plan` shows is exactly the one that runs; the top-level `data:` section is a data
stage named data. Outputs for training stages are absolute paths: `train`, `val` (None
without a split), `rejects`, `report`; metrics come from the report the child writes.
Token lengths are counted with the base model's `tokenizer.json` when `model` is a local
directory that has one; `max_length` defaults to `args.max_length` of the first training
stage that reads it. With a max_length and a model ms-swift can load (it has config.json), the
lengths are ms-swift's own (`--exact`, with the pipeline's template and model_type). The
fingerprint covers every source's sha256 (size+mtime above the hashing limit), the whole
`data` section, the resolved max_length and the tokenizer's digest.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from swiftpipe.config.schema import DataFormat, doc
from swiftpipe.core import process
from swiftpipe.core.errors import StageFailed, UserError
from swiftpipe.engine import artifacts
from swiftpipe.engine.fingerprint import file_digest
from swiftpipe.engine.kind import DATA, Kind
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
    """The files the convert child writes, as its argv names them."""

    train: Path
    val: Path | None
    rejects: Path
    report: Path


class DataStage(FileStage):
    def plan(self, ctx: StageContext) -> StagePlan:
        cfg: DataConfig = ctx.cfg
        sources = self._sources(ctx, cfg)
        out = ctx.stage_dir
        tokenizer = self._tokenizer(ctx)
        max_length = self._max_length(ctx, cfg) if tokenizer is not None else None
        params = DataParams(
            train=out / "train.jsonl",
            val=out / "val.jsonl" if cfg.val_ratio > 0 else None,
            rejects=out / "rejects.jsonl",
            report=out / "report.json",
        )
        # Lengths from ms-swift's own template when there is a limit and a model it can load.
        exact = None
        if tokenizer is not None and max_length is not None and (tokenizer / "config.json").is_file():
            exact = (ctx.config.template, ctx.config.model_type)
        purpose, multimodal = self._purpose(ctx, cfg), self._multimodal(ctx, cfg)
        argv = convert_argv(cfg, sources, params, tokenizer, max_length, exact, purpose=purpose, multimodal=multimodal,
                            media_root=self._media_root(ctx, cfg))
        notes = [f"{len(sources)} source(s) -> {out}/train.jsonl (for {purpose})"]
        if not multimodal:
            notes.append("the model takes text only: rows with images/audios/videos are rejected")
        if tokenizer is None:
            notes.append("no local tokenizer.json: rows are not checked against max_length")
        inputs = {
            "sources": {str(p): file_digest(p) for p in sources},
            "config": asdict(cfg),
            "max_length": max_length,
            "tokenizer": file_digest(tokenizer / "tokenizer.json") if tokenizer else None,
            "converter": CONVERTER_VERSION,
        }
        return StagePlan(argv, ctx.env({}, None), inputs, notes=notes, params=params)

    def run(self, ctx: StageContext, plan: StagePlan) -> StageResult:
        params: DataParams = plan.params
        said: list[str] = []  # the child's own status and error lines, for the failure reason

        def on_line(line: str) -> None:
            if line.startswith(("==> ", "swiftpipe: ")):
                said.append(line)

        rc = ctx.launcher.run(plan.argv, process.child_env(plan.env), ctx.log_path(),
                              echo=ctx.options.echo, on_line=on_line)
        if rc != 0:
            _fail(ctx, rc, said)
        report = json.loads(params.report.read_text(encoding="utf-8"))
        outputs: dict[str, Any] = {
            "train": str(params.train),
            "val": str(params.val) if params.val else None,
            "rejects": str(params.rejects),
            "report": str(params.report),
        }
        found = [artifacts.describe(p) for p in (params.train, params.val) if p is not None]
        metrics = {k: report[k] for k in ("rows_in", "train", "val", "rejected")}
        return StageResult(outputs, found, metrics)

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
        from swiftpipe.data.modality import is_multimodal

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


def convert_argv(
    cfg: DataConfig,
    sources: list[Path],
    params: DataParams,
    tokenizer: Path | None,
    max_length: int | None,
    exact: tuple[str | None, str | None] | None = None,
    *,
    purpose: str = "sft",
    multimodal: bool = True,
    media_root: Path | None = None,
) -> list[str]:
    """The full `swiftpipe convert` command line for this stage: every setting spelled out.

    `exact`: (template, model_type) for lengths from ms-swift's template; None: the estimate."""
    argv = [sys.executable, "-m", "swiftpipe", "convert", *map(str, sources), "-o", str(params.train),
            "--rejects", str(params.rejects), "--report", str(params.report)]
    if params.val is not None:
        argv += ["--val-output", str(params.val)]
    # repr: the shortest text that reads back as the same float.
    argv += ["--val-ratio", repr(cfg.val_ratio), "--seed", str(cfg.seed)]
    if cfg.dedupe:
        argv.append("--dedupe")
    if cfg.system is not None:
        argv += ["--system", cfg.system]  # click takes the next token even when it starts with '-'
    argv += ["--max-reject-ratio", repr(cfg.max_reject_ratio)]
    argv += ["--purpose", purpose, "--multimodal" if multimodal else "--no-multimodal"]
    if cfg.strict:
        argv.append("--strict")
    if cfg.system_template is not None:
        argv += ["--system-template", cfg.system_template]
    if media_root is not None:
        argv += ["--media-root", str(media_root)]
    if cfg.max_row_bytes is not None:
        argv += ["--max-row-bytes", str(cfg.max_row_bytes)]
    if tokenizer is not None:
        argv += ["--tokenizer", str(tokenizer)]
        if max_length is not None:
            argv += ["--max-length", str(max_length)]
        if exact is not None:
            template, model_type = exact
            argv.append("--exact")
            argv += ["--template", template] if template else []
            argv += ["--model-type", model_type] if model_type else []
    for source in cfg.sources:
        argv += ["--format", source.format]
    for source in cfg.sources:
        argv += ["--limit", "all" if source.limit is None else str(source.limit)]
    return argv


def _fail(ctx: StageContext, rc: int, said: list[str]) -> None:
    """Raise what the convert child reported: its user error as ours, else StageFailed."""
    errors = [line.removeprefix("swiftpipe: error: ") for line in said if line.startswith("swiftpipe: error: ")]
    if rc == 2 and errors:
        raise UserError(errors[-1])
    failures = [line.removeprefix("==> ") for line in said if line.startswith("==> ")]
    if rc == 1 and failures:
        raise StageFailed(f"{ctx.name}: {failures[-1]}", rc)
    raise StageFailed(f"{ctx.name}: swiftpipe convert exited with code {rc}", rc)


KIND = Kind(
    name="data", doc="convert datasets to ms-swift JSONL", config=DataConfig, stage=DataStage, produces=DATA,
    key_outputs=("train",),
)
