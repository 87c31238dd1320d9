"""Experiments: one record per `swiftpipe run` that ran at least one stage.

Each is written once, to `<workdir>/experiments/<id>.json`, and never rewritten::

    {"format": 1, "id": "exp-20261205-172948-1a2b", "name": "lr-sweep" | null,
     "started": ISO, "ended": ISO (with milliseconds), "outcome": "succeeded" | "failed" | "interrupted",
     "pipeline": "/abs/pipeline.yaml", "profile": "gpu" | null, "overrides": ["k=v", ...],
     "git_commit": "abc123" | null, "git_dirty": bool | null,
     "config": {"stages.sft.args.max_steps": 10, ...},   # the effective config, dotted keys
     "stages": {"sft": StageRun, ...}}                    # the stages this run ran

A StageRun holds the stage's kind, status, fingerprint, duration, outputs (as the manifest has
them) and its headline metrics: a training stage's steps, final train/eval loss and time; an
evaluation's score per dataset and per subset (`dataset:subset`); a select stage's winner, its
value and its margin over the runner-up (its outputs say on what metric, and every candidate's value).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import secrets
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swiftpipe.config import profiles
from swiftpipe.core.argv import MASK, is_secret
from swiftpipe.core.errors import UserError
from swiftpipe.core.fsio import write_new_text
from swiftpipe.engine.kind import CHECKPOINT, SCORES
from swiftpipe.engine.manifest import Manifest, ShapeError, StageRecord, check_shape
from swiftpipe.engine.outputs import Scores
from swiftpipe.engine.pipeline import LoadedPipeline
from swiftpipe.engine.status import Status

FORMAT = 1
OUTCOMES = ("succeeded", "failed", "interrupted")
# What a training stage's manifest metrics are called here.
_TRAINING = {"global_step": "steps", "train_loss": "train_loss", "eval_loss": "eval_loss"}
# The experiment a process runs in, for trackers (set by `swiftpipe run`, inherited by its children).
ENV_ID = "SWIFTPIPE_EXPERIMENT_ID"
ENV_NAME = "SWIFTPIPE_EXPERIMENT_NAME"
# What a select stage's manifest metrics are called here too.
_SELECTED = ("winner", "value", "margin")
_NAME = re.compile(r"[^\x00-\x1f\x7f]+")
_URL_PASSWORD = re.compile(r"(://[^/\s:@]+:)[^/\s@]+@")  # scheme://user:password@host


@dataclass(frozen=True)
class StageRun:
    """One stage as this experiment ran it."""

    kind: str
    status: str
    fingerprint: str | None = None
    duration_s: float | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Experiment:
    """One run: what it was given (config), what it ran and what came out (stages)."""

    id: str
    started: str
    ended: str
    outcome: str
    pipeline: str
    name: str | None = None
    profile: str | None = None
    overrides: list[str] = field(default_factory=list)
    git_commit: str | None = None
    git_dirty: bool | None = None
    config: dict[str, Any] = field(default_factory=dict)
    stages: dict[str, StageRun] = field(default_factory=dict)
    format: int = FORMAT

    def metrics(self) -> dict[str, Any]:
        """Every stage's metrics under `<stage>.<metric>`, in stage order."""
        return {f"{stage}.{key}": value for stage, run in self.stages.items() for key, value in run.metrics.items()}

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, ensure_ascii=False, default=str) + "\n"

    @classmethod
    def from_dict(cls, data: object) -> Experiment:
        """The experiment `data` holds; `ShapeError` naming the key when a value has the wrong type."""
        values = check_shape(cls, data, "")
        stages = values.pop("stages", {})
        return cls(stages={k: StageRun(**check_shape(StageRun, v, f"stages.{k}")) for k, v in stages.items()},
                   **values)


def experiments_dir(workdir: Path) -> Path:
    return workdir / "experiments"


def check_name(name: str | None) -> None:
    """A user's `--name`: one line of text."""
    if name is not None and not _NAME.fullmatch(name):
        raise UserError(f"--name: expected one line of text without control characters, got {name!r}")


def attempt_counts(manifest: Manifest) -> dict[str, int]:
    """How many attempts each stage has; compared after a run, they say which stages it ran."""
    return {name: len(record.attempts) for name, record in manifest.stages.items()}


def new_id(started: float) -> str:
    """A fresh experiment id for a run that began at `started`: `exp-<local time>-<4 hex digits>`."""
    return f"exp-{time.strftime('%Y%m%d-%H%M%S', time.localtime(started))}-{secrets.token_hex(2)}"


@contextlib.contextmanager
def announcing(exp_id: str, name: str | None) -> Iterator[None]:
    """While a run executes, tell its stages (and the processes they start, jobs included) which
    experiment they belong to, before it is written: trackers label their runs with it
    (swiftpipe/tracking.py). The environment is as it was afterwards."""
    saved = {key: os.environ.get(key) for key in (ENV_ID, ENV_NAME)}
    os.environ[ENV_ID] = exp_id
    os.environ.pop(ENV_NAME, None)
    if name:
        os.environ[ENV_NAME] = name
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def announced() -> tuple[str | None, str | None]:
    """(id, name) of the experiment this process runs in, when a `swiftpipe run` announced one."""
    return os.environ.get(ENV_ID) or None, os.environ.get(ENV_NAME) or None


def record_experiment(loaded: LoadedPipeline, manifest: Manifest, before: Mapping[str, int], *, started: float,
                      completed: bool, name: str | None = None, exp_id: str | None = None) -> Experiment | None:
    """Write the experiment of a run that began at `started` (None when it ran no stage).

    `before`: `attempt_counts` as the run began; `completed`: the executor returned normally;
    `exp_id`: the id announced at the start (a new one when it is taken or not given).
    """
    ran = {n: r for n, r in manifest.stages.items() if len(r.attempts) > before.get(n, 0)}
    if not ran:
        return None
    experiment = Experiment(
        id=exp_id or "", started=iso_ms(started), ended=iso_ms(time.time()), outcome=_outcome(ran.values(), completed),
        pipeline=str(loaded.source), name=name, profile=profiles.selected(),
        overrides=[_masked_override(o) for o in loaded.overrides], git_commit=manifest.git_commit,
        git_dirty=manifest.git_dirty, config=masked(flatten(dataclasses.asdict(loaded.config))),
        stages={n: _stage_run(loaded, n, r) for n, r in ran.items()},
    )
    return _write(experiment, experiments_dir(loaded.workdir), started)


def iso_ms(seconds: float) -> str:
    """Local time with milliseconds: two runs in one second still sort in the order they began."""
    local = time.localtime(seconds)
    return f"{time.strftime('%Y-%m-%dT%H:%M:%S', local)}.{int(seconds * 1000) % 1000:03d}{time.strftime('%z', local)}"


def _write(experiment: Experiment, folder: Path, started: float) -> Experiment:
    named = experiment if experiment.id else dataclasses.replace(experiment, id=new_id(started))
    while True:  # two runs in one second: another random suffix
        try:
            write_new_text(folder / f"{named.id}.json", named.to_json())
            return named
        except FileExistsError:
            named = dataclasses.replace(experiment, id=new_id(started))


def _outcome(records: Iterable[StageRecord], completed: bool) -> str:
    statuses = {r.status for r in records}
    if statuses & {Status.FAILED, Status.CRASHED}:
        return "failed"
    if not completed or Status.INTERRUPTED in statuses:
        return "interrupted"
    return "succeeded"


def _stage_run(loaded: LoadedPipeline, name: str, record: StageRecord) -> StageRun:
    produces = loaded.graph.kind(name).produces if name in loaded.graph.nodes else ""
    return StageRun(kind=record.kind, status=str(record.status), fingerprint=record.fingerprint,
                    duration_s=record.duration_s, outputs=dict(record.outputs),
                    metrics=headline_metrics(produces, record))


def headline_metrics(produces: str, record: StageRecord) -> dict[str, Any]:
    """A training stage's steps, final losses and time; an evaluation's scores per dataset and subset."""
    if produces == CHECKPOINT:
        found = {ours: record.metrics[key] for key, ours in _TRAINING.items() if record.metrics.get(key) is not None}
        return found | ({"time_s": record.duration_s} if record.duration_s is not None else {})
    if record.metrics.get("winner") is not None:  # a select stage: what won, its value, by how much
        return {key: record.metrics[key] for key in _SELECTED if record.metrics.get(key) is not None}
    if produces == SCORES and record.status == Status.SUCCEEDED and record.outputs:
        scores = Scores.from_dict(record.outputs)
        found = {dataset: p.get("score") for dataset, p in scores.primary.items() if isinstance(p, dict)}
        for dataset, subsets in scores.subsets.items():
            found.update({f"{dataset}:{subset}": score for subset, score in (subsets or {}).items()})
        return found
    return {}


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as one mapping of dotted keys; lists and scalars are leaves, empty mappings vanish."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{dotted}."))
        else:
            flat[dotted] = value
    return flat


def masked(config: Mapping[str, Any]) -> dict[str, Any]:
    """The config with secrets as ***: values under secret-looking keys, URL passwords.

    The effective config holds what `${VAR}` references resolved to, tokens among them.
    """
    return {key: _mask(key.rsplit(".", 1)[-1], value) for key, value in config.items()}


def _mask(key: str, value: Any) -> Any:
    if is_secret(key) and value not in (None, "") and not isinstance(value, bool | list | dict):
        return MASK
    if isinstance(value, str):
        return _URL_PASSWORD.sub(rf"\1{MASK}@", value)
    if isinstance(value, list):
        return [_mask(key, v) for v in value]
    if isinstance(value, dict):
        return {k: _mask(str(k), v) for k, v in value.items()}
    return value


def _masked_override(override: str) -> str:
    key, eq, value = override.partition("=")
    return f"{key}={_mask(key.rsplit('.', 1)[-1], value)}" if eq else override


def where_now(e: Experiment, workdir: Path) -> Experiment:
    """`e` with each output path that a later run moved aside replaced by where it went.

    A stage that writes again moves its earlier folder or file aside first (`<name>.stale-<time>`,
    `<stem>.stale-<time><suffix>`, fsio.move_aside); the first such move after `e` ended took what
    `e` wrote there. Records are never rewritten, so this is worked out when they are read. The
    times have whole seconds: a move in the second `e` ended is taken for `e`'s own."""
    after = re.sub(r"[-:]", "", e.ended[:19]).replace("T", "-")
    root = workdir.resolve()

    def fix(value: Any) -> Any:
        if isinstance(value, str) and os.path.isabs(value):
            return str(_moved(Path(value), root, after))
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fix(v) for v in value]
        return value

    return dataclasses.replace(e, stages={n: dataclasses.replace(r, outputs=fix(r.outputs))
                                          for n, r in e.stages.items()})


def _moved(path: Path, root: Path, after: str) -> Path:
    for folder in (path, *path.parents):
        if root not in folder.parents:
            break
        aside = _first_aside(folder, after)
        if aside is not None:
            return aside / path.relative_to(folder)
    return path


def _first_aside(path: Path, after: str) -> Path | None:
    forms = {(path.name, ""), (path.stem, path.suffix)}
    patterns = [re.compile(rf"{re.escape(n)}\.stale-(\d{{8}}-\d{{6}})(?:-\d+-\d+)?{re.escape(x)}") for n, x in forms]
    try:
        names = os.listdir(path.parent)
    except OSError:
        return None
    found = [(m[1], name) for name in names for pattern in patterns if (m := pattern.fullmatch(name)) and m[1] > after]
    return path.parent / min(found)[1] if found else None


def shown(value: Any) -> str:
    """One parameter or metric as the tables show it: '-' for none; floats to 4 significant digits,
    small ones as a learning rate is written (5e-3, not 0.005: `--set` reads 5e-3 as a number)."""
    if value is None:
        return "-"
    if isinstance(value, float):
        if value != 0 and abs(value) < 1e-2:
            mantissa, exponent = f"{value:.3e}".split("e")
            return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"
        return f"{value:.4g}"
    return value if isinstance(value, str) else json.dumps(value, default=str)


def list_experiments(workdir: Path) -> list[Experiment]:
    """The workdir's experiments, oldest first."""
    found = [_read(path) for path in sorted(experiments_dir(workdir).glob("exp-*.json"))]
    return sorted(found, key=lambda e: (e.started, e.id))


def _read(path: Path) -> Experiment:
    try:
        return Experiment.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:  # ShapeError is a ValueError
        what = str(exc) if isinstance(exc, ShapeError) else f"unreadable ({exc})"
        raise UserError(f"{path} › {what}; move the file aside") from None
