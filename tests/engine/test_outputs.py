"""Typed stage outputs: the same JSON keys as the manifest always had, old records still read."""

from __future__ import annotations

import json

import pytest

from swiftpipe.engine.kind import CHECKPOINT, MODEL, SERVER
from swiftpipe.engine.outputs import (
    TYPES,
    Answers,
    DataSplits,
    Model,
    Outputs,
    Pending,
    Scores,
    Served,
    TrainingRun,
    known,
    read,
)

RUN = TrainingRun(model_dir="/r/checkpoint-4", model_digest="ab", run_dir="/r", last_checkpoint="/r/checkpoint-4",
                  logging="/r/logging.jsonl")


def test_a_training_run_is_written_under_the_keys_manifests_have() -> None:
    assert RUN.to_dict() == {
        "model_dir": "/r/checkpoint-4", "model_digest": "ab", "run_dir": "/r", "last_checkpoint": "/r/checkpoint-4",
        "logging": "/r/logging.jsonl", "best_checkpoint": None,
    }
    assert TrainingRun.from_dict(json.loads(json.dumps(RUN.to_dict()))) == RUN


@pytest.mark.parametrize("outputs", [
    RUN,
    DataSplits(train="/d/train.jsonl", val=None, rejects="/d/rejects.jsonl", report="/d/report.json"),
    Model(model_dir="/m", model_digest="cd", checkpoint="/r/checkpoint-4"),
    Served(url="http://127.0.0.1:8000", api_url="http://127.0.0.1:8000/v1", served_model_name="demo",
           serving_key="k", port=8000, pid=7, pgid=7, command=["swift", "deploy"], cmdline=["swift"]),
    Scores(primary={"arc": {"metric": "accuracy:mean", "score": 0.5}}, reports=["/e/arc.json"], work_dir="/e",
           compare_md="/e/compare.md", flags=["odd"]),
    Answers(results="/i/results.jsonl", rows=2, sample=[{"query": "q", "response": "a"}]),
])
def test_every_output_type_round_trips_through_json(outputs: Outputs) -> None:
    assert TYPES[outputs.produces] is type(outputs)
    assert type(outputs).from_dict(json.loads(json.dumps(outputs.to_dict()))) == outputs


def test_extras_are_written_only_when_set() -> None:
    assert set(Scores(work_dir="/e").to_dict()) == {"scores", "primary", "subsets", "reports", "work_dir",
                                                    "dataset_keys"}
    assert DataSplits(train="/t").to_dict()["val"] is None  # no validation split: written as null, as before


def test_an_old_export_record_reads_as_a_model_and_unknown_keys_are_ignored() -> None:
    old = {"merged_dir": "/m", "checkpoint": "/c", "model_dir": "/m", "model_digest": "cd"}
    assert read(MODEL, old, "export") == Model(model_dir="/m", model_digest="cd", checkpoint="/c")


def test_a_missing_required_key_is_an_error_unless_a_reader_plans_ahead() -> None:
    with pytest.raises(ValueError, match=r"^TrainingRun: no model_dir$"):
        TrainingRun.from_dict({"run_dir": "/r"})
    partial = read(CHECKPOINT, {"run_dir": "/r"}, "sft")
    assert isinstance(partial, TrainingRun) and partial.run_dir == "/r"
    assert partial.last_checkpoint == "<sft.last_checkpoint>" and isinstance(partial.last_checkpoint, Pending)
    assert partial.best_checkpoint == "<sft.best_checkpoint>" and not known(partial.best_checkpoint)
    assert known(partial.run_dir)


def test_a_server_promised_before_it_starts_knows_its_name_but_not_its_url() -> None:
    promised = {"model": "/m", "served_model_name": "demo", "backend": "transformers", "serving_key": "k",
                "keyed": False}
    served = read(SERVER, promised, "deploy")
    assert isinstance(served, Served) and served.served_model_name == "demo" and served.serving_key == "k"
    assert served.api_url == "<deploy.api_url>" and not known(served.api_url)
