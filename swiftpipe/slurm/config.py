"""`slurm:` on a stage: its job size (the executor itself is `executor:` in config/schema.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from swiftpipe.config.schema import doc


@dataclass(frozen=True)
class SlurmResources:
    """A stage's own job size (stages.<name>.slurm), over the executor's defaults."""

    nodes: int = field(default=1, metadata=doc("nodes; a training stage starts one swift per node"))
    gpus_per_node: int | None = field(default=None, metadata=doc("sbatch --gpus-per-node"))
    cpus_per_task: int | None = field(default=None, metadata=doc("sbatch --cpus-per-task"))
    mem: str | None = field(default=None, metadata=doc("sbatch --mem, e.g. 64G"))
    time: str | None = field(default=None, metadata=doc("sbatch --time for this stage"))
