"""Multi-node training inside a Ray job: one bundle per node, one swift per bundle.

The job's driver reserves `nnodes` bundles in a placement group with STRICT_SPREAD (each on
another node), asks bundle 0 for its address and a free port there, and starts ms-swift's
launcher once per bundle with NNODES, NODE_RANK, MASTER_ADDR and MASTER_PORT; swift starts
torch.distributed from them. Every rank appends to the stage's log (as srun merges its tasks'
output), after a line naming the Ray node it runs on. When one rank fails the others are
cancelled; the placement group is removed whatever happens.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from subprocess import Popen
from typing import Any, BinaryIO

from swiftpipe.core.errors import UserError
from swiftpipe.engine.launch import LocalLauncher
from swiftpipe.executors.ray.config import RayResources

PLACE_TIMEOUT_S = 600


def _where() -> tuple[str, int]:
    """In bundle 0: the address other nodes reach this one at, and a port free here."""

    from swiftpipe.core.host import free_port

    return _node_ip(), free_port()


def _node_ip() -> str:
    import ray

    return str(ray.util.get_node_ip_address())  # type: ignore[no-untyped-call]


def _rank(argv: list[str], env: dict[str, str], log_path: str, rank: int, nodes: int) -> int:
    """In bundle `rank`: say where it runs in the log, then run swift there."""
    import ray

    node, ip = ray.get_runtime_context().get_node_id(), _node_ip()
    with open(log_path, "ab") as log:
        log.write(f"ray: node rank {rank} of {nodes} on Ray node {node} ({ip})\n".encode())
    if "CUDA_VISIBLE_DEVICES" in os.environ:  # the GPUs Ray gave this bundle
        env = {**env, "CUDA_VISIBLE_DEVICES": os.environ["CUDA_VISIBLE_DEVICES"]}
    return LocalLauncher().run(argv, env, Path(log_path), echo=False)


class NodesLauncher:
    def __init__(self, nodes: int, resources: RayResources) -> None:
        self.nodes = nodes
        self.bundle: dict[str, float] = {"CPU": resources.num_cpus, **resources.resources}
        if resources.num_gpus:
            self.bundle["GPU"] = resources.num_gpus

    def run(
        self,
        argv: Sequence[str],
        env: dict[str, str],
        log_path: Path,
        *,
        echo: bool = True,
        on_line: Callable[[str], None] | None = None,
    ) -> int:
        """`echo` is not needed: the submitter streams the stage's log; `on_line` sees every rank's lines."""
        import ray
        from ray.util.placement_group import placement_group, remove_placement_group

        ray.init(address="auto", log_to_driver=False, ignore_reinit_error=True, logging_level=logging.ERROR)
        group = placement_group([dict(self.bundle)] * self.nodes, strategy="STRICT_SPREAD")
        try:
            self._placed(group)
            return self._ranks(group, [str(a) for a in argv], env, log_path, on_line)
        finally:
            remove_placement_group(group)

    def _placed(self, group: Any) -> None:
        import ray

        try:
            ray.get(group.ready(), timeout=PLACE_TIMEOUT_S)
        except ray.exceptions.GetTimeoutError:
            raise UserError(f"launch.nnodes: Ray could not place {self.nodes} bundles of {self.bundle} on "
                            f"{self.nodes} different nodes within {PLACE_TIMEOUT_S} s; add nodes or lower "
                            "nnodes or the stage's ray: resources") from None

    def _ranks(self, group: Any, argv: list[str], env: dict[str, str], log_path: Path,
               on_line: Callable[[str], None] | None) -> int:
        import ray
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

        def at(i: int) -> PlacementGroupSchedulingStrategy:
            return PlacementGroupSchedulingStrategy(group, placement_group_bundle_index=i)

        addr, port = ray.get(ray.remote(_where).options(num_cpus=0, scheduling_strategy=at(0)).remote())
        overlay = {"NNODES": str(self.nodes), "MASTER_ADDR": str(addr), "MASTER_PORT": str(port)}
        overlay.setdefault("NPROC_PER_NODE", env.get("NPROC_PER_NODE", "1"))
        rank = ray.remote(_rank)
        custom = {k: v for k, v in self.bundle.items() if k not in ("CPU", "GPU")}
        log_path.parent.mkdir(parents=True, exist_ok=True)
        follow = _Follow(log_path, on_line)
        refs = [rank.options(num_cpus=self.bundle["CPU"], num_gpus=self.bundle.get("GPU", 0), resources=custom,
                             scheduling_strategy=at(i)).remote(
            argv, {**env, **overlay, "NODE_RANK": str(i)}, str(log_path), i, self.nodes) for i in range(self.nodes)]
        return _wait_all(refs, follow)

    def start(self, argv: Sequence[str], env: dict[str, str], log: BinaryIO) -> Popen[bytes]:
        """A server runs once, on the job's own node."""
        return LocalLauncher().start(argv, env, log)


class _Follow:
    """The lines the ranks append to the stage's log, handed to the stage's `on_line` as they come
    (it reads swift's output there: the run folder, the last checkpoint)."""

    def __init__(self, log_path: Path, on_line: Callable[[str], None] | None) -> None:
        self.path, self.on_line = log_path, on_line
        self.offset = log_path.stat().st_size if log_path.exists() else 0
        self.rest = b""

    def read(self) -> None:
        if self.on_line is None:
            return
        with self.path.open("rb") as fh:
            fh.seek(self.offset)
            chunk = fh.read()
        self.offset += len(chunk)
        *lines, self.rest = (self.rest + chunk).split(b"\n")
        for line in lines:
            self.on_line(line.decode("utf-8", "replace").rstrip("\r"))


def _wait_all(refs: list[Any], follow: _Follow) -> int:
    """The first non-zero exit code (the other ranks cancelled then), else 0."""
    import ray

    pending = list(refs)
    try:
        while pending:
            ready, pending = ray.wait(pending, num_returns=1, timeout=1.0)
            follow.read()
            for ref in ready:
                code = int(ray.get(ref))
                if code != 0:
                    return code
        return 0
    finally:
        follow.read()
        for ref in pending:
            ray.cancel(ref, force=True)
