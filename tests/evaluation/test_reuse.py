"""What a failed evaluation leaves for the next attempt: one key per dataset, and what is carried over."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from swiftpipe.engine.manifest import StageRecord
from swiftpipe.engine.status import Status
from swiftpipe.evaluation import reuse
from tests.evaluation.conftest import attempts, eval_context, write_report

MCQ = {"local_path": "/d/mcq", "filters": {"remove_until": "</think>"}}
QA = {"local_path": "/d/qa", "metric_list": ["Rouge"]}


def inputs(**changes: Any) -> dict[str, Any]:
    """A plan's inputs as the eval kind writes them (evalcommand.shaping under `shaping`)."""
    shaping = {"datasets": {"general_mcq": MCQ, "general_qa": QA}, "model": "tiny", "batch_size": 4,
               "generation_config": {"temperature": 0.0}, "limit": 5, "keyed": False, "ignore_errors": False,
               "args": {}}
    base: dict[str, Any] = {"shaping": shaping, "served": {"model": "/m", "backend": "transformers"},
                            "data": {"general_mcq": "d-mcq", "general_qa": "d-qa"}, "evalscope": "1.14.1"}
    for key, value in changes.items():
        if key in shaping:
            shaping[key] = value
        else:
            base[key] = value
    return base


def keys(**changes: Any) -> dict[str, str]:
    return reuse.dataset_keys(inputs(**changes), ["general_mcq", "general_qa"])


def test_keys_are_sha256_digests_that_do_not_change_by_themselves() -> None:
    first = keys()
    assert list(first) == ["general_mcq", "general_qa"]
    assert all(len(k) == 64 and int(k, 16) >= 0 for k in first.values())
    assert first == keys() and first["general_mcq"] != first["general_qa"]


def test_a_dataset_s_own_args_change_only_its_key() -> None:
    changed = keys(datasets={"general_mcq": MCQ, "general_qa": {**QA, "few_shot_num": 0}})
    assert changed["general_mcq"] == keys()["general_mcq"]
    assert changed["general_qa"] != keys()["general_qa"]


def test_a_dataset_s_data_changes_only_its_key() -> None:
    changed = keys(data={"general_mcq": "d-mcq", "general_qa": "other rows"})
    assert changed["general_mcq"] == keys()["general_mcq"] and changed["general_qa"] != keys()["general_qa"]


@pytest.mark.parametrize("change", [
    {"limit": 6}, {"model": "tiny-2"}, {"batch_size": 8}, {"keyed": True}, {"args": {"seed": 1}},
    {"generation_config": {"temperature": 0.5}}, {"served": {"model": "/m2", "backend": "transformers"}},
    {"evalscope": "1.15.0"},
])
def test_what_is_shared_changes_every_key(change: dict[str, Any]) -> None:
    changed = keys(**change)
    assert changed["general_mcq"] != keys()["general_mcq"] and changed["general_qa"] != keys()["general_qa"]


def test_the_base_scores_are_not_part_of_a_key() -> None:
    assert keys(base={"general_mcq": {"score": 0.5}}) == keys()


def test_a_dataset_missing_from_the_inputs_still_gets_a_key() -> None:
    assert len(reuse.dataset_keys({}, ["arc"])["arc"]) == 64
    assert reuse.dataset_keys(inputs(), ["arc"]) != reuse.dataset_keys(inputs(limit=1), ["arc"])


@pytest.mark.parametrize(("statuses", "failed"), [
    ((), False), ((Status.RUNNING,), False), ((Status.FAILED, Status.RUNNING), True),
    ((Status.SUCCEEDED, Status.RUNNING), False), ((Status.FAILED, Status.SUCCEEDED, Status.RUNNING), False),
    ((Status.SUCCEEDED, Status.FAILED, Status.RUNNING), True), ((Status.INTERRUPTED, Status.RUNNING), False),
])
def test_last_attempt_failed_looks_at_the_one_before_this(tmp_path: Path, statuses: tuple[Status, ...],
                                                         failed: bool) -> None:
    ctx = eval_context(tmp_path, record=StageRecord(kind="eval", attempts=attempts(*statuses)))
    assert reuse.last_attempt_failed(ctx) is failed


def test_no_record_is_no_failed_attempt(tmp_path: Path) -> None:
    assert reuse.last_attempt_failed(eval_context(tmp_path)) is False


def failed_before(tmp_path: Path, done: dict[str, str], *, work_dir: str | None = None,
                  statuses: tuple[Status, ...] = (Status.FAILED, Status.RUNNING)) -> tuple[Any, Path]:
    """A context whose last attempt failed after finishing `done` (name -> key), and its aside folder."""
    stage_dir = tmp_path / "runs" / "t" / "eval"
    previous = {"work_dir": work_dir or str(stage_dir / "finetuned"), "dataset_keys": done}
    ctx = eval_context(tmp_path, record=StageRecord(kind="eval", attempts=attempts(*statuses)), previous=previous)
    aside = tmp_path / "runs" / "t" / "eval.stale-1"
    for name in done:
        write_report(aside / "finetuned", name, 0.5)
    return ctx, aside


def test_a_finished_dataset_with_the_same_key_is_reused(tmp_path: Path) -> None:
    ctx, aside = failed_before(tmp_path, {"general_mcq": "k1"})
    assert reuse.reusable(ctx, {"general_mcq": "k1", "general_qa": "k2"}, aside) == {
        "general_mcq": aside / "finetuned"}


def test_a_changed_key_is_evaluated_again(tmp_path: Path) -> None:
    ctx, aside = failed_before(tmp_path, {"general_mcq": "k1", "general_qa": "k2"})
    assert reuse.reusable(ctx, {"general_mcq": "k1-changed", "general_qa": "k2"}, aside) == {
        "general_qa": aside / "finetuned"}


def test_a_recorded_key_without_its_report_is_evaluated_again(tmp_path: Path) -> None:
    ctx, aside = failed_before(tmp_path, {"general_mcq": "k1"})
    (aside / "finetuned" / "reports" / "tiny" / "general_mcq.json").unlink()
    assert reuse.reusable(ctx, {"general_mcq": "k1"}, aside) == {}


def test_nothing_is_reused_unless_the_last_attempt_failed(tmp_path: Path) -> None:
    ctx, aside = failed_before(tmp_path, {"general_mcq": "k1"}, statuses=(Status.SUCCEEDED, Status.RUNNING))
    assert reuse.reusable(ctx, {"general_mcq": "k1"}, aside) == {}


def test_nothing_is_reused_without_an_aside_folder_or_a_work_dir(tmp_path: Path) -> None:
    ctx, aside = failed_before(tmp_path, {"general_mcq": "k1"})
    assert reuse.reusable(ctx, {"general_mcq": "k1"}, None) == {}
    ctx.previous.pop("work_dir")
    assert reuse.reusable(ctx, {"general_mcq": "k1"}, aside) == {}


def test_a_work_dir_outside_the_stage_folder_is_not_reused(tmp_path: Path) -> None:
    ctx, aside = failed_before(tmp_path, {"general_mcq": "k1"}, work_dir=str(tmp_path / "elsewhere" / "finetuned"))
    assert reuse.reusable(ctx, {"general_mcq": "k1"}, aside) == {}


def test_carry_copies_one_dataset_s_files_and_nothing_else(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    write_report(old, "general_mcq", 0.5)
    write_report(old, "general_qa", 0.25)
    (old / "logs").mkdir()
    (old / "logs" / "eval_log.log").write_text("log")
    reuse.carry({"general_mcq": old}, new)
    copied = sorted(str(p.relative_to(new)) for p in new.rglob("*") if p.is_file())
    assert copied == ["predictions/tiny/general_mcq_demo.jsonl", "reports/tiny/general_mcq.json",
                      "reviews/tiny/general_mcq_demo.jsonl"]
    assert (new / "reports/tiny/general_mcq.json").read_text() == (old / "reports/tiny/general_mcq.json").read_text()
    reuse.carry({}, tmp_path / "untouched")
    assert not (tmp_path / "untouched").exists()
