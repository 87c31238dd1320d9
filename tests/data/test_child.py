"""The data stage's child: one options file in, one result file out, whatever the ending."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from swiftpipe.core.errors import UserError
from swiftpipe.data.child import USAGE, main
from swiftpipe.data.options import ConvertOptions, Failure, Outcome, read_outcome, write_options
from tests.data.conftest import DATA, convert_options


def options_file(tmp_path: Path, options: ConvertOptions) -> Path:
    path = tmp_path / "options.json"
    write_options(path, dataclasses.replace(options, result=tmp_path / "result.json"))
    return path


def test_success_writes_outputs_and_counts(tmp_path: Path) -> None:
    options = convert_options([DATA / "agent.jsonl"], tmp_path / "train.jsonl", max_reject_ratio=1.0)
    assert main([str(options_file(tmp_path, options))]) == 0
    outcome = read_outcome(tmp_path / "result.json")
    assert outcome is not None and outcome.failure is None
    assert outcome.outputs == {
        "train": str(tmp_path / "train.jsonl"),
        "val": None,
        "rejects": str(tmp_path / "rej.jsonl"),
        "report": str(tmp_path / "rep.json"),
    }
    assert outcome.metrics["rows_in"] == outcome.metrics["train"] + outcome.metrics["rejected"] > 0


def test_a_data_failure_is_in_the_result_file_and_exits_1(tmp_path: Path) -> None:
    options = convert_options([DATA / "broken.jsonl"], tmp_path / "train.jsonl")
    assert main([str(options_file(tmp_path, options))]) == 1
    rejects = tmp_path / "rej.jsonl"
    assert read_outcome(tmp_path / "result.json") == Outcome(
        {"train": None, "val": None, "rejects": str(rejects), "report": str(tmp_path / "rep.json")},
        {"rows_in": 18, "train": 5, "val": 0, "rejected": 13},
        Failure("data", f"13 of 18 rows rejected (72.2%), above max_reject_ratio 0.05; reasons and rows in {rejects}"),
    )


def test_a_user_error_is_in_the_result_file_and_raised(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"a": 1}\n')
    options = convert_options([source], tmp_path / "train.jsonl")
    with pytest.raises(UserError) as err:
        main([str(options_file(tmp_path, options))])
    assert read_outcome(tmp_path / "result.json") == Outcome({}, {}, Failure("user", str(err.value)))
    assert str(err.value).startswith(f"{source}: cannot detect the format (line 1 has keys a)")


def test_a_missing_options_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError) as err:
        main([str(tmp_path / "nope.json")])
    assert str(err.value) == f"{tmp_path / 'nope.json'}: no such options file; `swiftpipe run` writes it. {USAGE}"
    with pytest.raises(UserError) as err:
        main([])
    assert str(err.value) == USAGE
