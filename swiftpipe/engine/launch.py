"""The launch seam: how many machines and processes a stage uses, and who starts its command.

`LaunchConfig` is a training stage's `launch:`, the one way to size a stage whatever the
executor: on the local executor the user names the rendezvous (master_addr, a fixed port) for
nnodes > 1; an executor that places the processes itself fills it in. Every stage hands
its command to a `Launcher` instead of spawning it: `LocalLauncher` runs it here, in its own
process group, teeing its output into the stage log (swiftpipe.core.process); an executor may
hand a stage another launcher (one process per node of a scheduler's job).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import Popen
from typing import BinaryIO, Protocol

from swiftpipe.config.schema import doc


@dataclass(frozen=True)
class LaunchConfig:
    nproc_per_node: int | str = field(
        default=1, metadata=doc("processes on each machine: a number, or auto (one per visible GPU)"))
    nnodes: int = field(default=1, metadata=doc("machines taking part"))
    node_rank: int = field(default=0, metadata=doc("this machine's rank, 0 to nnodes - 1"))
    master_addr: str | None = field(
        default=None, metadata=doc("address of node 0; required with nnodes > 1 unless the executor places the nodes"))
    master_port: int | str = field(
        default="auto", metadata=doc("rendezvous port; auto: a free port (one machine only)"))
    devices: int | str | None = field(default=None, metadata=doc("GPU ids for CUDA_VISIBLE_DEVICES, e.g. 0,1,2,3"))
    deepspeed: str | None = field(
        default=None, metadata=doc("zero2, zero3, zero2_offload, zero3_offload or a DeepSpeed JSON file"))


class Launcher(Protocol):
    def run(
        self,
        argv: Sequence[str],
        env: dict[str, str],
        log_path: Path,
        *,
        echo: bool = True,
        on_line: Callable[[str], None] | None = None,
    ) -> int:
        """Run `argv` to completion with exactly `env`; return its exit code."""
        ...

    def start(self, argv: Sequence[str], env: dict[str, str], log: BinaryIO) -> Popen[bytes]:
        """Start a command that runs until stopped (a server) in a process group of its own, its
        output appended to `log`; the caller stops the group (swiftpipe.core.process.stop_group)."""
        ...


class LocalLauncher:
    def run(
        self,
        argv: Sequence[str],
        env: dict[str, str],
        log_path: Path,
        *,
        echo: bool = True,
        on_line: Callable[[str], None] | None = None,
    ) -> int:
        from swiftpipe.core import process

        return process.run([str(a) for a in argv], env=env, log_path=log_path, echo=echo, on_line=on_line)

    def start(self, argv: Sequence[str], env: dict[str, str], log: BinaryIO) -> Popen[bytes]:
        from swiftpipe.core import process

        return process.spawn([str(a) for a in argv], env, stdout=log)
