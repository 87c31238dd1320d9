"""`swiftpipe report`: (re)write <workdir>/report/index.html and report.md from the manifest."""

from __future__ import annotations

from pathlib import Path

from swiftpipe.core import console
from swiftpipe.core.errors import UserError
from swiftpipe.engine.manifest import load_manifest
from swiftpipe.loading import load_pipeline


def report(pipeline: Path, *, overrides: list[str]) -> int:
    loaded = load_pipeline(pipeline, overrides)
    manifest = load_manifest(loaded.workdir)
    if manifest is None:
        raise UserError(f"{loaded.workdir}: nothing has run yet; run 'swiftpipe run {loaded.display_name}' first")
    from swiftpipe.report import write_report

    path = write_report(loaded, manifest)
    console.success(f"report: {path}")
    return 0
