"""Why a stage runs: never ran, its last attempt failed, its inputs changed, its output is gone, forced."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from swiftpipe.engine.artifacts import describe, stale_reason
from swiftpipe.engine.decide import Decision, decide
from swiftpipe.engine.fingerprint import fingerprint
from swiftpipe.engine.manifest import StageRecord
from swiftpipe.engine.stage import StagePlan
from swiftpipe.engine.status import Status

ARGV = ["swift", "sft", "--model", "m", "--learning_rate", "1e-4", "--seed", "1"]
INPUTS: dict[str, Any] = {"argv": ARGV, "model": {"config.json": "abc"}}


def done(inputs: dict[str, Any] = INPUTS, status: Status = Status.SUCCEEDED, **more: Any) -> StageRecord:
    """The record of an attempt that ran on `inputs` and ended `status`."""
    return StageRecord(kind="sft", status=status, fingerprint=fingerprint(inputs), inputs=inputs, **more)


def fresh(record: StageRecord) -> str | None:
    return None


def why(record: StageRecord | None, inputs: dict[str, Any] = INPUTS, force: bool = False) -> tuple[bool, str]:
    decision = decide("sft", StagePlan(ARGV, inputs=inputs), record, force, fresh)
    return decision.run, decision.reason


def test_a_stage_that_never_ran_runs() -> None:
    assert why(None) == (True, "never ran")
    assert why(StageRecord(status=Status.PENDING)) == (True, "never ran")
    assert why(StageRecord(status=Status.SUCCEEDED, fingerprint=None)) == (True, "never ran")


def test_a_stage_whose_last_attempt_did_not_succeed_runs_and_says_how_it_ended() -> None:
    assert why(done(status=Status.FAILED)) == (True, "last attempt failed")
    assert why(done(status=Status.INTERRUPTED)) == (True, "last attempt interrupted")
    assert why(done(status=Status.CRASHED)) == (True, "last attempt crashed")


def test_an_up_to_date_stage_keeps_its_fingerprint() -> None:
    decision = decide("sft", StagePlan(ARGV, inputs=INPUTS), done(status=Status.SKIPPED), False, fresh)
    assert decision == Decision("sft", False, "up to date", decision.plan, fingerprint(INPUTS))


def test_changed_inputs_name_the_changed_flag() -> None:
    argv = ["swift", "sft", "--model", "m", "--learning_rate", "2e-4", "--seed", "1", "--max_steps", "5"]
    assert why(done(), {**INPUTS, "argv": argv}) == (True, "inputs changed: --learning_rate, --max_steps")


def test_changed_inputs_name_the_input_and_the_fingerprint_when_nothing_else_tells() -> None:
    assert why(done(), {**INPUTS, "model": {"config.json": "def"}}) == (True, "inputs changed: model")
    record = done()
    record.inputs = {}  # an older record that kept only its fingerprint
    record.fingerprint = "0" * 64
    assert why(record, {}) == (True, "inputs changed: fingerprint")


def test_a_missing_artifact_makes_a_stage_that_is_otherwise_up_to_date_run(tmp_path: Path) -> None:
    out = tmp_path / "train.jsonl"
    out.write_text("row\n")
    record = done(artifacts=[describe(out)])
    out.unlink()
    decision = decide("sft", StagePlan(ARGV, inputs=INPUTS), record, False, lambda r: stale_reason(r.artifacts))
    assert (decision.run, decision.reason) == (True, f"{out} is missing or changed")


def test_forced_wins_and_asks_nothing_else() -> None:
    def never(record: StageRecord) -> str | None:
        raise AssertionError("a forced stage is not checked for staleness")

    decision = decide("sft", StagePlan(ARGV, inputs=INPUTS), done(), True, never)
    assert (decision.run, decision.reason, decision.fingerprint) == (True, "forced", fingerprint(INPUTS))


def test_staleness_is_asked_only_of_a_record_that_still_stands() -> None:
    asked: list[StageRecord] = []

    def stale(record: StageRecord) -> str | None:
        asked.append(record)
        return "server is gone"

    record = done()
    assert decide("sft", StagePlan(ARGV, inputs=INPUTS), record, False, stale).reason == "server is gone"
    assert decide("sft", StagePlan(ARGV, inputs=INPUTS), done(status=Status.FAILED), False, stale).reason == (
        "last attempt failed")
    assert asked == [record]
