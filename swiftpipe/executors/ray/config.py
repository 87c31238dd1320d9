"""The Ray executor's settings: `executor:` (the cluster's address, a runtime_env for every job)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from swiftpipe.config.schema import doc
from swiftpipe.config.validate import Problem
from swiftpipe.engine.pipeline import LoadedPipeline

ADDRESS_FORMS = ("auto", "http://", "https://", "ray://")


@dataclass(frozen=True)
class RaySettings:
    """`executor:` with type ray: which cluster takes the jobs, and how they are started."""

    address: str = field(default="auto", metadata=doc(
        "auto (RAY_ADDRESS, else the cluster on this machine), http://HOST:8265 (the job API) "
        "or ray://HOST:10001"))
    runtime_env: dict[str, Any] = field(default_factory=dict, metadata=doc(
        "Ray runtime_env of every job (env_vars, ...); the workdir must be on storage every node shares"))


STAGE_KEY = "ray"  # stages.<name>.ray


@dataclass(frozen=True)
class RayResources:
    """What a stage's job asks of a node (stages.<name>.ray); with `launch.nnodes` > 1, of each node."""

    num_cpus: float = field(default=1, metadata=doc("CPUs (entrypoint_num_cpus; per node with nnodes > 1)"))
    num_gpus: float = field(default=0, metadata=doc("GPUs (entrypoint_num_gpus; per node with nnodes > 1)"))
    resources: dict[str, float] = field(default_factory=dict, metadata=doc(
        "custom Ray resources, e.g. {accelerator_type:H100: 1}"))


def check(loaded: LoadedPipeline) -> list[Problem]:
    """An address Ray's job client cannot read, and a multi-node launch that names its own rendezvous."""
    settings: RaySettings = loaded.executor
    problems = []
    if settings.address != "auto" and not settings.address.startswith(ADDRESS_FORMS[1:]):
        problems.append(Problem("executor.address",
                                f"expected auto, http://HOST:8265 or ray://HOST:10001, got {settings.address!r}"))
    for node in loaded.graph:
        launch = loaded.graph.kind(node.name).launch(node.config)
        if launch is not None and launch.nnodes > 1 and launch.master_addr is not None:
            problems.append(Problem(f"{node.where}.launch.master_addr",
                                    "executor ray places the nodes and picks node 0's address itself; remove it"))
    return problems
