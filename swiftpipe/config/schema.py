"""The pipeline.yaml schema's top level. Each stage kind declares its own keys (swiftpipe/kinds/).

Each field's `doc` metadata feeds the README reference, and says what the value must be beyond
its type (`doc("...", at_least=1)`, `nonempty=True`; see config/bounds.py), which the builder
checks. `args` mappings are passed to swift/evalscope verbatim as `--name value`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from swiftpipe.config.bounds import rules
from swiftpipe.config.validate import WORD, Word

if TYPE_CHECKING:
    from swiftpipe.engine.graph import Graph

Scalar = str | int | float | bool | None
# A value under `args`: scalars, lists (several values) and mappings (sent as JSON).
ArgValue = Any

DataFormat = Literal["auto", "sharegpt", "alpaca", "messages", "dolly", "query-response", "text"]
Backend = Literal["auto", "lmdeploy", "transformers", "vllm"]


# Stage names and the pipeline name: they become folder names, job names and served model names.
NAME = Word(re.compile(r"[A-Za-z][A-Za-z0-9_-]*"), "letters, digits, '-' and '_', starting with a letter")
# sbatch reads #SBATCH lines itself: whitespace separates options, quotes and '\' group and escape,
# '#' ends the line, and a line break would make the rest a shell line of the job. Shell characters
# are refused too: no sbatch value needs them, and a value must never look like a command.
_SBATCH_CHAR = r"[^\s\x00-\x1f\x7f'\"\\#$`;<>]"
SBATCH_RULE = "without spaces, quotes, '\\', '#', '$', '`', ';', '<', '>' or line breaks"
SBATCH_VALUE = Word(re.compile(f"{_SBATCH_CHAR}+"), f"one sbatch value {SBATCH_RULE}")
SBATCH_OPTION = Word(re.compile(f"--[A-Za-z][A-Za-z0-9-]*(={_SBATCH_CHAR}*)?"),
                     f"one sbatch option written --name or --name=value, {SBATCH_RULE}")
SBATCH_PATH = Word(re.compile(f"{_SBATCH_CHAR}+"), f"a path {SBATCH_RULE}")
ONE_LINE = Word(re.compile(r"[^\x00-\x1f\x7f]+"), "a path without line breaks or control characters")


def doc(text: str, *, word: Word | None = None, **checks: Any) -> dict[str, Any]:
    """A field's metadata: its reference text and what its value must be (config/bounds.py `rules`).

    `word`: what each string must look like (a name, a value sbatch reads).
    """
    meta = {"doc": text, **rules(**checks)}
    return meta if word is None else {**meta, WORD: word}


@dataclass(frozen=True)
class TrackingConfig:
    backend: Literal["none", "swanlab"] = field(default="none", metadata=doc("experiment tracker"))
    project: str = field(default="swiftpipe", metadata=doc("tracker project", nonempty=True))
    experiment: str | None = field(default=None, metadata=doc("defaults to the pipeline name"))
    mode: Literal["local", "cloud"] = field(
        default="local", metadata=doc("swanlab mode; the token comes only from SWANLAB_API_KEY")
    )


@dataclass(frozen=True)
class ExecutorConfig:
    type: Literal["local", "slurm"] = field(default="local", metadata=doc("local, or slurm: one sbatch job per stage"))
    partition: str | None = field(default=None, metadata=doc("sbatch --partition", word=SBATCH_VALUE))
    account: str | None = field(default=None, metadata=doc("sbatch --account", word=SBATCH_VALUE))
    time: str | None = field(default=None, metadata=doc("sbatch --time, e.g. 04:00:00", word=SBATCH_VALUE))
    qos: str | None = field(default=None, metadata=doc("sbatch --qos", word=SBATCH_VALUE))
    extra_args: list[str] = field(
        default_factory=list, metadata=doc("more sbatch options, verbatim", word=SBATCH_OPTION)
    )


@dataclass(frozen=True)
class Pipeline:
    name: str = field(metadata=doc("pipeline name; used for the workdir and served model name",
                                                   nonempty=True, word=NAME))
    model: str = field(
        metadata=doc("base model: a local directory (or a hub id when offline: false)", nonempty=True)
    )
    model_type: str | None = field(default=None, metadata=doc("ms-swift --model_type"))
    template: str | None = field(default=None, metadata=doc("ms-swift --template"))
    workdir: str | None = field(default=None, metadata=doc("defaults to runs/<name>", word=ONE_LINE))
    offline: bool = field(default=True, metadata=doc("forbid hub downloads in every stage"))
    env: dict[str, str] = field(default_factory=dict, metadata=doc("environment for every stage"))
    data: dict[str, Any] | None = field(default=None, metadata=doc("the data stage (a stage named data)"))
    stages: dict[str, Any] = field(
        default_factory=dict, metadata=doc("the stages, in order: name -> kind, from and the kind's keys")
    )
    tracking: TrackingConfig = field(default_factory=TrackingConfig, metadata=doc("tracking"))
    executor: ExecutorConfig = field(default_factory=ExecutorConfig, metadata=doc("where the stages run"))


@dataclass(frozen=True)
class LoadedPipeline:
    """A validated pipeline, its stage graph, and where it came from (not YAML keys)."""

    config: Pipeline
    graph: Graph
    source: Path  # the pipeline file, absolute
    display_name: str  # the file as the user named it, for messages
    overrides: tuple[str, ...] = ()

    @property
    def base_dir(self) -> Path:
        return self.source.parent

    def path(self, value: str) -> Path:
        """Resolve a path from the config relative to the pipeline file."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else (self.base_dir / p).resolve()

    @property
    def workdir(self) -> Path:
        return self.path(self.config.workdir or f"runs/{self.config.name}")
