"""Whether a stage runs, and why: fingerprints, records and what its inputs hold right now."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from swiftpipe.engine.fingerprint import changed_keys, fingerprint
from swiftpipe.engine.manifest import StageRecord
from swiftpipe.engine.stage import StagePlan
from swiftpipe.engine.status import Status


@dataclass
class Decision:
    name: str
    run: bool
    reason: str
    plan: StagePlan
    fingerprint: str | None = None
    waits: bool = False  # a server that starts only when a stage after it needs it


def rerun_reason(record: StageRecord | None, plan: StagePlan, fp: str, force: bool) -> str | None:
    """Why a planned stage must run, or None when its last success still stands (before `stale`)."""
    if force:
        return "forced"
    if record is None or record.status == Status.PENDING or record.fingerprint is None:
        return "never ran"
    if not record.status.usable:
        return f"last attempt {record.status}"
    if record.fingerprint != fp:
        keys = changed_keys(record.inputs, plan.inputs)
        return "inputs changed: " + (", ".join(keys) if keys else "fingerprint")
    return None


def decide(
    name: str, plan: StagePlan, record: StageRecord | None, force: bool, stale: Callable[[StageRecord], str | None]
) -> Decision:
    """`stale` is the stage's own verdict on a record that still stands (an artifact gone, a server dead)."""
    fp = fingerprint(plan.inputs)
    reason = rerun_reason(record, plan, fp, force)
    if reason is None and record is not None:
        reason = stale(record)
    if reason is None:
        return Decision(name, False, "up to date", plan, fp)
    return Decision(name, True, reason, plan, fp)
