"""The pipeline.yaml schema's top level. Each stage kind declares its own keys (swiftpipe/kinds/).

Each field's `doc` metadata feeds the README reference, and says what the value must be beyond
its type (`doc("...", at_least=1)`, `nonempty=True`; see config/bounds.py), which the builder
checks. `args` mappings are passed to swift/evalscope verbatim as `--name value`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from swiftpipe.config.bounds import rules
from swiftpipe.config.validate import WORD, Word

Scalar = str | int | float | bool | None
# A value under `args`: scalars, lists (several values) and mappings (sent as JSON).
ArgValue = Any

DataFormat = Literal["auto", "sharegpt", "alpaca", "messages", "dolly", "query-response", "text"]
Backend = Literal["auto", "lmdeploy", "transformers", "vllm"]


# Stage names and the pipeline name: they become folder names, job names and served model names.
NAME = Word(re.compile(r"[A-Za-z][A-Za-z0-9_-]*"), "letters, digits, '-' and '_', starting with a letter")
ONE_LINE = Word(re.compile(r"[^\x00-\x1f\x7f]+"), "a path without line breaks or control characters")


def doc(text: str, *, word: Word | None = None, **checks: Any) -> dict[str, Any]:
    """A field's metadata: its reference text and what its value must be (config/bounds.py `rules`).

    `word`: what each string must look like (a name, a value a scheduler reads).
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
class SweepConfig:
    params: dict[str, Any] = field(metadata=doc(
        "key path -> 2 or more values (`stages.sft.args.learning_rate: [1e-4, 2e-4]`); see Sweeps", nonempty=True))
    method: Literal["grid", "random"] = field(
        default="grid", metadata=doc("grid: every combination, in the order written; random: `samples` of them"))
    samples: int | None = field(default=None, metadata=doc("random: how many variants to draw", at_least=1))
    seed: int = field(default=0, metadata=doc("random: the seed of the draw"))


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
    sweep: SweepConfig | None = field(
        default=None, metadata=doc("variants: the stages a swept key touches, and their readers, copied per variant"))
    tracking: TrackingConfig = field(default_factory=TrackingConfig, metadata=doc("tracking"))
    executor: dict[str, Any] = field(
        default_factory=dict, metadata=doc("where the stages run: `type` and that executor's settings"))
