"""Attempts whose run died: a `running` record nobody runs any more is an interrupted attempt.

`swiftpipe run` ends every attempt it starts (succeeded, failed, interrupted, crashed), but a
run killed with SIGKILL, by the OOM killer or by a lost node ends none: its records stay
`running`. The next run holds the workdir's lock, so no other run can own them; it marks
them interrupted (naming the dead run's PID from the lock file), and a training stage then
continues from the newest complete checkpoint of the recorded run folder, like after Ctrl-C.
`plan` takes no lock: it asks whether the lock's owner still lives (PID and process start
time) and shows the same verdict without writing anything.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from swiftpipe.core import console
from swiftpipe.engine.lock import Owner, read_owner
from swiftpipe.engine.manifest import Manifest, StageRecord
from swiftpipe.engine.status import Status


def died_message(owner: Owner | None) -> str:
    """The record's message for an attempt whose run died."""
    who = f" (pid {owner.pid})" if owner is not None else ""
    return f"interrupted: the run that owned it{who} died"


def orphaned(manifest: Manifest) -> list[str]:
    """Stages whose last attempt is still marked running."""
    return [name for name, record in manifest.stages.items() if record.status == Status.RUNNING]


def mark_died(manifest: Manifest, owner: Owner | None) -> list[str]:
    """Mark every `running` record interrupted, say so, and return their names (not saved here).

    The attempt's end is the manifest's last update: the last sign of life of that run.
    """
    names = orphaned(manifest)
    message = died_message(owner)
    for name in names:
        _end(manifest.stages[name], manifest.updated, message)
        console.notice(f"{name}: {message}; its attempt is recorded as interrupted")
    return names


def mark_interrupted(manifest: Manifest, stages: list[str], message: str) -> list[str]:
    """Of `stages`, those still `running` belong to an attempt that was killed (an executor's unit
    of work that starts again says why in `message`): interrupted, so training resumes."""
    names = [n for n in stages if n in manifest.stages and manifest.stages[n].status == Status.RUNNING]
    for name in names:
        _end(manifest.stages[name], manifest.updated, message)
        console.notice(f"{name}: {message}; its attempt is recorded as interrupted")
    return names


def recover_for_plan(manifest: Manifest, workdir: Path) -> list[str]:
    """What `plan` shows: `running` records of a run that is gone count as interrupted (in memory)."""
    if not orphaned(manifest):
        return []
    owner = read_owner(workdir)
    if owner is not None and owner.alive():
        return []  # that run is still going: its records really are running
    return mark_died(manifest, owner)


def _end(record: StageRecord, ended: str, message: str) -> None:
    record.status, record.message, record.ended = Status.INTERRUPTED, message, ended
    record.duration_s = _seconds(record.started, ended)
    if record.attempts:
        attempt = record.attempts[-1]
        attempt.status, attempt.ended = Status.INTERRUPTED, ended


def _seconds(started: str | None, ended: str) -> float | None:
    try:
        fmt = "%Y-%m-%dT%H:%M:%S%z"
        return (datetime.strptime(ended, fmt) - datetime.strptime(started or "", fmt)).total_seconds()
    except ValueError:
        return None
