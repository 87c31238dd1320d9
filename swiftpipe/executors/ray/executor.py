"""The Ray executor behind the seam: submit and wait (coordinator.py), run a job's part, show and
stop our jobs. A stage's record keeps its job (`record.job`: id = submission id, state, nodes)."""

from __future__ import annotations

import socket

from swiftpipe.core.errors import UserError
from swiftpipe.engine.executor import RunRequest
from swiftpipe.engine.launch import Launcher
from swiftpipe.engine.lock import MARKER
from swiftpipe.engine.manifest import Manifest, load_manifest
from swiftpipe.engine.pipeline import LoadedPipeline
from swiftpipe.engine.recover import mark_interrupted
from swiftpipe.engine.runner import Runner
from swiftpipe.engine.select import Selection, select
from swiftpipe.engine.stage import RunOptions
from swiftpipe.executors.ray import coordinator, plan
from swiftpipe.executors.ray.client import ACTIVE, RayJobs
from swiftpipe.executors.ray.config import RaySettings
from swiftpipe.executors.ray.launcher import NodesLauncher


class RayExecutor:
    def execute(self, request: RunRequest) -> bool:
        return coordinator.execute(request)

    def run_part(self, loaded: LoadedPipeline, stages: list[str], resume_hint: str) -> None:
        """Inside a Ray job: its stages (and the servers they read); only their records are written.

        The workdir must be the one the submitter made, seen through storage every node shares.
        A record still `running` belongs to an earlier attempt of this work that was killed.
        """
        check_shared(loaded)
        chosen = {n for stage in stages for n in select(loaded.graph, Selection(only=stage))}
        names = [n for n in loaded.graph.names if n in chosen]
        manifest = load_manifest(loaded.workdir) or Manifest(pipeline=str(loaded.source), workdir=str(loaded.workdir))
        mark_interrupted(manifest, stages, "interrupted: an earlier Ray job of it was stopped")
        launchers: dict[str, Launcher] = {s: NodesLauncher(n, plan.resources(loaded, plan.Job((s,), n)))
                                          for s in stages if (n := plan.nodes(loaded, s)) > 1}
        runner = Runner(loaded, manifest, RunOptions(), owned=set(stages), launchers=launchers)
        runner.execute(names, Selection(), resume_hint)

    def live(self, manifest: Manifest) -> dict[str, str]:
        """Nothing blocks the next run: it reattaches to our jobs that still run (coordinator.py)."""
        return {}

    def describe(self, manifest: Manifest) -> dict[str, str]:
        """stage -> "<submission id> <state>"; the live state where the cluster answers."""
        recorded = {name: r.job for name, r in manifest.stages.items() if r.job.get("executor") == "ray"}
        live: dict[str, str] = {}
        if recorded:
            try:
                address = next(str(job.get("address", "auto")) for job in recorded.values())
                live = RayJobs(address).ours(manifest.workdir)
            except UserError:
                pass  # the cluster is gone: the recorded states stand
        return {name: f"{job['id']} {live.get(job['id'], job.get('state', '?'))}" for name, job in recorded.items()}

    def cancel(self, loaded: LoadedPipeline, manifest: Manifest) -> list[str]:
        """Our jobs still pending or running: those whose metadata names this workdir."""
        if not any(r.job.get("executor") == "ray" for r in manifest.stages.values()):
            return []  # nothing of this workdir went to Ray: no cluster to ask
        settings: RaySettings = loaded.executor
        api = RayJobs(settings.address)
        ours = {sid: state for sid, state in api.ours(str(loaded.workdir)).items() if state in ACTIVE}
        for sid in ours:
            api.stop(sid)
        for record in manifest.stages.values():
            if record.job.get("id") in ours:
                record.job["state"] = "STOPPED"
        return [f"stopped Ray job {sid} ({state})" for sid, state in sorted(ours.items())]


def check_shared(loaded: LoadedPipeline) -> None:
    """The job's node sees the submitter's workdir, or says plainly that it does not."""
    if not (loaded.workdir / MARKER).is_file():
        raise UserError(f"{loaded.workdir}: not found on Ray node {socket.gethostname()}; executor ray needs "
                        "the workdir on storage every node shares (NFS, a mounted volume); set workdir: to such a path")
