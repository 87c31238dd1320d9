"""The SLURM executor behind the seam: submit and wait (coordinator.py), run a job's part, find and
cancel our jobs. A stage's record keeps its job (`record.job`: id, name, script, state)."""

from __future__ import annotations

import shutil

from swiftpipe.engine.executor import RunRequest
from swiftpipe.engine.launch import Launcher
from swiftpipe.engine.manifest import Manifest, StageRecord, load_manifest
from swiftpipe.engine.pipeline import LoadedPipeline
from swiftpipe.engine.recover import mark_interrupted
from swiftpipe.engine.runner import Runner
from swiftpipe.engine.select import Selection, select
from swiftpipe.engine.stage import RunOptions
from swiftpipe.executors.slurm import coordinator, jobs
from swiftpipe.executors.slurm.launcher import SrunLauncher


class SlurmExecutor:
    def execute(self, request: RunRequest) -> bool:
        return coordinator.execute(request)

    def run_part(self, loaded: LoadedPipeline, stages: list[str], resume_hint: str) -> None:
        """Inside a job: its stages (and the servers they read); only their records are written.

        The submitting `swiftpipe run` holds the workdir lock and folds the records afterwards. A
        job that starts again (requeued, preempted) finds its own records `running`: they belong
        to the attempt SLURM killed, so they are interrupted and training resumes.
        """
        chosen = {n for stage in stages for n in select(loaded.graph, Selection(only=stage))}
        names = [n for n in loaded.graph.names if n in chosen]
        manifest = load_manifest(loaded.workdir) or Manifest(pipeline=str(loaded.source), workdir=str(loaded.workdir))
        mark_interrupted(manifest, stages, "interrupted: its SLURM job was requeued")
        launchers: dict[str, Launcher] = {s: SrunLauncher(n) for s in stages
                                          if (n := coordinator.nodes(loaded, s)) > 1}
        runner = Runner(loaded, manifest, RunOptions(), owned=set(stages), launchers=launchers)
        runner.execute(names, Selection(), resume_hint)

    def live(self, manifest: Manifest) -> dict[str, str]:
        recorded = _recorded(manifest)
        if not recorded or shutil.which("squeue") is None:
            return {}
        states = jobs.active(recorded)
        return {recorded[i]: f"job {i} {state}" for i, state in states.items()}

    def describe(self, manifest: Manifest) -> dict[str, str]:
        """stage -> "<job id> <state>" for every stage with a job; the live state where squeue answers."""
        recorded = {name: r.job for name, r in manifest.stages.items() if r.job.get("id")}
        live = jobs.active(job["id"] for job in recorded.values()) if recorded and shutil.which("squeue") else {}
        return {name: f"{job['id']} {live.get(job['id'], job.get('state', '?'))}" for name, job in recorded.items()}

    def cancel(self, loaded: LoadedPipeline, manifest: Manifest) -> list[str]:
        """Our jobs still queued or running: recorded id and the job name we gave it."""
        recorded: dict[str, list[StageRecord]] = {}
        for record in manifest.stages.values():
            if record.job.get("id"):
                recorded.setdefault(record.job["id"], []).append(record)
        if not recorded or shutil.which("squeue") is None:
            return []
        live = jobs.names(recorded)
        ours = [i for i, name in live.items()
                if name == recorded[i][0].job.get("name") and name.startswith("swiftpipe-")]
        jobs.cancel(ours)
        for job_id in ours:
            for record in recorded[job_id]:  # a deploy and its evals share one job
                record.job["state"] = "CANCELLED"
        return [f"cancelled job {job_id} ({live[job_id]})" for job_id in ours]


def _recorded(manifest: Manifest) -> dict[str, str]:
    """job id -> the first stage recorded in it."""
    found: dict[str, str] = {}
    for name, record in manifest.stages.items():
        if record.job.get("id"):
            found.setdefault(str(record.job["id"]), name)
    return found

