"""`<workdir>/manifest.json`: what every stage ran, produced and how it ended.

Format (version 1)::

    {"format": 1, "pipeline": "/abs/pipeline.yaml", "workdir": "/abs/runs/demo",
     "git_commit": "abc123" | null, "git_dirty": bool | null, "tool_versions": {...},
     "created": ISO, "updated": ISO,
     "stages": {"sft": StageRecord, ...}}

A StageRecord holds its kind, the stages it reads from (`upstream`: input slot ->
stage name), status (see engine/status.py), attempts, argv and environment overlay (secrets masked), exit code,
start, end, duration, fingerprint and the inputs it was computed from, outputs
(paths downstream stages use) and artifacts (path, size, sha256 of small files).

The file is rewritten atomically (temp file, fsync, rename) after every change,
so a crash never leaves a half-written manifest.
"""

from __future__ import annotations

import dataclasses
import json
import time
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swiftpipe.core.errors import UserError
from swiftpipe.core.fsio import atomic_write_text
from swiftpipe.engine.status import Status

FORMAT = 1


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


@dataclass
class Artifact:
    """A file or directory a stage produced. `sha256` only for files up to 64 MiB."""

    path: str
    kind: str  # "file" or "dir"
    size: int
    sha256: str | None = None
    files: int | None = None  # for directories


@dataclass
class Attempt:
    started: str
    ended: str | None = None
    status: Status = Status.RUNNING
    exit_code: int | None = None


@dataclass
class StageRecord:
    kind: str = ""
    upstream: dict[str, str] = field(default_factory=dict)  # input slot -> stage name
    status: Status = Status.PENDING
    attempts: list[Attempt] = field(default_factory=list)
    argv: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    exit_code: int | None = None
    started: str | None = None
    ended: str | None = None
    duration_s: float | None = None
    fingerprint: str | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    artifacts: list[Artifact] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    log: str | None = None
    message: str | None = None
    job: dict[str, Any] = field(default_factory=dict)  # the executor's unit of work running it: id, state, ...

    @classmethod
    def from_dict(cls, data: object, where: str = "") -> StageRecord:
        """The record `data` holds; `ShapeError` (naming the key under `where`) when a value has the wrong type."""
        values = check_shape(cls, data, where)
        values["status"] = _status(values.get("status"))
        values["attempts"] = [Attempt(**{**a, "status": _status(a.get("status"))}) for a in values.get("attempts", [])]
        values["artifacts"] = [Artifact(**a) for a in values.get("artifacts", [])]
        return cls(**values)


def _status(value: object) -> Status:
    try:
        return Status(value)
    except ValueError:
        return Status.PENDING


class ShapeError(ValueError):
    """A manifest value of the wrong type, a missing or an unknown key; the message starts with its key."""


_NAMES = {dict: "a mapping", list: "a list", str: "a string", int: "an integer", float: "a number",
          bool: "true or false", type(None): "null"}


def check_shape(cls: type[Any], data: object, where: str) -> dict[str, Any]:
    """`data` as keyword arguments for the dataclass `cls`, each value checked against its field's type.

    Unknown keys of a manifest or a stage record are left out (a later version may add some);
    in an attempt or an artifact, records only swiftpipe writes, they are an error.
    """
    if not isinstance(data, dict):
        raise ShapeError(f"{where}: expected a mapping, got {_name(data)}")
    hints = typing.get_type_hints(cls)
    values = {}
    for key, value in data.items():
        at = f"{where}.{key}" if where else key
        if key in hints:
            values[key] = _checked(hints[key], value, at)
        elif cls in (Attempt, Artifact):
            raise ShapeError(f"{at}: unknown key (expected one of {', '.join(hints)})")
    for f in dataclasses.fields(cls):
        if f.name not in values and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ShapeError(f"{where}.{f.name}: missing" if where else f"{f.name}: missing")
    return values


def _checked(hint: Any, value: object, at: str) -> Any:
    if hint is Any or hint is Status:
        return value  # a status is read leniently (_status)
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    for option in options:
        origin = typing.get_origin(option) or option
        if not _is(value, origin):
            continue
        item = typing.get_args(option)[-1] if origin is list else None
        if isinstance(value, list) and dataclasses.is_dataclass(item) and isinstance(item, type):
            return [check_shape(item, v, f"{at}[{i}]") for i, v in enumerate(value)]
        return value
    wanted = " or ".join(_NAMES.get(typing.get_origin(o) or o, str(o)) for o in options)
    raise ShapeError(f"{at}: expected {wanted}, got {_name(value)}")


def _is(value: object, kind: Any) -> bool:
    if kind is float:
        return type(value) in (int, float)
    return type(value) is kind if kind in (int, bool) else isinstance(value, kind)


def _name(value: object) -> str:
    return _NAMES.get(type(value), type(value).__name__)


@dataclass
class Manifest:
    pipeline: str
    workdir: str
    git_commit: str | None = None
    git_dirty: bool | None = None
    tool_versions: dict[str, str | None] = field(default_factory=dict)
    created: str = field(default_factory=now_iso)
    updated: str = field(default_factory=now_iso)
    stages: dict[str, StageRecord] = field(default_factory=dict)
    format: int = FORMAT

    def stage(self, name: str) -> StageRecord:
        return self.stages.setdefault(name, StageRecord())

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, data: object) -> Manifest:
        """The manifest `data` holds; `ShapeError` naming the key when a value has the wrong type."""
        values = check_shape(cls, data, "")
        stages = values.pop("stages", {})
        return cls(stages={k: StageRecord.from_dict(v, f"stages.{k}") for k, v in stages.items()}, **values)


def manifest_path(workdir: Path) -> Path:
    return workdir / "manifest.json"


def records_dir(workdir: Path) -> Path:
    """Where a stage running in a job of its own writes its record (one writer per file)."""
    return workdir / "records"


def load_manifest(workdir: Path) -> Manifest | None:
    """The manifest of `workdir` with the records jobs wrote since, or None when nothing ran there."""
    manifest = _load(workdir)
    if manifest is not None:
        for name, record in read_records(workdir).items():
            manifest.stages[name] = record
    return manifest


def read_records(workdir: Path) -> dict[str, StageRecord]:
    found = {}
    for path in sorted(records_dir(workdir).glob("*.json")):
        try:
            found[path.stem] = StageRecord.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            continue  # being replaced right now, or not ours: the manifest's copy stands
    return found


def save_record(manifest: Manifest, workdir: Path, name: str) -> None:
    """Write one stage's record to records/<name>.json, atomically (a job's only write)."""
    record = dataclasses.asdict(manifest.stage(name))
    atomic_write_text(records_dir(workdir) / f"{name}.json", json.dumps(record, indent=2, ensure_ascii=False) + "\n")


def fold_records(manifest: Manifest, workdir: Path, names: list[str]) -> None:
    """Take the records of finished jobs into manifest.json and remove their files."""
    for name, record in read_records(workdir).items():
        if name in names:
            manifest.stages[name] = record
    save_manifest(manifest, workdir)
    for name in names:
        (records_dir(workdir) / f"{name}.json").unlink(missing_ok=True)


def _load(workdir: Path) -> Manifest | None:
    path = manifest_path(workdir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: unreadable manifest ({exc}); move it aside to start afresh") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UserError(f"{path}: not a swiftpipe manifest of format {FORMAT}")
    try:
        return Manifest.from_dict(data)
    except ShapeError as exc:
        raise UserError(f"{path} › {exc}; fix it or move the file aside to start afresh") from None


def save_manifest(manifest: Manifest, workdir: Path) -> None:
    """Write atomically: a reader sees the old file or the new one, never a mix."""
    manifest.updated = now_iso()
    atomic_write_text(manifest_path(workdir), manifest.to_json())
