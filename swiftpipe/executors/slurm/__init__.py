"""The SLURM executor: each stage that must run becomes an sbatch job (chained with afterok),
running swiftpipe for its stages; `launch.nnodes` sizes the job and srun starts one swift per node."""

from __future__ import annotations

from swiftpipe.engine.executor import Executor, ExecutorKind
from swiftpipe.executors.slurm.config import STAGE_KEY, SlurmResources, SlurmSettings, path_problems


def _make() -> Executor:
    from swiftpipe.executors.slurm.executor import SlurmExecutor  # imports the engine's runner

    return SlurmExecutor()


EXECUTOR = ExecutorKind(name="slurm", doc="one sbatch job per stage", settings=SlurmSettings, make=_make,
                        stage_key=STAGE_KEY, resources=SlurmResources, check=path_problems)
