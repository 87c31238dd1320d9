"""What becomes a Ray job: its stages, its submission id, its command and its resources.

A server stage and the stages reading it share one job, so the evals reach the server on its
node and it stops when the last of them is done, as locally. The submission id is derived from
the workdir, the stages and the first stage's fingerprint: a later `swiftpipe run` that plans the
same work finds the job by it (and reattaches) instead of starting a second one.
"""

from __future__ import annotations

import hashlib
import re
import shlex
import sys
from dataclasses import dataclass

from swiftpipe.engine.decide import Decision
from swiftpipe.engine.pipeline import LoadedPipeline
from swiftpipe.executors.ray.client import META_WORKDIR
from swiftpipe.executors.ray.config import STAGE_KEY, RayResources


@dataclass(frozen=True)
class Job:
    """One Ray job: a stage, or a server stage with the stages that read it."""

    stages: tuple[str, ...]
    nodes: int = 1  # the largest launch.nnodes of its stages

    @property
    def name(self) -> str:
        return self.stages[0]


def group(loaded: LoadedPipeline, decisions: list[Decision]) -> list[Job]:
    """The jobs for the stages that must run, in graph order."""
    graph = loaded.graph
    runs = [d.name for d in decisions if d.run]
    jobs, taken = [], set()
    for name in runs:
        if name in taken:
            continue
        stages = [name]
        if graph.kind(name).ephemeral:
            stages += [r for r in graph.dependents(name) if r in runs and r not in taken]
            if len(stages) == 1:
                continue  # a server nothing that runs reads: not needed
        taken.update(stages)
        jobs.append(Job(tuple(stages), max(nodes(loaded, s) for s in stages)))
    return jobs


def nodes(loaded: LoadedPipeline, stage: str) -> int:
    launch = loaded.graph.kind(stage).launch(loaded.graph[stage].config)
    return launch.nnodes if launch is not None else 1


def upstream(loaded: LoadedPipeline, job: Job) -> set[str]:
    """The stages outside `job` that its stages read (directly or not)."""
    return {u for s in job.stages for u in loaded.graph.ancestors(s)} - set(job.stages)


def submission_id(loaded: LoadedPipeline, job: Job, fingerprint: str | None, attempt: int = 1) -> str:
    """`swiftpipe-<pipeline>-<stage>-<hash>` (`-a<n>` for a later attempt of the same work)."""
    key = "\0".join([str(loaded.workdir), ",".join(job.stages), fingerprint or ""])
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    base = re.sub(r"[^A-Za-z0-9_.-]", "_", f"swiftpipe-{loaded.config.name}-{job.name}-{digest}")
    return base if attempt == 1 else f"{base}-a{attempt}"


def metadata(loaded: LoadedPipeline, job: Job, fingerprint: str | None) -> dict[str, str]:
    return {"swiftpipe_pipeline": loaded.config.name, "swiftpipe_stages": ",".join(job.stages),
            "swiftpipe_fingerprint": fingerprint or "", META_WORKDIR: str(loaded.workdir)}


def entrypoint(loaded: LoadedPipeline, job: Job) -> str:
    """The job runs swiftpipe itself for its stages, with this interpreter (a bare `python` on a
    Ray node is not this environment's), from the pipeline's folder."""
    from swiftpipe.config import profiles

    argv = [sys.executable, "-m", "swiftpipe", "run", str(loaded.source)]
    if profiles.selected():  # the job must load the pipeline exactly as the submitting run did
        argv += ["--profile", str(profiles.selected())]
    for override in loaded.overrides:
        argv += ["--set", override]
    argv += ["--job", ",".join(job.stages)]
    return f"cd {shlex.quote(str(loaded.base_dir))} && exec {shlex.join(argv)}"


def resources(loaded: LoadedPipeline, job: Job) -> RayResources:
    """The largest stage's `ray:` (else the first one given, else the defaults)."""
    largest = sorted(job.stages, key=lambda s: -nodes(loaded, s))
    given = [loaded.graph[s].resources[STAGE_KEY] for s in largest if STAGE_KEY in loaded.graph[s].resources]
    return given[0] if given else RayResources()


def entry_resources(loaded: LoadedPipeline, job: Job) -> tuple[float, float, dict[str, float]]:
    """CPUs, GPUs and custom resources of the job's driver. A multi-node job's driver only
    coordinates: its placement group holds the nodes' resources (launcher.py)."""
    if job.nodes > 1:
        return 0, 0, {}
    res = resources(loaded, job)
    return res.num_cpus, res.num_gpus, dict(res.resources)
