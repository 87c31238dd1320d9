"""A real two-node Ray cluster on this machine, for the tests of the Ray executor.

A head and a worker node (`ray start --block`, one CPU each, a custom resource naming each node,
small object stores) under a private --temp-dir with free ports; the job API answers on
127.0.0.1 only. Each node runs in a process group of its own under swiftpipe's watchdog, so it is
stopped by the PID of that group, never by `ray stop` (which would stop every Ray node of the
machine), and dies with the test process even when that is killed.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from subprocess import Popen, TimeoutExpired
from typing import Any

from swiftpipe.core.host import free_port

RAY = Path(sys.executable).parent / "ray"
OBJECT_STORE = str(80 * 1024 * 1024)


def unavailable() -> str | None:
    """Why the cluster cannot be started here, or None."""
    if importlib.util.find_spec("ray") is None or importlib.util.find_spec("ray.dashboard") is None:
        return "ray is not installed (pip install -e '.[ray]')"
    if not RAY.is_file():
        return f"{RAY} is missing (pip install -e '.[ray]')"
    return None


def need_ray() -> None:
    """Skip with one line where the cluster cannot start; under SWIFTPIPE_REQUIRE_RAY=1 (CI) fail instead."""
    import pytest

    why = unavailable()
    if why is not None:
        if os.environ.get("SWIFTPIPE_REQUIRE_RAY") == "1":
            pytest.fail(f"SWIFTPIPE_REQUIRE_RAY=1 but {why}")
        pytest.skip(why)


class Cluster:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.port, self.dashboard_port = free_port(), free_port()
        self.address = f"http://127.0.0.1:{self.dashboard_port}"
        self.procs: list[Popen[bytes]] = []
        # Every ray command and every job the tests start talks to this cluster only.
        self.env = {**os.environ, "RAY_ADDRESS": self.address, "PYTHONUNBUFFERED": "1"}
        self.env.pop("RAY_API_SERVER_ADDRESS", None)

    def start(self) -> None:
        temp = self.root / "ray"  # short: Ray's socket paths must stay under 107 characters
        self._node([str(RAY), "start", "--head", f"--port={self.port}", "--dashboard-host=127.0.0.1",
                    f"--dashboard-port={self.dashboard_port}", f"--temp-dir={temp}", "--include-dashboard=true",
                    f"--ray-client-server-port={free_port()}", "--resources={\"head_node\": 1}"], "head")
        self.wait_for(1)
        self._node([str(RAY), "start", f"--address=127.0.0.1:{self.port}", "--resources={\"worker_node\": 1}"],
                   "worker")
        self.wait_for(2)

    def _node(self, argv: list[str], name: str) -> None:
        """One node under swiftpipe's watchdog (it dies with this process, even on kill -9), with
        ports of its own: another cluster on this machine (a second test run) must not collide."""
        from swiftpipe.core import process

        ports = [f"--{name}={free_port()}" for name in (
            "dashboard-agent-listen-port", "dashboard-agent-grpc-port", "runtime-env-agent-port",
            "metrics-export-port", "node-manager-port", "object-manager-port")]
        common = ["--block", "--num-cpus=1", "--num-gpus=0", f"--object-store-memory={OBJECT_STORE}",
                  "--disable-usage-stats", *ports]
        log = (self.root / f"{name}.log").open("ab")
        env = {k: v for k, v in self.env.items() if k != "RAY_ADDRESS"}
        self.procs.append(process.spawn([*argv, *common], env, stdout=log, supervised=True))

    def wait_for(self, nodes: int, timeout: float = 120) -> None:
        """Until the job API answers and lists `nodes` live nodes."""
        deadline = time.monotonic() + timeout
        while True:
            for proc in self.procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"ray start exited {proc.returncode}; see {self.root}/*.log")
            if self.live_nodes() >= nodes:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Ray cluster did not show {nodes} nodes in {timeout} s; see {self.root}")
            time.sleep(0.5)

    def live_nodes(self) -> int:
        import json
        import urllib.request

        try:
            with urllib.request.urlopen(f"{self.address}/nodes?view=summary", timeout=5) as resp:
                summary = json.load(resp)["data"]["summary"]
        except (OSError, ValueError, KeyError):
            return 0
        return sum(1 for node in summary if node.get("raylet", {}).get("state") == "ALIVE")

    def jobs(self) -> list[dict[str, Any]]:
        """`ray job list` as data: every job the cluster knows."""
        from ray.job_submission import JobSubmissionClient

        return [{"id": j.submission_id, "status": str(j.status.value), "metadata": j.metadata or {},
                 "entrypoint": j.entrypoint} for j in JobSubmissionClient(self.address).list_jobs()]

    def stop(self) -> None:
        """Worker first, then the head: SIGTERM to each `ray start --block` and its node's processes
        (its session), SIGKILL to them after 5 s (the head's dashboard lingers for 30 s otherwise)."""
        for proc in reversed(self.procs):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


@contextmanager
def cluster(root: Path) -> Iterator[Cluster]:
    c = Cluster(root)
    try:
        c.start()
        yield c
    finally:
        c.stop()
