"""`swiftpipe run`: run the selected stages, skipping those that are up to date."""

from __future__ import annotations

import shlex
from pathlib import Path

from swiftpipe import console
from swiftpipe.config.load import load_pipeline
from swiftpipe.config.schema import LoadedPipeline
from swiftpipe.engine.lock import workdir_lock
from swiftpipe.engine.manifest import Manifest, load_manifest, save_manifest
from swiftpipe.engine.runner import Selection, execute, select
from swiftpipe.engine.stage import RunOptions, StageContext
from swiftpipe.kinds import configured, get_stage
from swiftpipe.versions import git_state, tool_versions


def run(pipeline: Path, *, overrides: list[str], selection: Selection, keep_serving: bool) -> int:
    loaded = load_pipeline(pipeline, overrides)
    all_names = configured(loaded.config)
    names = select(all_names, selection)
    with workdir_lock(loaded.workdir):
        manifest = open_manifest(loaded, all_names)
        options = RunOptions(keep_serving=keep_serving or names[-1] == "deploy")
        ctx = StageContext(loaded, manifest, options)
        ctx.on_output = lambda stage, key, value: _persist_output(ctx, stage, key, value)
        try:
            execute(ctx, names, selection, resume_hint(loaded))
        finally:
            for name in all_names:
                get_stage(name).close(ctx)
            _write_report(ctx)
    console.success(f"done; manifest: {loaded.workdir / 'manifest.json'}")
    return 0


def open_manifest(loaded: LoadedPipeline, names: list[str]) -> Manifest:
    manifest = load_manifest(loaded.workdir) or Manifest(
        pipeline=str(loaded.source), workdir=str(loaded.workdir)
    )
    manifest.tool_versions = tool_versions()
    manifest.git_commit, manifest.git_dirty = git_state(loaded.base_dir)
    for name in names:
        manifest.stage(name)
    save_manifest(manifest, loaded.workdir)
    return manifest


def _persist_output(ctx: StageContext, stage: str, key: str, value: object) -> None:
    ctx.manifest.stage(stage).outputs[key] = value
    save_manifest(ctx.manifest, ctx.workdir)


def _write_report(ctx: StageContext) -> None:
    # A run that skipped everything leaves an existing report as it is (and stays fast).
    if not ctx.fresh and (ctx.workdir / "report" / "index.html").is_file():
        return
    from swiftpipe.report import write_report

    path = write_report(ctx.pipeline, ctx.manifest)
    console.info(f"report: {path}")


def resume_hint(loaded: LoadedPipeline) -> str:
    """The command that repeats this run's configuration (stage flags are appended)."""
    parts = ["swiftpipe", "run", loaded.display_name]
    for override in loaded.overrides:
        parts += ["--set", override]
    return " ".join(shlex.quote(p) for p in parts)
