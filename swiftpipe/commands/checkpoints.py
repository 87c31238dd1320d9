"""`swiftpipe checkpoints DIR`: list checkpoints with step, losses and completeness."""

from __future__ import annotations

from pathlib import Path

import click

from swiftpipe.core.errors import UserError
from swiftpipe.msswift.checkpoints import Checkpoint, last_complete, list_checkpoints, run_dirs


def checkpoints(directory: Path) -> int:
    runs = _find_runs(directory)
    if not runs:
        raise UserError(f"{directory}: no sft run folders or checkpoints here")
    for run_dir in runs:
        click.echo(f"{run_dir}")
        found = list_checkpoints(run_dir)
        if not found:
            click.echo("  (no checkpoints)")
        last, _ = last_complete(run_dir)
        for ckpt in found:
            click.echo("  " + _line(ckpt, last))
    return 0


def _find_runs(directory: Path) -> list[Path]:
    if not directory.is_dir():
        raise UserError(f"{directory}: no such directory")
    if any(directory.glob("checkpoint-*")):
        return [directory]
    runs = [r for r in run_dirs(directory) if r != directory]
    if runs:
        return runs
    # A workdir: the run folders of each training stage's folder (sft/v0-..., dpo/v0-...).
    return [r for stage in sorted(p for p in directory.iterdir() if p.is_dir())
            for r in run_dirs(stage) if r != stage or any(r.glob("checkpoint-*"))]


def _fmt(value: float | None) -> str:
    return f"{value:.4f}" if value is not None else "-"


def _line(ckpt: Checkpoint, last: Checkpoint | None) -> str:
    state = "complete" if ckpt.complete else f"incomplete: {ckpt.problem}"
    mark = "  <- last" if last is not None and ckpt.path == last.path else ""
    return (f"{ckpt.path.name:<18} step {ckpt.step:>6}  loss {_fmt(ckpt.loss):>8}  "
            f"eval_loss {_fmt(ckpt.eval_loss):>8}  {state}{mark}")
