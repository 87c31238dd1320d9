"""Experiment records: what a run records, written once, read back in the order runs began."""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from swiftpipe.core.errors import UserError
from swiftpipe.engine.experiments import (
    Experiment,
    StageRun,
    check_name,
    flatten,
    list_experiments,
    record_experiment,
    shown,
    where_now,
)
from swiftpipe.engine.manifest import Attempt, Manifest, StageRecord
from swiftpipe.engine.pipeline import LoadedPipeline
from swiftpipe.engine.status import Status
from swiftpipe.loading import load_pipeline

PIPELINE = """
name: t
model: m
stages:
  sft:
    dataset: [train.jsonl]
    args: {max_steps: 4, lora_rank: 8}
  deploy: {}
  eval:
    datasets: {general_mcq: {}}
"""
# 2026-12-05 17:29:48.250 UTC
STARTED = 1796491788.25


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def loaded(write_pipeline: Callable[[str], Path], utc: None) -> LoadedPipeline:
    return load_pipeline(write_pipeline(PIPELINE), ["stages.sft.args.lora_rank=16"])


def attempt(status: Status = Status.SUCCEEDED) -> Attempt:
    return Attempt(started="2026-12-05T17:29:49+0000", ended="2026-12-05T17:29:59+0000", status=status)


def manifest_after_run(loaded: LoadedPipeline, sft: Status = Status.SUCCEEDED) -> Manifest:
    """sft and eval ran in this run (a second attempt each); sft-merged and deploy only ran before."""
    manifest = Manifest(str(loaded.source), str(loaded.workdir), git_commit="abc123", git_dirty=True)
    manifest.stages["sft"] = StageRecord(
        kind="sft", status=sft, attempts=[attempt(), attempt(sft)], fingerprint="f1", duration_s=10.5,
        outputs={"run_dir": "/w/sft/v1"},
        metrics={"global_step": 4, "train_loss": 1.25, "world_size": 1, "swift_rows_in": 30})
    manifest.stages["sft-merged"] = StageRecord(kind="export", status=Status.SKIPPED, attempts=[attempt()])
    manifest.stages["deploy"] = StageRecord(kind="deploy", status=Status.SKIPPED, attempts=[attempt()])
    manifest.stages["eval"] = StageRecord(
        kind="eval", status=Status.SUCCEEDED, attempts=[attempt()], fingerprint="f2", duration_s=3.0,
        outputs={"primary": {"general_mcq": {"metric": "acc", "score": 0.75}},
                 "subsets": {"general_mcq": {"math": 0.5, "law": 1.0}}, "work_dir": "/w/eval"},
        metrics={"general_mcq": 0.75, "base/general_mcq": 0.5})
    return manifest


BEFORE = {"sft": 1, "sft-merged": 1, "deploy": 1}  # eval had no attempt when the run began


def test_a_run_records_what_it_ran_with_headline_metrics(loaded: LoadedPipeline) -> None:
    exp = record_experiment(loaded, manifest_after_run(loaded), BEFORE, started=STARTED, completed=True,
                            name="rank16")
    assert exp is not None
    assert exp.id.startswith("exp-20261205-172948-") and len(exp.id) == len("exp-20261205-172948-") + 4
    assert (exp.name, exp.started, exp.outcome) == ("rank16", "2026-12-05T17:29:48.250+0000", "succeeded")
    assert (exp.git_commit, exp.git_dirty, exp.overrides) == ("abc123", True, ["stages.sft.args.lora_rank=16"])
    assert exp.pipeline == str(loaded.source)
    assert list(exp.stages) == ["sft", "eval"]
    assert exp.stages["sft"] == StageRun(kind="sft", status="succeeded", fingerprint="f1", duration_s=10.5,
                                         outputs={"run_dir": "/w/sft/v1"},
                                         metrics={"steps": 4, "train_loss": 1.25, "time_s": 10.5})
    assert exp.stages["eval"].metrics == {"general_mcq": 0.75, "general_mcq:math": 0.5, "general_mcq:law": 1.0}
    assert exp.metrics()["eval.general_mcq:law"] == 1.0
    saved = json.loads((loaded.workdir / "experiments" / f"{exp.id}.json").read_text())
    assert Experiment.from_dict(saved) == exp


def test_the_effective_config_is_flat(loaded: LoadedPipeline) -> None:
    exp = record_experiment(loaded, manifest_after_run(loaded), BEFORE, started=STARTED, completed=True)
    assert exp is not None
    assert exp.config["stages.sft.args.lora_rank"] == 16  # after --set
    assert exp.config["stages.sft.dataset"] == ["train.jsonl"]
    assert exp.config["tracking.backend"] == "none"
    assert "stages.deploy" not in exp.config and "env" not in exp.config  # empty mappings leave no key


def test_flatten() -> None:
    assert flatten({"a": {"b": {"c": 1}, "d": [1, {"x": 2}]}, "e": None, "f": {}}) == {
        "a.b.c": 1, "a.d": [1, {"x": 2}], "e": None}


@pytest.mark.parametrize(("sft", "completed", "outcome"), [
    (Status.FAILED, False, "failed"),
    (Status.CRASHED, False, "failed"),
    (Status.INTERRUPTED, False, "interrupted"),
    (Status.SUCCEEDED, False, "interrupted"),  # stopped between stages
])
def test_outcome(loaded: LoadedPipeline, sft: Status, completed: bool, outcome: str) -> None:
    exp = record_experiment(loaded, manifest_after_run(loaded, sft), BEFORE, started=STARTED, completed=completed)
    assert exp is not None and exp.outcome == outcome


def test_a_run_that_ran_nothing_is_no_experiment(loaded: LoadedPipeline) -> None:
    everything = {"sft": 2, "sft-merged": 1, "deploy": 1, "eval": 1}
    assert record_experiment(loaded, manifest_after_run(loaded), everything, started=STARTED, completed=True) is None
    assert not (loaded.workdir / "experiments").exists()


def test_a_record_is_never_rewritten(loaded: LoadedPipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    suffixes = iter(["aaaa", "aaaa", "bbbb"])
    monkeypatch.setattr(secrets, "token_hex", lambda n: next(suffixes))
    first = record_experiment(loaded, manifest_after_run(loaded), BEFORE, started=STARTED, completed=True)
    second = record_experiment(loaded, manifest_after_run(loaded), BEFORE, started=STARTED, completed=True,
                               name="second")
    assert first is not None and second is not None
    assert (first.id, second.id) == ("exp-20261205-172948-aaaa", "exp-20261205-172948-bbbb")
    assert json.loads((loaded.workdir / "experiments" / f"{first.id}.json").read_text())["name"] is None
    assert sorted(p.name for p in (loaded.workdir / "experiments").iterdir()) == [
        "exp-20261205-172948-aaaa.json", "exp-20261205-172948-bbbb.json"]


def test_list_in_the_order_runs_began(loaded: LoadedPipeline) -> None:
    # Within one second, and with ids that sort the other way: the milliseconds decide.
    for ident, started in [("exp-1-ffff", ".900"), ("exp-1-0000", ".950"), ("exp-0-9999", ".100")]:
        exp = Experiment(id=ident, started=f"2026-12-05T17:29:48{started}+0000", ended="", outcome="succeeded",
                         pipeline="p")
        (loaded.workdir / "experiments").mkdir(parents=True, exist_ok=True)
        (loaded.workdir / "experiments" / f"{ident}.json").write_text(exp.to_json())
    assert [e.id for e in list_experiments(loaded.workdir)] == ["exp-0-9999", "exp-1-ffff", "exp-1-0000"]


def test_no_experiments_yet(tmp_path: Path) -> None:
    assert list_experiments(tmp_path) == []


def test_a_damaged_record_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "experiments").mkdir()
    path = tmp_path / "experiments" / "exp-1.json"
    path.write_text('{"id": "exp-1", "started": 5, "ended": "", "outcome": "succeeded", "pipeline": "p"}')
    with pytest.raises(UserError) as err:
        list_experiments(tmp_path)
    assert str(err.value) == f"{path} › started: expected a string, got an integer; move the file aside"
    path.write_text("{")
    with pytest.raises(UserError, match=r"exp-1\.json › unreadable \(Expecting property name"):
        list_experiments(tmp_path)


def test_a_name_is_one_line() -> None:
    check_name("lr 1e-4, rank 16")
    with pytest.raises(UserError) as err:
        check_name("a\nb")
    assert str(err.value) == "--name: expected one line of text without control characters, got 'a\\nb'"


def test_secrets_are_masked(write_pipeline: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB", "hf_secret_value")
    monkeypatch.setenv("SWAN", "swan_secret")
    path = write_pipeline(PIPELINE.replace("lora_rank: 8}", "lora_rank: 8, hub_token: '${HUB}'}")
                          + "env: {HF_TOKEN: '${HUB}', MIRROR: 'https://me:${HUB}@hub.example'}\n")
    loaded = load_pipeline(path, ["stages.sft.args.swanlab_token=${SWAN}", "stages.sft.args.seed=3"])
    exp = record_experiment(loaded, manifest_after_run(loaded), BEFORE, started=STARTED, completed=True)
    assert exp is not None
    assert (exp.config["stages.sft.args.hub_token"], exp.config["stages.sft.args.swanlab_token"]) == ("***", "***")
    assert (exp.config["env.HF_TOKEN"], exp.config["env.MIRROR"]) == ("***", "https://me:***@hub.example")
    assert exp.overrides == ["stages.sft.args.swanlab_token=***", "stages.sft.args.seed=3"]
    text = (loaded.workdir / "experiments" / f"{exp.id}.json").read_text()
    assert "hf_secret_value" not in text and "swan_secret" not in text


def test_a_select_stage_records_its_winner_value_and_margin() -> None:
    from swiftpipe.engine.experiments import headline_metrics

    record = StageRecord(kind="select", status=Status.SUCCEEDED, attempts=[attempt()],
                         outputs={"winner": "eval-lr1e-2-r4", "metric": "general_mcq.accuracy"},
                         metrics={"winner": "eval-lr1e-2-r4", "value": 0.75, "margin": 0.25})
    assert headline_metrics("model", record) == {"winner": "eval-lr1e-2-r4", "value": 0.75, "margin": 0.25}
    alone = StageRecord(kind="select", status=Status.SUCCEEDED, attempts=[attempt()],
                        metrics={"winner": "eval_a", "value": 0.5, "margin": None})
    assert headline_metrics("model", alone) == {"winner": "eval_a", "value": 0.5}


def test_the_id_announced_at_the_start_is_the_records_unless_taken(loaded: LoadedPipeline) -> None:
    from swiftpipe.engine.experiments import ENV_ID, ENV_NAME, announced, announcing, new_id

    exp_id = new_id(STARTED)
    assert exp_id.startswith("exp-20261205-172948-") and len(exp_id) == len("exp-20261205-172948-") + 4
    with announcing(exp_id, "rank16"):
        assert announced() == (exp_id, "rank16")
    assert announced() == (None, None) and ENV_ID not in os.environ and ENV_NAME not in os.environ
    first = record_experiment(loaded, manifest_after_run(loaded), BEFORE, started=STARTED, completed=True,
                              exp_id=exp_id)
    again = record_experiment(loaded, manifest_after_run(loaded), BEFORE, started=STARTED, completed=True,
                              exp_id=exp_id)
    assert first is not None and again is not None
    assert first.id == exp_id and again.id != exp_id and again.id.startswith("exp-20261205-172948-")


def test_values_are_shown_as_a_learning_rate_is_written() -> None:
    assert [shown(v) for v in (0.005, 1e-4, 2.5e-5, -3e-3, 0.0, 0.01, 6.74123, 1234567.0)] == [
        "5e-3", "1e-4", "2.5e-5", "-3e-3", "0", "0.01", "6.741", "1.235e+06"]
    assert [shown(v) for v in (None, "1e-2", 8, True, [1, 2])] == ["-", "1e-2", "8", "true", "[1, 2]"]


def test_outputs_a_later_run_moved_aside_are_found_where_they_went(tmp_path: Path) -> None:
    for name in ("eval", "eval.stale-20261206-090000", "eval.stale-20261206-100002", "eval.stale-20261206-100005",
                 "eval.stale-20261206-110000", "sft/v0", "infer"):
        (tmp_path / name).mkdir(parents=True)
    for name in ("results.jsonl", "results.stale-20261206-100010.jsonl"):
        (tmp_path / "infer" / name).write_text("{}\n")
    outputs = {"work_dir": str(tmp_path / "eval" / "finetuned"), "run_dir": str(tmp_path / "sft" / "v0"),
               "paths": [str(tmp_path / "infer" / "results.jsonl"), "/elsewhere/eval"], "n": 3}
    e = Experiment(id="a", started="2026-12-06T10:00:00.000+0000", ended="2026-12-06T10:00:02.500+0000",
                   outcome="succeeded", pipeline="/p", stages={"eval": StageRun("eval", "succeeded", outputs=outputs)})
    # eval.stale-...-100002 was moved in the second `a` ended (its own move of what came before); the
    # first move after it is -100005, which took what `a` wrote
    assert where_now(e, tmp_path).stages["eval"].outputs == {
        "work_dir": str(tmp_path / "eval.stale-20261206-100005" / "finetuned"), "run_dir": str(tmp_path / "sft" / "v0"),
        "paths": [str(tmp_path / "infer" / "results.stale-20261206-100010.jsonl"), "/elsewhere/eval"], "n": 3}
    assert e.stages["eval"].outputs == outputs  # the record itself is never rewritten
