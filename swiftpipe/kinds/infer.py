"""The infer kind: batch inference with `swift infer` over a dataset; the answers are kept.

It reads a model (an export, or a training stage whose LoRA checkpoint swiftpipe merges
first) and a dataset: the validation split of a data stage (its train split when it has
none) or files under `dataset`. swift writes one JSON line per input row to
<workdir>/<stage>/results.jsonl; the manifest and the report show the row count and a
sample. swift appends to an existing results file, so an earlier one is moved aside.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from swiftpipe.config.schema import doc
from swiftpipe.core import console, fsio
from swiftpipe.core.argv import flags
from swiftpipe.core.errors import StageFailed, UserError
from swiftpipe.engine import artifacts
from swiftpipe.engine.fingerprint import file_digest
from swiftpipe.engine.kind import ANSWERS, CHECKPOINT, DATA, MODEL, Kind, Slot
from swiftpipe.engine.outputs import Answers, DataSplits, Pending
from swiftpipe.engine.stage import FileStage, StageContext, StagePlan, StageResult
from swiftpipe.kinds.common import model_args, model_source, stage_versions
from swiftpipe.kinds.swiftcall import SwiftConfig, prepare, run_swift

SAMPLE_ROWS = 3


@dataclass(frozen=True)
class InferConfig(SwiftConfig):
    dataset: list[str] = field(default_factory=list, metadata=doc("files to answer, instead of a data stage's"))
    split: Literal["val", "train"] = field(default="val", metadata=doc("which split of the data stage to answer"))
    backend: Literal["transformers", "vllm", "lmdeploy", "sglang"] = field(
        default="transformers", metadata=doc("swift infer --infer_backend")
    )
    max_new_tokens: int = field(default=256, metadata=doc("longest answer, in tokens", at_least=1))
    temperature: float = field(default=0.0, metadata=doc("0 answers greedily (reproducible)", at_least=0))


@dataclass(frozen=True)
class InferParams:
    results: Path
    inputs: list[str]


def _slots(cfg: InferConfig) -> tuple[Slot, ...]:
    return (
        Slot("model", (CHECKPOINT, MODEL), merge=True),
        Slot("data", (DATA,), required=not cfg.dataset, missing="nothing to answer: add a data stage before it "
             "(or name one with from:) or list files under dataset"),
    )


class InferStage(FileStage):
    def plan(self, ctx: StageContext[InferConfig]) -> StagePlan[InferParams]:
        cfg = ctx.cfg
        call = prepare(ctx, cfg)
        env = call.env
        model, model_id = model_source(ctx)
        data = self._datasets(ctx, cfg)
        results = ctx.stage_dir / "results.jsonl"
        argv = [call.swift, "infer", *model_args(ctx, model), "--val_dataset", *data,
                "--result_path", str(results), "--infer_backend", cfg.backend,
                "--max_new_tokens", str(cfg.max_new_tokens), "--temperature", str(cfg.temperature),
                *flags(call.args)]
        params = InferParams(results, [str(d) for d in data])
        if isinstance(model_id, Pending) or any(isinstance(d, Pending) for d in data):
            return StagePlan(argv, env, {}, ready=False, params=params)
        inputs = {"argv": argv[1:], "model": model_id, "data": {d: file_digest(Path(d)) for d in data},
                  "versions": stage_versions()}
        return StagePlan(argv, env, inputs, notes=[f"answers {', '.join(map(str, data))}"], params=params)

    def _datasets(self, ctx: StageContext[InferConfig], cfg: InferConfig) -> list[str]:
        files = [str(ctx.pipeline.path(p)) for p in cfg.dataset]
        for i, path in enumerate(files):
            if not Path(path).is_file():
                raise UserError(f"{ctx.where}.dataset[{i}]: {path}: no such file")
        data, splits = ctx.upstream("data"), ctx.input("data", DataSplits)
        if data is None or splits is None:
            return files
        val = cfg.split == "val" and data.config.val_ratio > 0
        chosen = splits.val if val else splits.train
        assert chosen is not None  # a data stage with val_ratio > 0 writes a val split
        return [chosen, *files]

    def run(self, ctx: StageContext[InferConfig], plan: StagePlan[InferParams]) -> StageResult:
        params = plan.params
        aside = fsio.move_aside(params.results, keep_suffix=True)
        if aside is not None:
            console.notice(f"moved the earlier {params.results.name} aside to {aside.name}")
        run_swift(ctx, plan, "infer")
        answers = _read(params.results)
        expected = sum(_count_rows(Path(p)) for p in params.inputs)
        if "val_dataset_sample" not in ctx.cfg.args and len(answers) != expected:
            raise StageFailed(f"swift infer wrote {len(answers)} answers for {expected} input rows ({params.results})")
        sample = [_sample(a) for a in answers[:SAMPLE_ROWS]]
        outputs = Answers(results=str(params.results), rows=len(answers), sample=sample)
        return StageResult(outputs, [artifacts.describe(params.results)], {"rows": len(answers)})


def _read(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        raise StageFailed(f"swift infer exited 0 but wrote no {path}") from None
    rows = []
    for line in lines:
        if line.strip():
            row = json.loads(line)
            rows.append(row if isinstance(row, dict) else {})
    return rows


def _count_rows(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(1 for line in fh if line.strip())


def _sample(answer: dict[str, Any]) -> dict[str, str]:
    messages = answer.get("messages") or []
    users = [m.get("content") for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    return {"query": str(users[-1]) if users else "", "response": str(answer.get("response", ""))}


KIND = Kind(
    name="infer", doc="swift infer: batch answers over a dataset, kept as JSONL", config=InferConfig,
    stage=InferStage, produces=ANSWERS, slots=_slots, swift_args=True, key_outputs=("results",),
    reserved={
        "model": "infer reads the model of the stage it comes from",
        "val_dataset": "read a data stage (from:) or list files under dataset",
        "result_path": "swiftpipe writes <workdir>/<stage>/results.jsonl",
        "infer_backend": "use backend",
        "max_new_tokens": "use max_new_tokens",
        "temperature": "use temperature",
    },
)
