"""What the report shows, as plain data: collect.py fills it; render, markdown and plots draw it."""

from __future__ import annotations

from dataclasses import dataclass, field

from swiftpipe.engine.kind import Kind
from swiftpipe.engine.manifest import StageRecord
from swiftpipe.engine.outputs import Outputs, read
from swiftpipe.engine.status import Status
from swiftpipe.kinds import REGISTRY, get_kind
from swiftpipe.report.exptable import ExpTable


def kind_of(name: str, record: StageRecord) -> str:
    """A record's kind; manifests written before stages had kinds name the stage after it."""
    return record.kind or name


def declared(name: str, record: StageRecord) -> Kind | None:
    """What a record's kind declares about itself; None for a kind this version does not know."""
    kind = kind_of(name, record)
    return get_kind(kind) if kind in REGISTRY else None


def outputs_of(name: str, record: StageRecord) -> Outputs | None:
    """A record's outputs, typed by its kind; what is missing reads as Pending (engine/outputs.py)."""
    kind = declared(name, record)
    return read(kind.produces, record.outputs, name) if kind is not None else None


def trains(name: str, record: StageRecord) -> bool:
    kind = declared(name, record)
    return kind is not None and kind.trains


def usable(record: StageRecord) -> bool:
    # Tests and old code may hold the status as a plain string; Status is a str enum.
    return record.status in (Status.SUCCEEDED, Status.SKIPPED)


@dataclass(frozen=True)
class StageRow:
    name: str
    kind: str
    upstream: dict[str, str]  # input slot -> stage name
    status: str
    started: str | None
    duration_s: float | None
    attempts: int
    log: str | None  # relative to the report folder
    message: str | None


@dataclass(frozen=True)
class ScoreRow:
    dataset: str
    metric: str
    finetuned: float | None
    base: float | None

    @property
    def delta(self) -> float | None:
        return None if self.finetuned is None or self.base is None else self.finetuned - self.base


@dataclass(frozen=True)
class EvalTable:
    """One eval stage's primary score per dataset, next to its base-eval upstream's when it has one.

    A failed eval stage shows the datasets that finished; `flags` name the ones that did not."""

    stage: str
    label: str  # the variant: the training stage it evaluates, or the eval stage's own name
    base_stage: str | None
    rows: list[ScoreRow]
    flags: list[str]
    subsets: list[ScoreRow] = field(default_factory=list)  # per subject: dataset "<dataset> / <subject>"
    failed: bool = False

    @property
    def compared(self) -> bool:
        return any(r.base is not None for r in self.rows)


@dataclass(frozen=True)
class VariantRow:
    dataset: str
    metric: str
    values: list[float | None]  # one per VariantTable column


@dataclass(frozen=True)
class VariantTable:
    """(dataset, metric) pairs scored by two or more eval stages: base column(s), then one per variant."""

    columns: list[str]
    base_columns: int  # how many of `columns` are base models
    rows: list[VariantRow]


@dataclass(frozen=True)
class ResultRow:
    """One line of the results table: a variant's training, and one dataset's base vs fine-tuned
    (`score` None: a training stage no evaluation reads, shown with its training alone)."""

    variant: str
    steps: int | None
    final_loss: float | None
    train_s: float | None
    score: ScoreRow | None


@dataclass(frozen=True)
class LossCurve:
    stage: str
    train: list[tuple[int, float]]
    eval: list[tuple[int, float]]


@dataclass(frozen=True)
class InferSummary:
    stage: str
    rows: int | None
    results: str | None  # the JSONL file, relative to the report folder
    sample: list[tuple[str, str]]  # (query, response)
    kind: str = ""  # a stage named after its kind is not named in headings


@dataclass(frozen=True)
class DataRows:
    """A data stage's accounting: every row in is either out (train/val) or rejected."""

    stage: str
    rows_in: int
    train: int
    val: int
    rejected: int
    reasons: dict[str, int]
    invariant_ok: bool
    kind: str = ""  # a stage named after its kind is not named in headings


@dataclass
class ReportData:
    title: str
    pipeline: str
    workdir: str
    generated: str
    git: str | None
    versions: dict[str, str | None]
    stages: list[StageRow]  # the manifest's (topological) order
    evals: list[EvalTable] = field(default_factory=list)
    variants: VariantTable | None = None
    results: list[ResultRow] = field(default_factory=list)
    losses: list[LossCurve] = field(default_factory=list)  # one per training stage with a log
    infers: list[InferSummary] = field(default_factory=list)
    data: list[DataRows] = field(default_factory=list)
    servers: list[tuple[str, str]] = field(default_factory=list)  # (deploy stage, "running at URL"/"stopped")
    links: list[tuple[str, str]] = field(default_factory=list)  # (label, relative path)
    experiments: ExpTable | None = None  # the workdir's experiments (None: none, or unreadable)
