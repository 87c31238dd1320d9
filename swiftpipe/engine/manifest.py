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
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swiftpipe.engine.status import Status
from swiftpipe.errors import UserError

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
    job: dict[str, Any] = field(default_factory=dict)  # the SLURM job running it: id, state, script

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StageRecord:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["status"] = _status(data.get("status"))
        values["attempts"] = [Attempt(**{**a, "status": _status(a.get("status"))}) for a in data.get("attempts", [])]
        values["artifacts"] = [Artifact(**a) for a in data.get("artifacts", [])]
        return cls(**values)


def _status(value: object) -> Status:
    try:
        return Status(value)
    except ValueError:
        return Status.PENDING


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
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        stages = {k: StageRecord.from_dict(v) for k, v in data.get("stages", {}).items()}
        known = {f.name for f in dataclasses.fields(cls)} - {"stages"}
        return cls(stages=stages, **{k: v for k, v in data.items() if k in known})


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
    return Manifest.from_dict(data)


def save_manifest(manifest: Manifest, workdir: Path) -> None:
    """Write atomically: a reader sees the old file or the new one, never a mix."""
    manifest.updated = now_iso()
    atomic_write_text(manifest_path(workdir), manifest.to_json())


def atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
