"""The Ray executor: each stage that must run becomes a Ray job (JobSubmissionClient.submit_job)
running swiftpipe for its stages; the submitter honours dependencies, streams logs and reattaches
to jobs that outlived it; `launch.nnodes` places one bundle per node (STRICT_SPREAD)."""

from __future__ import annotations

from swiftpipe.engine.executor import Executor, ExecutorKind
from swiftpipe.executors.ray.config import STAGE_KEY, RayResources, RaySettings, check


def _make() -> Executor:
    from swiftpipe.executors.ray.executor import RayExecutor  # imports the engine's runner

    return RayExecutor()


EXECUTOR = ExecutorKind(name="ray", doc="one Ray job per stage (JobSubmissionClient)", settings=RaySettings,
                        make=_make, stage_key=STAGE_KEY, resources=RayResources, check=check)
