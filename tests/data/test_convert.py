from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from swiftpipe.core.errors import UserError
from swiftpipe.data.convert import run
from swiftpipe.data.options import ConvertOptions
from tests.data.conftest import DATA, DATASETS, chat, convert_options

BROKEN_JSONL = [
    (2, "invalid_json"),
    (3, "invalid_utf8"),
    (4, "not_an_object"),
    (5, "missing_field"),
    (6, "bad_field"),
    (7, "unknown_role"),
    (8, "null_content"),
    (9, "empty_content"),
    (10, "non_string_content"),
    (11, "bad_reasoning"),
    (12, "bad_tools"),
    (13, "no_assistant"),
    (14, "bad_turn_order"),
]


def options(tmp_path: Path, *inputs: Path, **kw: Any) -> ConvertOptions:
    kw.setdefault("max_reject_ratio", 1.0)
    return convert_options(inputs, tmp_path / "out.jsonl", **kw)


def rejects(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_broken_fixture_gives_one_reject_per_reason(tmp_path: Path) -> None:
    result = run(options(tmp_path, DATA / "broken.jsonl"))
    got = [(r["line"], r["reason"]) for r in rejects(tmp_path / "rej.jsonl")]
    assert got == BROKEN_JSONL
    assert (result.rows_in, result.train, result.rejected) == (18, 5, 13)
    first = rejects(tmp_path / "rej.jsonl")[0]
    assert first == {
        "source": str(DATA / "broken.jsonl"),
        "line": 2,
        "reason": "invalid_json",
        "message": "invalid JSON at character 15: Expecting value",
        "row": '{"messages": [',
    }


def test_dedupe_and_too_long(tmp_path: Path, tiny_tokenizer: Path) -> None:
    result = run(options(tmp_path, DATA / "broken.jsonl", dedupe=True, tokenizer=tiny_tokenizer, max_length=1000))
    got = [(r["line"], r["reason"]) for r in rejects(tmp_path / "rej.jsonl")]
    assert got == [*BROKEN_JSONL, (15, "duplicate"), (16, "too_long")]
    assert result.train == 3
    tokens = result.report["tokens"]
    assert tokens["over_max_length"] == 1 and tokens["max"] > 1000 and tokens["estimate"] is True


def test_invariant_and_report_over_all_fixtures(tmp_path: Path) -> None:
    inputs = [DATA / "broken.jsonl", DATA / "broken.json", DATA / "small.sharegpt.jsonl.gz"]
    result = run(options(tmp_path, *inputs, val=tmp_path / "val.jsonl", val_ratio=0.5, seed=3))
    report = json.loads((tmp_path / "rep.json").read_text())
    assert report["invariant_ok"] is True
    assert report["rows_in"] == result.rows_in == 28
    assert report["rows_in"] == report["train"] + report["val"] + report["rejected"]
    assert [(s["format"], s["rows"], s["rejected"]) for s in report["sources"]] == [
        ("messages", 18, 13),
        ("alpaca", 5, 3),
        ("sharegpt", 5, 1),
    ]
    assert report["rejects_by_reason"]["invalid_utf8"] == 2
    out = (tmp_path / "out.jsonl").read_text().splitlines() + (tmp_path / "val.jsonl").read_text().splitlines()
    assert len(out) == report["train"] + report["val"] and report["val"] > 0


def test_split_is_stable_across_input_order(tmp_path: Path) -> None:
    files = sorted(DATASETS.glob("*.jsonl"))
    a, b = tmp_path / "a", tmp_path / "b"
    run(options(a, *files, val=a / "val.jsonl", val_ratio=0.2, seed=5))
    run(options(b, *reversed(files), val=b / "val.jsonl", val_ratio=0.2, seed=5))
    assert set((a / "val.jsonl").read_text().splitlines()) == set((b / "val.jsonl").read_text().splitlines())


def test_failure_writes_rejects_and_report_but_no_train_file(tmp_path: Path) -> None:
    (tmp_path / "out.jsonl").write_text("old complete file\n")
    result = run(options(tmp_path, DATA / "broken.jsonl", max_reject_ratio=0.5))
    assert result.failure == (
        f"13 of 18 rows rejected (72.2%), above max_reject_ratio 0.5; reasons and rows in {tmp_path / 'rej.jsonl'}"
    )
    assert (tmp_path / "out.jsonl").read_text() == "old complete file\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl", "rej.jsonl", "rep.json"]
    assert json.loads((tmp_path / "rep.json").read_text())["outputs"]["train"] is None


def test_user_error_midway_leaves_no_tmp_files(tmp_path: Path, write_jsonl: Callable[..., Path]) -> None:
    bad = tmp_path / "two.json"
    bad.write_text('{"a": [{"messages": []}], "b": []}')
    with pytest.raises(UserError):
        run(options(tmp_path, write_jsonl([chat("q", "a")]), bad))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "two.json"]


def test_undetectable_format_is_a_user_error(tmp_path: Path, write_jsonl: Callable[..., Path]) -> None:
    path = write_jsonl(["not json", {"text": "a", "label": 1}])
    with pytest.raises(UserError) as err:
        run(options(tmp_path, path))
    assert str(err.value) == (
        f"{path}: cannot detect the format (line 2 has keys label, text); "
        "pass --format sharegpt|alpaca|messages|dolly|query-response|text"
    )


def test_forced_format_rejects_rows_of_another_format(tmp_path: Path, write_jsonl: Callable[..., Path]) -> None:
    path = write_jsonl([chat("q", "a"), {"instruction": "i", "output": "o"}])
    result = run(options(tmp_path, path, fmt="alpaca"))
    assert [(r["line"], r["reason"], r["message"]) for r in rejects(tmp_path / "rej.jsonl")] == [
        (1, "missing_field", "no 'output' field")
    ]
    assert result.train == 1


def test_default_system_and_unpaired_surrogate(tmp_path: Path, write_jsonl: Callable[..., Path]) -> None:
    path = write_jsonl(
        [
            chat("q", "a"),
            chat("q2", "a2", system="own"),
            '{"messages": [{"role": "user", "content": "\\ud800"}, {"role": "assistant", "content": "a"}]}',
        ]
    )
    run(options(tmp_path, path, system="Default."))
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["messages"][0]["content"] for r in rows] == ["Default.", "own"]
    assert [(r["line"], r["reason"]) for r in rejects(tmp_path / "rej.jsonl")] == [(3, "invalid_utf8")]
