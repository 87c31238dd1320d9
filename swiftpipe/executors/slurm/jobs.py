"""sbatch, squeue, scancel, scontrol: the only calls swiftpipe makes to SLURM.

State is never read from `sacct` (often not configured) or `scontrol show job` (it forgets
finished jobs after MinJobAge): a job's outcome is the record its swiftpipe wrote. squeue only
says whether a job is still queued or running.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable

from swiftpipe.core.errors import UserError

TOOLS = ("sbatch", "squeue", "scancel", "scontrol")


def check_tools(where: str) -> None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        raise UserError(f"{where}: executor slurm needs {', '.join(missing)} on PATH; run where SLURM is installed "
                        "or set executor.type: local")


def _run(argv: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=os.environ.copy())


def submit(script: str, dependencies: Iterable[str] = ()) -> str:
    """Submit a script; its job id. Dependencies are afterok; a failed parent cancels this job."""
    deps = list(dependencies)
    argv = ["sbatch", "--parsable"]
    if deps:
        argv += [f"--dependency=afterok:{':'.join(deps)}", "--kill-on-invalid-dep=yes"]
    done = _run([*argv, script])
    if done.returncode != 0:
        raise UserError(f"sbatch {script}: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout.strip().split(";")[0]


def active(ids: Iterable[str]) -> dict[str, str]:
    """The jobs among `ids` that are still queued or running: id -> state (PENDING, RUNNING, ...)."""
    wanted = [i for i in ids if i]
    if not wanted:
        return {}
    done = _run(["squeue", "-h", "-j", ",".join(wanted), "-o", "%i %T"])
    states = {}
    for line in done.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in wanted:
            states[parts[0]] = parts[1]
    return states


def names(ids: Iterable[str]) -> dict[str, str]:
    """id -> job name, for the jobs among `ids` still known to squeue."""
    wanted = [i for i in ids if i]
    if not wanted:
        return {}
    done = _run(["squeue", "-h", "-j", ",".join(wanted), "-o", "%i %j"])
    return dict(line.split(maxsplit=1) for line in done.stdout.splitlines() if len(line.split(maxsplit=1)) == 2)


def cancel(ids: Iterable[str]) -> None:
    wanted = [i for i in ids if i]
    if wanted:
        _run(["scancel", *wanted])


def node_address(node: str) -> str:
    """The address other nodes reach `node` at (NodeAddr), for MASTER_ADDR."""
    done = _run(["scontrol", "-o", "show", "node", node])
    for field in done.stdout.split():
        if field.startswith("NodeAddr="):
            return field.split("=", 1)[1]
    return node


def first_node(nodelist: str) -> str:
    done = _run(["scontrol", "show", "hostnames", nodelist])
    lines = done.stdout.split()
    return lines[0] if lines else nodelist
