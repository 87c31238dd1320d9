"""What a stage produces, typed: one small frozen dataclass per thing a kind hands downstream.

The manifest keeps them as JSON dicts under the same keys it always had (old workdirs load,
readers of manifest.json see no change): `to_dict()` writes a record's `outputs`,
`from_dict()` reads one back, ignoring keys it does not know. A reader that plans before an
upstream stage has run gets the placeholders `ctx.input()` fills in (`<sft.run_dir>`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field
from typing import Any, ClassVar, TypeGuard, TypeVar

from swiftpipe.engine.kind import ANSWERS, CHECKPOINT, DATA, MODEL, SCORES, SERVER

OutputsT = TypeVar("OutputsT", bound="Outputs")


class Pending(str):
    """An output of an upstream stage that does not exist yet; shown as `<sft.run_dir>`."""


# A field written only when set (the key was absent from such records before).
EXTRA = {"omit_none": True}


@dataclass(frozen=True)
class Outputs:
    """The base of every output type; `produces` is the name slots accept (engine/kind.py)."""

    produces: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        """The record's JSON `outputs`: every field, less unset extras."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None and f.metadata.get("omit_none"):
                continue
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls: type[OutputsT], values: Mapping[str, Any], pending: str | None = None) -> OutputsT:
        """Read a record's outputs; a missing (or null) required key raises ValueError.

        With `pending` (the upstream stage's name), a reader planning ahead gets the placeholder
        `<pending.key>` instead for a missing required key and for an unset path (`val`)."""
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            value = values.get(f.name)
            if value is not None:
                kwargs[f.name] = value
            elif f.default is MISSING and f.default_factory is MISSING:
                if pending is None:
                    raise ValueError(f"{cls.__name__}: no {f.name}")
                kwargs[f.name] = Pending(f"<{pending}.{f.name}>")
            elif pending is not None and f.default is None and not f.metadata.get("omit_none"):
                kwargs[f.name] = Pending(f"<{pending}.{f.name}>")  # a path not known (yet)
        return cls(**kwargs)


def known(value: str | None) -> TypeGuard[str]:
    """Set, and not a placeholder for what does not exist yet."""
    return value is not None and not isinstance(value, Pending)


@dataclass(frozen=True)
class DataSplits(Outputs):
    """A data stage's converted files (swiftpipe/kinds/data.py)."""

    produces: ClassVar[str] = DATA
    train: str
    val: str | None = None
    rejects: str | None = None
    report: str | None = None


@dataclass(frozen=True)
class ModelOutputs(Outputs):
    """Anything a model can be loaded from: `model_dir`, identified by the digest of its weights."""

    model_dir: str
    model_digest: str


@dataclass(frozen=True)
class TrainingRun(ModelOutputs):
    """A training stage's run folder and checkpoints; `model_dir` is the last checkpoint (a whole
    model only with tuner_type: full; a LoRA one is merged first). Losses are in `logging`."""

    produces: ClassVar[str] = CHECKPOINT
    run_dir: str
    last_checkpoint: str
    logging: str
    best_checkpoint: str | None = None


@dataclass(frozen=True)
class Model(ModelOutputs):
    """A merged model (export): the LoRA `checkpoint` it came from."""

    produces: ClassVar[str] = MODEL
    checkpoint: str


@dataclass(frozen=True)
class Served(Outputs):
    """A running server (deploy): where it listens, its process, and what it serves.

    The process fields are those of swiftpipe.serving.server.ServerInfo; `serving_key` digests
    what shapes a reader's scores (not the port), so a move to another port keeps them."""

    produces: ClassVar[str] = SERVER
    url: str
    api_url: str
    served_model_name: str
    serving_key: str
    model: str = ""
    backend: str = ""
    keyed: bool = False
    host: str = ""
    port: int = 0
    pid: int = 0
    pgid: int = 0
    command: list[str] = field(default_factory=list)
    cmdline: list[str] = field(default_factory=list)
    log: str = ""
    started: str = ""
    server_pid: int | None = None
    running: bool = True
    kept: bool = False


@dataclass(frozen=True)
class Scores(Outputs):
    """An evaluation's scores as evalscope reported them (swiftpipe/evaluation/run.py).

    `primary` maps a dataset to {"metric", "score"}; `failed` names the datasets that did not
    finish; the comparison files exist with compare_base; `server` is base-eval's own server."""

    produces: ClassVar[str] = SCORES
    scores: dict[str, Any] = field(default_factory=dict)
    primary: dict[str, Any] = field(default_factory=dict)
    subsets: dict[str, Any] = field(default_factory=dict)
    reports: list[str] = field(default_factory=list)
    work_dir: str = ""
    dataset_keys: dict[str, str] = field(default_factory=dict)
    benchmarks: dict[str, Any] | None = field(default=None, metadata=EXTRA)
    compare_json: str | None = field(default=None, metadata=EXTRA)
    compare_md: str | None = field(default=None, metadata=EXTRA)
    flags: list[str] | None = field(default=None, metadata=EXTRA)
    failed: dict[str, str] | None = field(default=None, metadata=EXTRA)
    server: dict[str, Any] | None = field(default=None, metadata=EXTRA)


@dataclass(frozen=True)
class Answers(Outputs):
    """Batch inference (infer): the JSONL file, its row count and a few (query, response) rows."""

    produces: ClassVar[str] = ANSWERS
    results: str
    rows: int | None = field(default=None, metadata=EXTRA)
    sample: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Selection(Model):
    """A select stage's pick (swiftpipe/kinds/select.py): the winner's model, read as a Model by the
    stages after it, and why it won. `winner` is the candidate stage, `variant` its sweep values as its
    name shows them, `model_stage` the stage whose model it is; `candidates` maps each to its value."""

    winner: str = ""
    metric: str = ""
    mode: str = ""
    value: float | None = field(default=None, metadata=EXTRA)
    runner_up: str | None = field(default=None, metadata=EXTRA)
    margin: float | None = field(default=None, metadata=EXTRA)
    variant: str | None = field(default=None, metadata=EXTRA)
    model_stage: str = ""
    candidates: dict[str, float | None] = field(default_factory=dict)
    selection: str = ""


TYPES: dict[str, type[Outputs]] = {t.produces: t for t in (DataSplits, TrainingRun, Model, Served, Scores, Answers)}


def read(produces: str, values: Mapping[str, Any], stage: str) -> Outputs:
    """A record's outputs as the type its kind produces; missing keys are placeholders."""
    return TYPES[produces].from_dict(values, pending=stage)
