"""The only calls swiftpipe makes to Ray's job API (ray.job_submission.JobSubmissionClient).

A job's outcome is the record its swiftpipe wrote; Ray's state only says whether a job is still
pending or running, and how it ended when it wrote nothing. Ray is imported on first use.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from swiftpipe.core.errors import UserError

ACTIVE = ("PENDING", "RUNNING")
META_WORKDIR = "swiftpipe_workdir"  # in every job's metadata: how `stop` tells our jobs from others'


class RayJobs:
    """One connection to a cluster's job API."""

    def __init__(self, address: str) -> None:
        try:
            from ray.job_submission import JobSubmissionClient
        except ImportError:
            raise UserError("executor: executor ray needs ray; install it with pip install -e '.[ray]' "
                            "or set executor.type: local") from None
        try:
            self.client = JobSubmissionClient(None if address == "auto" else address)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise UserError(f"executor.address: cannot reach Ray's job API at {address} "
                            f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}); "
                            "start a cluster (ray start --head) or set executor.address") from None

    def submit(self, sid: str, entrypoint: str, *, cpus: float, gpus: float, resources: Mapping[str, float],
               metadata: Mapping[str, str], runtime_env: Mapping[str, Any]) -> str:
        return str(self.client.submit_job(
            entrypoint=entrypoint, submission_id=sid, entrypoint_num_cpus=cpus, entrypoint_num_gpus=gpus,
            entrypoint_resources=dict(resources) or None, metadata=dict(metadata), runtime_env=dict(runtime_env)))

    def state(self, sid: str) -> str | None:
        """The job's status (PENDING, RUNNING, SUCCEEDED, FAILED, STOPPED), None when Ray does not know it."""
        try:
            return str(self.client.get_job_status(sid).value)
        except RuntimeError:
            return None

    def logs(self, sid: str) -> str:
        try:
            return str(self.client.get_job_logs(sid))
        except RuntimeError:
            return ""

    def stop(self, sid: str) -> None:
        with contextlib.suppress(RuntimeError):  # it ended meanwhile
            self.client.stop_job(sid)

    def ours(self, workdir: str) -> dict[str, str]:
        """submission id -> status of every job whose metadata names `workdir`."""
        return {str(job.submission_id): str(job.status.value) for job in self.client.list_jobs()
                if (job.metadata or {}).get(META_WORKDIR) == workdir and job.submission_id}
