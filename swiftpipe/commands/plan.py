"""`swiftpipe plan`: the stage graph and what `run` would do per stage, without writing anything."""

from __future__ import annotations

from pathlib import Path

import click

from swiftpipe.core.argv import mask_argv, mask_env, shell_line
from swiftpipe.engine.decide import Decision
from swiftpipe.engine.graph import Graph
from swiftpipe.engine.lock import check_workdir
from swiftpipe.engine.manifest import Manifest, load_manifest
from swiftpipe.engine.recover import recover_for_plan
from swiftpipe.engine.runner import Runner
from swiftpipe.engine.select import Selection, select
from swiftpipe.loading import load_pipeline
from swiftpipe.sweep.expand import summary


def plan(pipeline: Path, *, overrides: list[str], selection: Selection, sweeps: list[str] | None = None) -> int:
    loaded = load_pipeline(pipeline, overrides, sweeps=sweeps)
    names = select(loaded.graph, selection)
    check_workdir(loaded.workdir, f"{loaded.display_name} › workdir")
    manifest = load_manifest(loaded.workdir) or Manifest(str(loaded.source), str(loaded.workdir))
    recover_for_plan(manifest, loaded.workdir)  # in memory only: plan writes nothing
    decisions = Runner(loaded, manifest).preflight(names, selection)
    click.echo(f"pipeline {loaded.config.name}: workdir {loaded.workdir}")
    click.echo(graph_lines(loaded.graph))
    for line in summary(loaded.config, loaded.graph):
        click.echo(line)
    for decision in decisions:
        click.echo(_describe(loaded.graph, decision))
    return 0


def graph_lines(graph: Graph) -> str:
    """One line per stage: `name (kind) <- upstream, ...`, marking the stages swiftpipe added."""
    lines = ["\ngraph:"]
    for node in graph:
        reads = ", ".join(node.upstream.values())
        added = f"  [added: {node.implied}]" if node.implied else ""
        lines.append(f"  {node.name} ({node.kind})" + (f" <- {reads}" if reads else "") + added)
    return "\n".join(lines)


def _describe(graph: Graph, d: Decision) -> str:
    verdict = "wait" if d.waits else "run" if d.run else "skip"
    lines = [f"\n{d.name}: {verdict} ({d.reason})"]
    lines += [f"  {note}" for note in d.plan.notes]
    if d.plan.argv:  # a stage that runs no command (select) has none to show
        lines.append("  $ " + shell_line(mask_argv([str(a) for a in d.plan.argv])))
    env = mask_env(d.plan.env)
    lines += [f"  env {k}={v}" for k, v in sorted(env.items()) if k != "PATH"]
    return "\n".join(lines)
