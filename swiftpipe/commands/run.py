"""`swiftpipe run`: run the selected stages, skipping those that are up to date."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

from swiftpipe.config.load import load_pipeline
from swiftpipe.config.schema import LoadedPipeline
from swiftpipe.core import console
from swiftpipe.core.errors import UserError
from swiftpipe.core.versions import git_state, tool_versions
from swiftpipe.engine.lock import Owner, workdir_lock
from swiftpipe.engine.manifest import Manifest, load_manifest, save_manifest
from swiftpipe.engine.recover import mark_died, mark_requeued
from swiftpipe.engine.runner import Runner
from swiftpipe.engine.select import Selection, select
from swiftpipe.engine.stage import RunOptions


def run(pipeline: Path, *, overrides: list[str], selection: Selection, keep_serving: bool,
        detach: bool = False, job: str | None = None) -> int:
    loaded = load_pipeline(pipeline, overrides)
    if job is not None:
        return run_job(loaded, job.split(","))
    names = select(loaded.graph, selection)
    with workdir_lock(loaded.workdir, f"{loaded.display_name} › workdir") as previous:
        manifest = open_manifest(loaded, previous)
        options = RunOptions(keep_serving=keep_serving)
        runner = Runner(loaded, manifest, options)
        try:
            if loaded.config.executor.type == "slurm":
                from swiftpipe.slurm import coordinator

                coordinator.execute(loaded, manifest, names, selection, options, resume_hint(loaded), detach)
            else:
                runner.execute(names, selection, resume_hint(loaded))
        finally:
            _write_report(loaded, manifest, ran=bool(runner.fresh) or loaded.config.executor.type == "slurm")
    console.success(f"done; manifest: {loaded.workdir / 'manifest.json'}")
    return 0


def open_manifest(loaded: LoadedPipeline, previous: Owner | None = None) -> Manifest:
    """The workdir's manifest (a new one the first time), with a record per stage in graph order.

    Called with the lock held: a record still `running` belongs to a run that died
    (`previous`, the owner it left in the lock file) and is marked interrupted.
    """
    manifest = load_manifest(loaded.workdir) or Manifest(pipeline=str(loaded.source), workdir=str(loaded.workdir))
    _refuse_while_jobs_run(manifest, loaded)
    mark_died(manifest, previous)
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


def _refuse_while_jobs_run(manifest: Manifest, loaded: LoadedPipeline) -> None:
    """A detached SLURM run's stages are `running` in jobs that live on: not a dead run's."""
    recorded = {r.job["id"]: name for name, r in manifest.stages.items() if r.job.get("id")}
    if not recorded or shutil.which("squeue") is None:
        return
    from swiftpipe.slurm import jobs

    live = jobs.active(recorded)
    if live:
        job_id = sorted(live)[0]
        raise UserError(f"stage {recorded[job_id]} is still queued or running in SLURM job {job_id}; wait for it "
                        f"(swiftpipe status {loaded.display_name}) or cancel it (swiftpipe stop {loaded.display_name})")


def run_job(loaded: LoadedPipeline, stages: list[str]) -> int:
    """Inside a SLURM job: run `stages` (with the servers they read) and write only their records.

    The submitting `swiftpipe run` holds the workdir lock and folds the records afterwards.
    """
    from swiftpipe.slurm.launcher import SrunLauncher

    chosen = {n for stage in stages for n in select(loaded.graph, Selection(only=stage))}
    names = [n for n in loaded.graph.names if n in chosen]
    manifest = load_manifest(loaded.workdir) or Manifest(pipeline=str(loaded.source), workdir=str(loaded.workdir))
    mark_requeued(manifest, stages)
    launchers = {n.name: SrunLauncher(n.resources.nodes) for n in loaded.graph
                 if n.name in stages and n.resources is not None and n.resources.nodes > 1}
    runner = Runner(loaded, manifest, RunOptions(), owned=set(stages), launchers=launchers)
    runner.execute(names, Selection(), resume_hint(loaded))
    return 0


def resume_hint(loaded: LoadedPipeline) -> str:
    """The command that repeats this run's configuration (stage flags are appended)."""
    from swiftpipe.config import profiles

    parts = ["swiftpipe", "run", loaded.display_name]
    if profiles.selected():
        parts += ["--profile", str(profiles.selected())]
    for override in loaded.overrides:
        parts += ["--set", override]
    return " ".join(shlex.quote(p) for p in parts)
