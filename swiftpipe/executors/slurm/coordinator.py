"""`swiftpipe run` with `executor: slurm`: plan as always, submit what must run, wait, report.

Every stage that must run becomes an sbatch job (a server stage and the stages reading it
share one, since the server must live while they run), chained with afterok dependencies in
graph order; up-to-date stages submit nothing. Each job runs swiftpipe for its stages and
writes their records itself (engine/manifest.py records/); this process only streams the
logs, waits for squeue to forget the jobs, and folds the records into manifest.json. A failed
job makes SLURM cancel the jobs after it (--kill-on-invalid-dep=yes). Ctrl-C cancels ours.
"""

from __future__ import annotations

import time
from pathlib import Path

from swiftpipe.core import console
from swiftpipe.core.errors import StageFailed
from swiftpipe.core.fsio import atomic_write_text
from swiftpipe.engine.decide import Decision
from swiftpipe.engine.executor import RunRequest
from swiftpipe.engine.manifest import Manifest, fold_records, save_manifest
from swiftpipe.engine.pipeline import LoadedPipeline
from swiftpipe.engine.runner import Runner
from swiftpipe.executors.logs import follow
from swiftpipe.executors.slurm import jobs
from swiftpipe.executors.slurm.config import STAGE_KEY, SlurmResources
from swiftpipe.executors.slurm.script import Job, job_name, render


def plan_jobs(loaded: LoadedPipeline, decisions: list[Decision]) -> list[Job]:
    """The jobs for the stages that must run, in graph order."""
    graph = loaded.graph
    runs = [d.name for d in decisions if d.run]
    grouped: dict[str, list[str]] = {}
    taken: set[str] = set()
    for name in runs:
        if name in taken:
            continue
        if graph.kind(name).ephemeral:
            readers = [r for r in graph.dependents(name) if r in runs and r not in taken]
            if not readers:
                continue  # a server nothing that runs reads: not needed
            grouped[name] = [name, *readers]
            taken.update(grouped[name])
        else:
            grouped[name] = [name]
            taken.add(name)
    return [_job(loaded, first, stages) for first, stages in grouped.items()]


def nodes(loaded: LoadedPipeline, stage: str) -> int:
    """The machines a stage's `launch:` asks for (1 for stages without one)."""
    launch = loaded.graph.kind(stage).launch(loaded.graph[stage].config)
    return launch.nnodes if launch is not None else 1


def _job(loaded: LoadedPipeline, first: str, stages: list[str]) -> Job:
    """A job as large as its largest stage, with that stage's `slurm:` (else the first one given)."""
    largest = sorted(stages, key=lambda s: -nodes(loaded, s))
    given = [loaded.graph[s].resources[STAGE_KEY] for s in largest if STAGE_KEY in loaded.graph[s].resources]
    return Job(first, tuple(stages), given[0] if given else SlurmResources(), nodes(loaded, largest[0]))


def submit_all(loaded: LoadedPipeline, manifest: Manifest, planned: list[Job]) -> dict[str, str]:
    """Write and submit every job; stage -> job id (recorded in the manifest)."""
    ids: dict[str, str] = {}
    for job in planned:
        script = job.script_path(loaded.workdir)
        atomic_write_text(script, render(loaded, job))
        deps = {ids[up] for s in job.stages for up in _ancestors(loaded, s) if up in ids and up not in job.stages}
        job_id = jobs.submit(str(script), sorted(deps))
        for stage in job.stages:
            ids[stage] = job_id
            record = manifest.stage(stage)
            record.job = {"id": job_id, "name": job_name(loaded, job), "script": str(script), "state": "PENDING"}
        after = f" after job {', '.join(sorted(deps))}" if deps else ""
        console.step(f"{', '.join(job.stages)}: submitted as job {job_id}{after} ({script})")
    save_manifest(manifest, loaded.workdir)
    return ids


def _ancestors(loaded: LoadedPipeline, stage: str) -> set[str]:
    return loaded.graph.ancestors(stage)


def execute(request: RunRequest) -> bool:
    """Submit what must run, wait for the jobs (unless detached), fold their records; True when
    anything was submitted."""
    loaded, manifest = request.loaded, request.manifest
    jobs.check_tools("executor")
    runner = Runner(loaded, manifest, request.options)
    decisions = runner.preflight(request.names, request.selection)
    for i, d in enumerate(decisions, 1):
        if not d.run:
            console.step(f"[{i}/{len(decisions)}] {d.name}: skipped ({d.reason})")
    planned = plan_jobs(loaded, decisions)
    if not planned:
        return False
    ids = submit_all(loaded, manifest, planned)
    detach, resume_hint = request.detach, request.resume_hint
    if detach:
        console.info(f"submitted {len(planned)} job(s); follow with: swiftpipe status {loaded.display_name}")
        return True
    try:
        _wait(loaded, ids)
    except BaseException:
        jobs.cancel(set(ids.values()))
        console.failure("cancelled the jobs of this run: " + ", ".join(sorted(set(ids.values()))))
        fold_records(manifest, loaded.workdir, list(ids))
        raise
    fold_records(manifest, loaded.workdir, list(ids))
    _report(loaded, manifest, [s for job in planned for s in job.stages], resume_hint)
    return True


def _wait(loaded: LoadedPipeline, ids: dict[str, str], poll: float = 2.0) -> None:
    """Until squeue no longer lists our jobs, streaming each stage's log as it grows."""
    offsets: dict[Path, int] = {}
    while True:
        states = jobs.active(set(ids.values()))
        for stage in ids:
            follow(loaded.workdir / "logs" / f"{stage}.log", offsets)
        if not states:
            return
        time.sleep(poll)


def _report(loaded: LoadedPipeline, manifest: Manifest, stages: list[str], resume_hint: str) -> None:
    failed = []
    for stage in stages:
        record = manifest.stage(stage)
        if record.status.usable and record.job.get("finished"):
            record.job["state"] = "COMPLETED"
            console.success(f"{stage}: {record.status} in job {record.job['id']}")
            continue
        record.job["state"] = "FAILED" if record.status.value in ("failed", "crashed") else "CANCELLED"
        failed.append(stage)
    save_manifest(manifest, loaded.workdir)
    if failed:
        first = failed[0]
        record = manifest.stage(first)
        why = record.message or f"its job {record.job.get('id')} ended without finishing it"
        later = f"; cancelled after it: {', '.join(failed[1:])}" if failed[1:] else ""
        raise StageFailed(f"stage {first} {record.status}: {why}{later}; fix the cause, then resume with:\n  "
                          f"{resume_hint} --from {first}")
