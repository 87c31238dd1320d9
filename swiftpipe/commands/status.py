"""`swiftpipe status`: the stages' state, durations and key outputs, as a table."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from swiftpipe.engine.graph import Graph, Node
from swiftpipe.engine.manifest import StageRecord, load_manifest
from swiftpipe.loading import executor_kind, load_pipeline


def status(pipeline: Path, *, overrides: list[str]) -> int:
    loaded = load_pipeline(pipeline, overrides)
    manifest = load_manifest(loaded.workdir)
    if manifest is None:
        click.echo(f"nothing has run in {loaded.workdir} yet")
        return 0
    rows: list[tuple[str, ...]] = [("stage", "kind", "status", "attempts", "duration", "output")]
    for node in loaded.graph:
        rows.append(_row(loaded.graph, node, manifest.stages.get(node.name, StageRecord())))
    jobs = executor_kind(loaded).make().describe(manifest)
    if jobs:
        rows = [(*row[:-1], jobs.get(row[0], "job" if i == 0 else "-"), row[-1]) for i, row in enumerate(rows)]
    click.echo(_table(rows))
    click.echo(f"\nmanifest: {loaded.workdir / 'manifest.json'}  updated {manifest.updated}")
    return 0


def _row(graph: Graph, node: Node, record: StageRecord) -> tuple[str, str, str, str, str, str]:
    duration = f"{record.duration_s:.1f} s" if record.duration_s is not None else "-"
    output = _key_output(record.outputs, graph.kind(node.name).key_outputs)
    return node.name, node.kind, str(record.status), str(len(record.attempts)), duration, output


def _key_output(outputs: dict[str, Any], keys: tuple[str, ...]) -> str:
    primary = outputs.get("primary")
    if "primary" in keys and isinstance(primary, dict) and primary:
        return "; ".join(f"{name} {_score(p)}" for name, p in primary.items())
    for key in keys:
        if outputs.get(key):
            return f"{key}: {outputs[key]}{_serving(outputs) if key == 'url' else ''}"
    return ""


def _serving(outputs: dict[str, Any]) -> str:
    running = outputs.get("running")
    return "" if running is None else (" (serving)" if running else " (stopped)")


def _score(primary: Any) -> str:
    if not isinstance(primary, dict) or primary.get("score") is None:
        return "no score"
    return f"{primary.get('metric')} {primary['score']:.3f}"


def _table(rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [c.ljust(w) for c, w in zip(row, widths, strict=False)] + [row[-1]]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
