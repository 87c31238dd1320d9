"""The sbatch script of one job: its resources, and the swiftpipe command that runs its stages.

The job runs swiftpipe itself (`swiftpipe run FILE --job STAGES`), on the node SLURM gives it,
with the environment of the submitting shell (sbatch's default --export=ALL), so the stage
runs and is recorded exactly as it would be locally. Scripts stay under <workdir>/slurm/.

The config refuses values that do not fit an #SBATCH line (executors/slurm/config.py SBATCH_VALUE);
`render` does not rely on that: it quotes what sbatch can read back quoted and refuses the rest.
"""

from __future__ import annotations

import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from swiftpipe.core.errors import UserError
from swiftpipe.engine.pipeline import LoadedPipeline
from swiftpipe.executors.slurm.config import SlurmResources, SlurmSettings

# sbatch splits an #SBATCH line at whitespace, groups with quotes, escapes with '\' and stops at an
# unquoted '#'; nothing lets a value span lines, and bash would run what follows a line break.
_PLAIN = re.compile(r"[^\s'\"\\#]*")
_BREAK = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


@dataclass(frozen=True)
class Job:
    """One sbatch job: a stage, or a server stage with the stages that read it."""

    name: str  # the first stage's name; the script is <workdir>/slurm/<name>.sbatch
    stages: tuple[str, ...]
    resources: SlurmResources
    nodes: int = 1  # the largest launch.nnodes of its stages

    def script_path(self, workdir: Path) -> Path:
        return workdir / "slurm" / f"{self.name}.sbatch"


def job_name(loaded: LoadedPipeline, job: Job) -> str:
    return f"swiftpipe-{loaded.config.name}-{job.name}"


def render(loaded: LoadedPipeline, job: Job) -> str:
    ex: SlurmSettings = loaded.executor
    res = job.resources
    out = loaded.workdir / "slurm" / f"{job.name}.%j.out"
    options = [f"--job-name={job_name(loaded, job)}", f"--output={out}", "--open-mode=append", "--requeue",
               f"--nodes={job.nodes}", "--ntasks-per-node=1"]
    for flag, value in (("--partition", ex.partition), ("--account", ex.account), ("--qos", ex.qos),
                        ("--time", res.time or ex.time), ("--gpus-per-node", res.gpus_per_node),
                        ("--cpus-per-task", res.cpus_per_task), ("--mem", res.mem)):
        if value is not None:
            options.append(f"{flag}={value}")
    options += ex.extra_args
    lines = ["#!/bin/bash", _comment(f"# swiftpipe: stages {', '.join(job.stages)} of {loaded.display_name}")]
    lines += [f"#SBATCH {header_option(o, job.script_path(loaded.workdir))}" for o in options]
    lines += ["set -e", f"cd {shlex.quote(str(loaded.base_dir))}", "exec " + shlex.join(command(loaded, job))]
    return "\n".join(lines) + "\n"


def header_option(option: str, script: Path) -> str:
    """`option` (`--name=value`) as written after #SBATCH so that sbatch reads back exactly it."""
    if _BREAK.search(option):
        raise UserError(f"{script}: cannot write {option!r} into an #SBATCH line: it holds a line break "
                        "or a control character")
    name, eq, value = option.partition("=")
    if _PLAIN.fullmatch(option):
        return option
    return f"{name}={_quoted(value)}" if eq and _PLAIN.fullmatch(name) else _quoted(option)


def _quoted(text: str) -> str:
    # Double quotes with '\' escapes: read back alike by sbatch's old parser (double quotes only)
    # and its new one (both kinds); '#' is escaped as the old one ends the line at it even in quotes.
    return '"' + re.sub(r'(["\\#])', r"\\\1", text) + '"'


def _comment(line: str) -> str:
    """A comment line with any line break in it written as an escape, so it stays one line."""
    return _BREAK.sub(lambda m: ascii(m.group())[1:-1], line)


def command(loaded: LoadedPipeline, job: Job) -> list[str]:
    from swiftpipe.config import profiles

    argv = [sys.executable, "-m", "swiftpipe", "run", str(loaded.source)]
    if profiles.selected():  # the job must load the pipeline exactly as the submitting run did
        argv += ["--profile", str(profiles.selected())]
    for override in loaded.overrides:
        argv += ["--set", override]
    return [*argv, "--job", ",".join(job.stages)]
