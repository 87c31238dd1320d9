"""`swiftpipe plan`: show what `run` would do, per stage, without writing anything."""

from __future__ import annotations

from pathlib import Path

import click

from swiftpipe.argv import mask_argv, mask_env, shell_line
from swiftpipe.config.load import load_pipeline
from swiftpipe.engine.manifest import Manifest, load_manifest
from swiftpipe.engine.runner import Decision, Selection, decide, select
from swiftpipe.engine.stage import StageContext
from swiftpipe.kinds import configured


def plan(pipeline: Path, *, overrides: list[str], selection: Selection) -> int:
    loaded = load_pipeline(pipeline, overrides)
    names = select(configured(loaded.config), selection)
    manifest = load_manifest(loaded.workdir) or Manifest(str(loaded.source), str(loaded.workdir))
    decisions = decide(StageContext(loaded, manifest), names, selection)
    click.echo(f"pipeline {loaded.config.name}: workdir {loaded.workdir}")
    for decision in decisions:
        click.echo(_describe(decision))
    return 0


def _describe(d: Decision) -> str:
    verdict = "run" if d.run else "skip"
    lines = [f"\n{d.name}: {verdict} ({d.reason})"]
    lines += [f"  {note}" for note in d.plan.notes]
    lines.append("  $ " + shell_line(mask_argv([str(a) for a in d.plan.argv])))
    env = mask_env(d.plan.env)
    lines += [f"  env {k}={v}" for k, v in sorted(env.items()) if k != "PATH"]
    return "\n".join(lines)
