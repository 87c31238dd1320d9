"""`swiftpipe run`: run the selected stages, skipping those that are up to date."""

from __future__ import annotations

import shlex
import time
from pathlib import Path

from swiftpipe.core import console
from swiftpipe.core.errors import UserError
from swiftpipe.core.versions import git_state, tool_versions
from swiftpipe.engine.executor import Executor, RunRequest
from swiftpipe.engine.experiments import announcing, attempt_counts, check_name, new_id, record_experiment
from swiftpipe.engine.lock import Owner, workdir_lock
from swiftpipe.engine.manifest import Manifest, load_manifest, save_manifest
from swiftpipe.engine.pipeline import LoadedPipeline
from swiftpipe.engine.recover import mark_died
from swiftpipe.engine.select import Selection, select
from swiftpipe.engine.stage import RunOptions
from swiftpipe.loading import executor_kind, load_pipeline


def run(pipeline: Path, *, overrides: list[str], selection: Selection, keep_serving: bool,
        detach: bool = False, job: str | None = None, name: str | None = None, sweeps: list[str] | None = None) -> int:
    check_name(name)
    loaded = load_pipeline(pipeline, overrides, sweeps=sweeps)
    executor = executor_kind(loaded).make()
    if job is not None:  # inside a job the executor started; the submitting run holds the lock
        executor.run_part(loaded, job.split(","), resume_hint(loaded))
        return 0
    names = select(loaded.graph, selection)
    with workdir_lock(loaded.workdir, f"{loaded.display_name} › workdir") as previous:
        manifest = open_manifest(loaded, executor, previous)
        request = RunRequest(loaded, manifest, names, selection, RunOptions(keep_serving=keep_serving),
                             resume_hint(loaded), detach)
        ran = True  # a run that stopped part-way has changed something
        before, started, completed = attempt_counts(manifest), time.time(), False
        exp_id = new_id(started)
        try:
            with announcing(exp_id, name):  # trackers label the stages' runs with it
                ran = executor.execute(request)
            completed = True
        finally:
            _record_experiment(loaded, manifest, before, started, completed, name, exp_id)
            _write_report(loaded, manifest, ran=ran)
    console.success(f"done; manifest: {loaded.workdir / 'manifest.json'}")
    return 0


def open_manifest(loaded: LoadedPipeline, executor: Executor, previous: Owner | None = None) -> Manifest:
    """The workdir's manifest (a new one the first time), with a record per stage in graph order.

    Called with the lock held: a record still `running` belongs to a run that died
    (`previous`, the owner it left in the lock file) and is marked interrupted, unless the
    executor still has it queued or running (a detached run's work lives on).
    """
    manifest = load_manifest(loaded.workdir) or Manifest(pipeline=str(loaded.source), workdir=str(loaded.workdir))
    _refuse_while_work_runs(manifest, loaded, executor)
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


def _record_experiment(loaded: LoadedPipeline, manifest: Manifest, before: dict[str, int], started: float,
                       completed: bool, name: str | None, exp_id: str) -> None:
    # Written whatever the outcome: a failed or interrupted run is an experiment too.
    experiment = record_experiment(loaded, manifest, before, started=started, completed=completed, name=name,
                                   exp_id=exp_id)
    if experiment is not None:
        listing = "swiftpipe exps list" + resume_hint(loaded).removeprefix("swiftpipe run")
        console.info(f"experiment: {experiment.id} ({listing})")


def _write_report(loaded: LoadedPipeline, manifest: Manifest, ran: bool) -> None:
    # A run that skipped everything leaves an existing report as it is (and stays fast).
    if not ran and (loaded.workdir / "report" / "index.html").is_file():
        return
    from swiftpipe.report import write_report

    path = write_report(loaded, manifest)
    console.info(f"report: {path}")


def _refuse_while_work_runs(manifest: Manifest, loaded: LoadedPipeline, executor: Executor) -> None:
    live = executor.live(manifest)
    if live:
        stage = next(iter(live))
        raise UserError(f"stage {stage} is still queued or running ({live[stage]}); wait for it "
                        f"(swiftpipe status {loaded.display_name}) or cancel it (swiftpipe stop {loaded.display_name})")


def resume_hint(loaded: LoadedPipeline) -> str:
    """The command that repeats this run's configuration (stage flags are appended)."""
    from swiftpipe.config import profiles

    parts = ["swiftpipe", "run", loaded.display_name]
    if profiles.selected():
        parts += ["--profile", str(profiles.selected())]
    for override in loaded.overrides:
        parts += ["--set", override]
    return " ".join(shlex.quote(p) for p in parts)
