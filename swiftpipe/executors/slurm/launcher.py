"""Multi-node training inside a SLURM job: one swift per node through `srun`.

swift launches torch.distributed itself from NNODES, NODE_RANK, MASTER_ADDR and MASTER_PORT;
`srun` starts the same command once per node and each task takes its rank from
$SLURM_NODEID. MASTER_ADDR is the first node's address, the port one free port.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from subprocess import Popen
from typing import BinaryIO

from swiftpipe.core.host import free_port
from swiftpipe.engine.launch import LocalLauncher
from swiftpipe.executors.slurm import jobs

NODE_SCRIPT = 'export NODE_RANK="$SLURM_NODEID"; exec "$@"'


class SrunLauncher:
    def __init__(self, nodes: int) -> None:
        self.nodes = nodes

    def command(self, argv: Sequence[str], env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
        nodelist = env.get("SLURM_JOB_NODELIST") or os.environ.get("SLURM_JOB_NODELIST", "")
        master = jobs.node_address(jobs.first_node(nodelist)) if nodelist else "127.0.0.1"
        overlay = {"NNODES": str(self.nodes), "MASTER_ADDR": master, "MASTER_PORT": str(free_port())}
        overlay.setdefault("NPROC_PER_NODE", env.get("NPROC_PER_NODE", "1"))
        wrapped = ["srun", f"--nodes={self.nodes}", "--ntasks-per-node=1", "--kill-on-bad-exit=1",
                   "bash", "-c", NODE_SCRIPT, "swiftpipe-node", *map(str, argv)]
        return wrapped, {**env, **overlay}

    def run(
        self,
        argv: Sequence[str],
        env: dict[str, str],
        log_path: Path,
        *,
        echo: bool = True,
        on_line: Callable[[str], None] | None = None,
    ) -> int:
        wrapped, full_env = self.command(argv, env)
        return LocalLauncher().run(wrapped, full_env, log_path, echo=echo, on_line=on_line)

    def start(self, argv: Sequence[str], env: dict[str, str], log: BinaryIO) -> Popen[bytes]:
        """A server runs once, on the job's first node (this one)."""
        return LocalLauncher().start(argv, env, log)
