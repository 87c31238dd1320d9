"""`swiftpipe run`: run the selected stages, skipping those that are up to date."""

from __future__ import annotations

import shlex
from pathlib import Path

from swiftpipe import console
from swiftpipe.config.load import load_pipeline
from swiftpipe.config.schema import LoadedPipeline
from swiftpipe.engine.lock import workdir_lock
from swiftpipe.engine.manifest import Manifest, load_manifest, save_manifest
from swiftpipe.engine.runner import Runner
from swiftpipe.engine.select import Selection, select
from swiftpipe.engine.stage import RunOptions
from swiftpipe.versions import git_state, tool_versions


def run(pipeline: Path, *, overrides: list[str], selection: Selection, keep_serving: bool) -> int:
    loaded = load_pipeline(pipeline, overrides)
    names = select(loaded.graph, selection)
    with workdir_lock(loaded.workdir):
        manifest = open_manifest(loaded)
        runner = Runner(loaded, manifest, RunOptions(keep_serving=keep_serving))
        try:
            runner.execute(names, selection, resume_hint(loaded))
        finally:
            _write_report(loaded, manifest, ran=bool(runner.fresh))
    console.success(f"done; manifest: {loaded.workdir / 'manifest.json'}")
    return 0


def open_manifest(loaded: LoadedPipeline) -> Manifest:
    """The workdir's manifest (a new one the first time), with a record per stage in graph order."""
    manifest = load_manifest(loaded.workdir) or Manifest(pipeline=str(loaded.source), workdir=str(loaded.workdir))
    manifest.tool_versions = tool_versions()
    manifest.git_commit, manifest.git_dirty = git_state(loaded.base_dir)
    ordered = {}
    for node in loaded.graph:
        record = manifest.stage(node.name)
        record.kind, record.upstream = node.kind, dict(node.upstream)
        ordered[node.name] = record
    # Records of stages no longer in the file are kept (after the others): nothing is lost.
    manifest.stages = {**ordered, **{k: v for k, v in manifest.stages.items() if k not in ordered}}
    save_manifest(manifest, loaded.workdir)
    return manifest


def _write_report(loaded: LoadedPipeline, manifest: Manifest, ran: bool) -> None:
    # A run that skipped everything leaves an existing report as it is (and stays fast).
    if not ran and (loaded.workdir / "report" / "index.html").is_file():
        return
    from swiftpipe.report import write_report

    path = write_report(loaded, manifest)
    console.info(f"report: {path}")


def resume_hint(loaded: LoadedPipeline) -> str:
    """The command that repeats this run's configuration (stage flags are appended)."""
    parts = ["swiftpipe", "run", loaded.display_name]
    for override in loaded.overrides:
        parts += ["--set", override]
    return " ".join(shlex.quote(p) for p in parts)
