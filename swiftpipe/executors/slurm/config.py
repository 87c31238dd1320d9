"""The SLURM executor's settings: `executor:` (queue, account, time) and a stage's `slurm:` (its job's size)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from swiftpipe.config.schema import doc
from swiftpipe.config.validate import Problem, Word
from swiftpipe.engine.pipeline import LoadedPipeline

# sbatch reads #SBATCH lines itself: whitespace separates options, quotes and '\' group and escape,
# '#' ends the line, and a line break would make the rest a shell line of the job. Shell characters
# are refused too: no sbatch value needs them, and a value must never look like a command.
_SBATCH_CHAR = r"[^\s\x00-\x1f\x7f'\"\\#$`;<>]"
SBATCH_RULE = "without spaces, quotes, '\\', '#', '$', '`', ';', '<', '>' or line breaks"
SBATCH_VALUE = Word(re.compile(f"{_SBATCH_CHAR}+"), f"one sbatch value {SBATCH_RULE}")
SBATCH_OPTION = Word(re.compile(f"--[A-Za-z][A-Za-z0-9-]*(={_SBATCH_CHAR}*)?"),
                     f"one sbatch option written --name or --name=value, {SBATCH_RULE}")
SBATCH_PATH = Word(re.compile(f"{_SBATCH_CHAR}+"), f"a path {SBATCH_RULE}")


@dataclass(frozen=True)
class SlurmSettings:
    """`executor:` with type slurm: where and as whom its jobs are queued."""

    partition: str | None = field(default=None, metadata=doc("sbatch --partition", word=SBATCH_VALUE))
    account: str | None = field(default=None, metadata=doc("sbatch --account", word=SBATCH_VALUE))
    time: str | None = field(default=None, metadata=doc("sbatch --time, e.g. 04:00:00", word=SBATCH_VALUE))
    qos: str | None = field(default=None, metadata=doc("sbatch --qos", word=SBATCH_VALUE))
    extra_args: list[str] = field(
        default_factory=list, metadata=doc("more sbatch options, verbatim", word=SBATCH_OPTION)
    )


STAGE_KEY = "slurm"  # stages.<name>.slurm


@dataclass(frozen=True)
class SlurmResources:
    """A stage's own job settings (stages.<name>.slurm), over the executor's; its node count is
    `launch.nnodes`, as on every executor."""

    gpus_per_node: int | None = field(default=None, metadata=doc("sbatch --gpus-per-node"))
    cpus_per_task: int | None = field(default=None, metadata=doc("sbatch --cpus-per-task"))
    mem: str | None = field(default=None, metadata=doc("sbatch --mem, e.g. 64G", word=SBATCH_VALUE))
    time: str | None = field(default=None, metadata=doc("sbatch --time for this stage", word=SBATCH_VALUE))


def path_problems(loaded: LoadedPipeline) -> list[Problem]:
    """What keeps executor slurm from writing this pipeline's paths into sbatch scripts.

    The workdir goes into `#SBATCH --output=`, the pipeline file into the job's command.
    """
    problem = SBATCH_PATH.problem(str(loaded.source))
    if problem:  # the default workdir is beside the file: one message says it for both
        return [Problem("", f"executor slurm writes this file's path into sbatch scripts; {problem}")]
    problem = SBATCH_PATH.problem(str(loaded.workdir))
    return [Problem("workdir", f"executor slurm writes it into #SBATCH lines; {problem}")] if problem else []
