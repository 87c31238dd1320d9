"""Find sft checkpoints: which exist, which are complete, which is last or best.

A checkpoint is complete only when `trainer_state.json` parses and its weights
exist: HF writes trainer_state.json last, so a crash mid-save leaves a folder
without it (or with a truncated one). `ls | sort -V | tail -1` would pick that
folder; this module skips it and says so.

A DeepSpeed (ZeRO) checkpoint has no optimizer.pt: its optimizer states are sharded per rank
under `global_step<N>/`, named by the `latest` file, which the resume reads (without it
transformers cannot resume). Such a folder is complete when `latest` names a `global_step`
folder holding optimizer states, beside trainer_state.json and the weights as usual. A ZeRO-3
save in which a rank that holds only its partitions writes the weights leaves them as empty
tensors in adapter_model.safetensors (seen with LoRA on a CPU before swiftpipe passed its plugin:
accelerate took every rank for the main one, msswift/plugins/deepspeed_cpu_world.py); such a
folder is incomplete too (loading it fails with `size mismatch ... torch.Size([0])`), wherever it
came from. The check reads only the safetensors header.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swiftpipe.core.errors import UserError

_STEP = re.compile(r"checkpoint-(\d+)$")
WEIGHT_FILES = ("adapter_model.safetensors", "adapter_model.bin", "model.safetensors",
                "model.safetensors.index.json", "pytorch_model.bin")


@dataclass(frozen=True)
class Checkpoint:
    path: Path
    step: int
    complete: bool
    problem: str | None = None  # why it is incomplete
    loss: float | None = None
    eval_loss: float | None = None
    zero: bool = False  # a DeepSpeed ZeRO checkpoint (global_step<N>/, no optimizer.pt)


def inspect(path: Path) -> Checkpoint:
    """Read one checkpoint folder; never raises for a broken one."""
    match = _STEP.search(path.name)
    step = int(match.group(1)) if match else -1
    state_path = path / "trainer_state.json"
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Checkpoint(path, step, False, "no trainer_state.json")
    except (OSError, ValueError):
        return Checkpoint(path, step, False, "trainer_state.json does not parse")
    if not any((path / name).is_file() for name in WEIGHT_FILES):
        return Checkpoint(path, step, False, "no weights file")
    zero = any(p.is_dir() for p in path.glob("global_step*"))
    problem = (_zero_problem(path) or _empty_tensors(path)) if zero else None
    if problem:
        return Checkpoint(path, step, False, problem, zero=True)
    loss, eval_loss = _losses(state)
    return Checkpoint(path, step, True, None, loss, eval_loss, zero)


def _empty_tensors(path: Path) -> str | None:
    """Name the empty tensors of `path`/adapter_model.safetensors (a ZeRO-3 save that did not gather)."""
    file = path / "adapter_model.safetensors"
    try:
        with file.open("rb") as f:
            size = int.from_bytes(f.read(8), "little")
            header = json.loads(f.read(size)) if 0 < size < 100_000_000 else {}
    except (OSError, ValueError):
        return None  # not there or not readable here: the weights check above decides
    empty = [k for k, v in header.items() if isinstance(v, dict) and 0 in v.get("shape", [1])]
    if empty:
        return f"ZeRO checkpoint: {len(empty)} empty tensor(s) in adapter_model.safetensors, e.g. {sorted(empty)[0]}"
    return None


def _zero_problem(path: Path) -> str | None:
    """Why a ZeRO checkpoint cannot be resumed from, or None."""
    try:
        tag = (path / "latest").read_text(encoding="utf-8").strip()
    except OSError:
        return "ZeRO checkpoint without its 'latest' file"
    if not tag or not (path / tag).is_dir():
        return f"ZeRO checkpoint: 'latest' names {tag or 'nothing'}, which is not there"
    if not any((path / tag).glob("*optim_states.pt")):
        return f"ZeRO checkpoint: {tag} holds no optimizer states"
    return None


def _losses(state: dict[str, Any]) -> tuple[float | None, float | None]:
    loss = eval_loss = None
    for entry in state.get("log_history", []):
        loss = entry.get("loss", loss)
        eval_loss = entry.get("eval_loss", eval_loss)
    return loss, eval_loss


def list_checkpoints(run_dir: Path) -> list[Checkpoint]:
    """All `checkpoint-N` folders of one run, oldest step first (numeric, not lexical)."""
    found = [inspect(p) for p in run_dir.glob("checkpoint-*") if p.is_dir() and _STEP.search(p.name)]
    return sorted(found, key=lambda c: c.step)


def run_dirs(output_dir: Path) -> list[Path]:
    """The `vN-*` run folders of an sft output dir, by N (or the dir itself if unversioned)."""
    versioned = [p for p in output_dir.glob("v*-*") if p.is_dir() and re.match(r"v\d+-", p.name)]
    if not versioned:
        return [output_dir] if output_dir.is_dir() else []
    return sorted(versioned, key=lambda p: int(p.name[1:].split("-", 1)[0]))


def last_complete(run_dir: Path) -> tuple[Checkpoint | None, list[Checkpoint]]:
    """The newest complete checkpoint, and the newer incomplete ones it skipped."""
    skipped: list[Checkpoint] = []
    for ckpt in reversed(list_checkpoints(run_dir)):
        if ckpt.complete:
            return ckpt, skipped
        skipped.append(ckpt)
    return None, skipped


def best_checkpoint(run_dir: Path) -> Path:
    """`best_model_checkpoint` from the summary line swift writes last in logging.jsonl."""
    summary = _summary_line(run_dir / "logging.jsonl")
    best = summary.get("best_model_checkpoint")
    if not best:
        raise UserError(
            f"{run_dir}: no best checkpoint (best_model_checkpoint is null); "
            "it needs evaluation during training: set data.val_ratio or stages.sft.val_dataset, "
            "or use checkpoint: last"
        )
    return Path(best)


def _summary_line(path: Path) -> dict[str, Any]:
    try:
        lines = path.read_text(encoding="utf-8").strip().splitlines()
    except FileNotFoundError:
        raise UserError(f"{path}: not found; the sft run did not finish") from None
    for line in reversed(lines):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and "last_model_checkpoint" in entry:
            return entry
    raise UserError(f"{path}: no final summary line; the sft run did not finish")


def resolve(choice: str, run_dir: Path, *, base_dir: Path) -> tuple[Checkpoint, list[str]]:
    """Resolve `last`, `best` or a path to a complete checkpoint, with notices to print."""
    notices: list[str] = []
    if choice == "last":
        ckpt, skipped = last_complete(run_dir)
        notices = [f"skipping {c.path.name}: {c.problem}" for c in skipped]
        if ckpt is None:
            raise UserError(f"{run_dir}: no complete checkpoint")
        return ckpt, notices
    path = best_checkpoint(run_dir) if choice == "best" else Path(choice)
    if not path.is_absolute():
        path = (base_dir / path).resolve()
    ckpt = inspect(path)
    if not path.is_dir():
        raise UserError(f"checkpoint {path}: no such directory")
    if not ckpt.complete:
        raise UserError(f"checkpoint {path}: incomplete ({ckpt.problem})")
    return ckpt, notices
