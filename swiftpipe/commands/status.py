"""`swiftpipe status`: the stages' state, durations and key outputs, as a table."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from swiftpipe.config.load import load_pipeline
from swiftpipe.engine.manifest import StageRecord, load_manifest
from swiftpipe.kinds import configured

KEY_OUTPUTS = ("train", "run_dir", "last_checkpoint", "merged_dir", "url")


def status(pipeline: Path, *, overrides: list[str]) -> int:
    loaded = load_pipeline(pipeline, overrides)
    manifest = load_manifest(loaded.workdir)
    if manifest is None:
        click.echo(f"nothing has run in {loaded.workdir} yet")
        return 0
    rows = [("stage", "status", "attempts", "duration", "output")]
    for name in configured(loaded.config):
        rows.append(_row(name, manifest.stages.get(name, StageRecord())))
    click.echo(_table(rows))
    click.echo(f"\nmanifest: {loaded.workdir / 'manifest.json'}  updated {manifest.updated}")
    return 0


def _row(name: str, record: StageRecord) -> tuple[str, str, str, str, str]:
    duration = f"{record.duration_s:.1f} s" if record.duration_s is not None else "-"
    return name, record.status, str(len(record.attempts)), duration, _key_output(record.outputs)


def _key_output(outputs: dict[str, Any]) -> str:
    primary = outputs.get("primary")
    if isinstance(primary, dict) and primary:
        return "; ".join(f"{name} {_score(p)}" for name, p in primary.items())
    for key in KEY_OUTPUTS:
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
