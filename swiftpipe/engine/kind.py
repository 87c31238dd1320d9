"""What a stage kind declares about itself: its config, its inputs, its reserved arguments.

Each kind lives in one module under swiftpipe/kinds/ that defines a module-level `KIND`;
the registry (swiftpipe/kinds/__init__.py) maps the kind's name to that module. The graph
builder, the config checks, `status` and the reference docs read only these facts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from swiftpipe.engine.launch import LaunchConfig
    from swiftpipe.engine.stage import Stage

# What a stage hands downstream; slots accept some of these.
DATA = "data"  # converted train/val files
CHECKPOINT = "checkpoint"  # a training run: LoRA adapters or full weights
MODEL = "model"  # a merged model directory
SERVER = "server"  # an OpenAI-compatible endpoint
SCORES = "scores"
ANSWERS = "answers"


@dataclass(frozen=True)
class Slot:
    """One input of a stage, filled from `from:` or, when left out, the nearest earlier fit."""

    name: str
    accepts: tuple[str, ...]  # what the upstream stage must produce
    required: bool = True
    nearest: bool = True  # without `from:`, take the nearest earlier stage that fits
    merge: bool = False  # a LoRA checkpoint is merged first, by an export stage of its own
    missing: str = ""  # the message when a required slot stays empty (default: names the kinds)


@dataclass(frozen=True)
class Implied:
    """A node a stage needs that swiftpipe adds itself (e.g. the base model's evaluation).

    Nodes with equal kind and config are one node, shared by every stage that implies them.
    """

    slot: str
    kind: str
    config: Any
    suffix: str  # the node is named `<first reader>-<suffix>`
    why: str


@dataclass(frozen=True)
class Problem:
    """A config problem of one stage: `key` is relative to the stage (`args.port`, or '')."""

    key: str
    message: str


def _no_problems(cfg: Any) -> list[Problem]:
    return []


def _implies_nothing(cfg: Any, upstream: Mapping[str, Any]) -> list[Implied]:
    return []


def _one_process(cfg: Any) -> LaunchConfig | None:
    return None


@dataclass(frozen=True)
class Kind:
    name: str
    doc: str
    config: type[Any]  # a dataclass; its fields are the stage's keys in pipeline.yaml
    stage: Callable[[], Stage]
    produces: str
    slots: Callable[[Any], tuple[Slot, ...]] = lambda cfg: ()
    # `args:` names swiftpipe sets itself, with what to write instead.
    reserved: Mapping[str, str] = field(default_factory=dict)
    # True when `args:` goes to ms-swift (whose renamed 3.x names are refused).
    swift_args: bool = False
    # True when the output does not outlive the run (a server): started only when needed.
    ephemeral: bool = False
    check: Callable[[Any], list[Problem]] = _no_problems
    # Nodes this stage needs besides its slots; `upstream` maps slots to their stages' configs.
    implies: Callable[[Any, Mapping[str, Any]], list[Implied]] = _implies_nothing
    # For `status`: the outputs worth a glance, first present wins.
    key_outputs: tuple[str, ...] = ()
    # Training kinds: whether this config trains an adapter that must be merged to be a model.
    adapter: Callable[[Any], bool] | None = None
    # Kinds swiftpipe adds to the graph itself (the base-model evaluation), not written by users.
    internal: bool = False
    # The stage's `launch:` (machines and processes) for executors to place it; None: one process.
    launch: Callable[[Any], LaunchConfig | None] = _one_process

    @property
    def trains(self) -> bool:
        """A training run (pt, sft, rlhf): loss chart and results row in the report, the tracker's
        `report_to`, SwanLab's setup. Whatever produces checkpoints trains."""
        return self.produces == CHECKPOINT

    @property
    def serves(self) -> bool:
        """An OpenAI-compatible server (deploy): one port per address in a pipeline."""
        return self.produces == SERVER


class Kinds(Protocol):
    """The registry of kinds (swiftpipe/kinds/__init__.py), handed to the engine by whoever loads a
    pipeline, so the engine never imports the kinds themselves."""

    def get(self, name: str) -> Kind:
        """The kind called `name` (KeyError when there is none)."""
        ...

    def user_kinds(self) -> list[str]:
        """The kinds a pipeline may name in `kind:`, in the order the reference lists them."""
        ...

    def merger(self) -> str:
        """The kind swiftpipe adds to merge a LoRA checkpoint into a model (a Slot with merge=True)."""
        ...

    def section(self) -> str:
        """The kind of the top-level `data:` section (a stage of that kind named after it)."""
        ...
