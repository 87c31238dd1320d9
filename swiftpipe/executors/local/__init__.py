"""The local executor: the selected stages run here, one after another, in this process's run."""

from __future__ import annotations

from dataclasses import dataclass

from swiftpipe.config.validate import Problem
from swiftpipe.core.errors import UserError
from swiftpipe.engine.executor import ExecutorKind, RunRequest
from swiftpipe.engine.manifest import Manifest
from swiftpipe.engine.pipeline import LoadedPipeline
from swiftpipe.engine.runner import Runner


@dataclass(frozen=True)
class LocalSettings:
    """`executor:` with type local has no settings of its own."""


class LocalExecutor:
    def execute(self, request: RunRequest) -> bool:
        runner = Runner(request.loaded, request.manifest, request.options)
        runner.execute(request.names, request.selection, request.resume_hint)
        return bool(runner.fresh)

    def run_part(self, loaded: LoadedPipeline, stages: list[str], resume_hint: str) -> None:
        raise UserError("--job: the local executor runs every stage in `swiftpipe run` itself; "
                        "--job is for the jobs another executor starts")

    def live(self, manifest: Manifest) -> dict[str, str]:
        return {}

    def describe(self, manifest: Manifest) -> dict[str, str]:
        return {}

    def cancel(self, loaded: LoadedPipeline, manifest: Manifest) -> list[str]:
        return []


def check(loaded: LoadedPipeline) -> list[Problem]:
    """Here nothing places the machines of a multi-machine launch: the user names the rendezvous."""
    problems = []
    for node in loaded.graph:
        launch = loaded.graph.kind(node.name).launch(node.config)
        if launch is None or launch.nnodes <= 1:
            continue
        if launch.master_addr is None:
            problems.append(Problem(f"{node.where}.launch.master_addr",
                                    "required with nnodes > 1; set it to the address of node 0"))
        if launch.master_port == "auto":
            problems.append(Problem(f"{node.where}.launch.master_port",
                                    "auto picks a free port on one machine only; with nnodes > 1 "
                                    "set the port every node uses, e.g. 29500"))
    return problems


EXECUTOR = ExecutorKind(name="local", doc="every stage runs here, one after another", settings=LocalSettings,
                        make=LocalExecutor, check=check)
