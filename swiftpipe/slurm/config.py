"""`slurm:` on a stage: its job size (the executor itself is `executor:` in config/schema.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from swiftpipe.config.schema import SBATCH_PATH, SBATCH_VALUE, LoadedPipeline, doc
from swiftpipe.config.validate import Problem


@dataclass(frozen=True)
class SlurmResources:
    """A stage's own job size (stages.<name>.slurm), over the executor's defaults."""

    nodes: int = field(default=1, metadata=doc("nodes; a training stage starts one swift per node"))
    gpus_per_node: int | None = field(default=None, metadata=doc("sbatch --gpus-per-node"))
    cpus_per_task: int | None = field(default=None, metadata=doc("sbatch --cpus-per-task"))
    mem: str | None = field(default=None, metadata=doc("sbatch --mem, e.g. 64G", word=SBATCH_VALUE))
    time: str | None = field(default=None, metadata=doc("sbatch --time for this stage", word=SBATCH_VALUE))


def path_problems(loaded: LoadedPipeline) -> list[Problem]:
    """What keeps executor slurm from writing this pipeline's paths into sbatch scripts.

    The workdir goes into `#SBATCH --output=`, the pipeline file into the job's command.
    """
    if loaded.config.executor.type != "slurm":
        return []
    problem = SBATCH_PATH.problem(str(loaded.source))
    if problem:  # the default workdir is beside the file: one message says it for both
        return [Problem("", f"executor slurm writes this file's path into sbatch scripts; {problem}")]
    problem = SBATCH_PATH.problem(str(loaded.workdir))
    return [Problem("workdir", f"executor slurm writes it into #SBATCH lines; {problem}")] if problem else []
