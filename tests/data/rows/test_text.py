from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from swiftpipe.data import parallel
from swiftpipe.data.convert import run
from swiftpipe.data.options import ConvertOptions
from swiftpipe.data.reject import Reject
from swiftpipe.data.rows.text import check_text_turns, from_text
from swiftpipe.data.rows.tokens import MARGIN, TokenCounter, render
from tests.data.conftest import DATASETS, chat, convert_options

PRETRAIN = DATASETS / "pretrain_text.jsonl"


def options(tmp_path: Path, *inputs: Path, **kw: Any) -> ConvertOptions:
    kw.setdefault("max_reject_ratio", 1.0)
    return convert_options(inputs, tmp_path / "out.jsonl", **kw)


def lines(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def assistant(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "assistant", "content": text}]}


@pytest.mark.parametrize(
    "row",
    [
        {"text": "Sleep."},
        {"text": "Sleep.", "id": 3, "meta": {"lang": "en"}},
        {"response": "Sleep."},
        {"output": "Sleep.", "instruction": "", "input": " "},
        {"completion": "Sleep.", "prompt": None},
        {"answer": "Sleep.", "tools": "[]"},
        {"messages": [{"role": "assistant", "content": "Sleep."}]},
        {"conversations": [{"from": "gpt", "value": "Sleep."}]},
    ],
)
def test_text_rows_become_one_assistant_turn(row: dict[str, Any]) -> None:
    messages = from_text(row)
    check_text_turns(messages)
    assert messages == [{"role": "assistant", "content": "Sleep."}]


@pytest.mark.parametrize(
    ("row", "reason", "message"),
    [
        ({"text": ""}, "empty_content", "'text' is empty"),
        ({"text": " \n\t"}, "empty_content", "'text' is empty"),
        ({"response": None}, "null_content", "'response' is null"),
        ({"text": ["a"]}, "non_string_content", "'text' is array, expected a string"),
        ({"id": 1}, "missing_field", "no 'text' field (format text also takes response, output, completion or answer)"),
        ({"text": "a", "output": "b"}, "bad_field", "both 'text' and 'output' are given; a text row needs one"),
        ({"query": "q", "response": "r"}, "has_prompt", "'query' is set, but format text takes rows without a prompt"),
        (
            {"instruction": "i", "output": "o"},
            "has_prompt",
            "'instruction' is set, but format text takes rows without a prompt",
        ),
        ({"text": "t", "system": "s"}, "has_prompt", "'system' is set, but format text takes rows without a prompt"),
        ({"messages": []}, "no_assistant", "'messages' is an empty array"),
        ({"messages": [{"role": "assistant", "content": ""}]}, "empty_content", "turn 1 (assistant): content is empty"),
    ],
)
def test_text_rejects(row: dict[str, Any], reason: str, message: str) -> None:
    with pytest.raises(Reject) as err:
        check_text_turns(from_text(row))
    assert (err.value.reason, err.value.message) == (reason, message)


@pytest.mark.parametrize(
    ("turns", "reason", "message"),
    [
        (chat("q", "a")["messages"], "has_prompt", "turn 1 is user; format text takes a single assistant turn"),
        (
            [{"role": "system", "content": "s"}, {"role": "assistant", "content": "a"}],
            "has_prompt",
            "turn 1 is system; format text takes a single assistant turn",
        ),
        (
            [{"role": "assistant", "content": "a"}, {"role": "assistant", "content": "b"}],
            "bad_turn_order",
            "2 assistant turns; format text takes one (swift pt would join them with no separator)",
        ),
    ],
)
def test_text_turn_rule(turns: list[dict[str, Any]], reason: str, message: str) -> None:
    with pytest.raises(Reject) as err:
        check_text_turns(turns)
    assert (err.value.reason, err.value.message) == (reason, message)


def test_auto_detects_c4_rows_and_writes_what_swift_pt_reads(tmp_path: Path, write_jsonl: Callable[..., Path]) -> None:
    path = write_jsonl(
        [
            {"text": "Listen first.", "url": "u", "timestamp": "t"},
            {"text": "   "},
            {"text": "Listen  first."},
            {"text": "Käse schmilzt."},
        ]
    )
    result = run(options(tmp_path, path, dedupe=True, system="Be kind."))
    assert (tmp_path / "out.jsonl").read_text().splitlines() == [
        '{"messages": [{"role": "assistant", "content": "Listen first."}]}',
        '{"messages": [{"role": "assistant", "content": "Käse schmilzt."}]}',
    ]
    assert [(r["line"], r["reason"], r["message"]) for r in lines(tmp_path / "rej.jsonl")] == [
        (2, "empty_content", "'text' is empty"),
        (3, "duplicate", "same conversation as an earlier row (whitespace ignored)"),
    ]
    assert result.report["sources"][0]["format"] == "text"
    assert (result.rows_in, result.train, result.rejected) == (4, 2, 2)


def test_other_formats_keep_their_rules(tmp_path: Path, write_jsonl: Callable[..., Path]) -> None:
    path = write_jsonl([assistant("only an answer"), chat("q", "a")])
    run(options(tmp_path, path, fmt="messages"))
    assert [(r["reason"], r["message"]) for r in lines(tmp_path / "rej.jsonl")] == [
        ("bad_turn_order", "turn 1 is assistant; the first turn after the optional system turn must be user")
    ]


def test_split_and_token_limit_work_for_text_rows(
    tmp_path: Path, write_jsonl: Callable[..., Path], tiny_tokenizer: Path
) -> None:
    rows = [{"text": f"the user asks and the assistant answers {i}"} for i in range(40)]
    rows.append({"text": "the user asks " * 200})
    path = write_jsonl(rows)
    result = run(
        options(tmp_path, path, val=tmp_path / "val.jsonl", val_ratio=0.25, tokenizer=tiny_tokenizer, max_length=100)
    )
    assert [r["reason"] for r in lines(tmp_path / "rej.jsonl")] == ["too_long"]
    assert 0 < result.val < 40 and result.train + result.val == 40
    written = lines(tmp_path / "out.jsonl") + lines(tmp_path / "val.jsonl")
    assert all([m["role"] for m in r["messages"]] == ["assistant"] for r in written)
    assert (result.report["tokens"]["max_length"], result.report["tokens"]["over_max_length"]) == (100, 1)


def test_workers_write_the_same_bytes(
    tmp_path: Path, write_jsonl: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_jsonl([{"text": f"row {i}"} if i % 7 else {"text": ""} for i in range(30)])
    serial, workers = tmp_path / "serial", tmp_path / "workers"
    serial.mkdir()
    workers.mkdir()
    run(options(serial, path, jobs=1))
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "BLOCK_BYTES", 100)
    run(options(workers, path, jobs=2))
    for name in ("out.jsonl", "rej.jsonl"):
        assert (serial / name).read_bytes() == (workers / name).read_bytes()
    assert len(lines(serial / "rej.jsonl")) == 5


def test_a_lone_assistant_turn_is_counted_with_the_empty_user_turn_swift_sft_adds(tiny_tokenizer: Path) -> None:
    text = render([{"role": "assistant", "content": "a"}], None)
    assert text == "<|im_start|>user\n<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\na<|im_end|>\n"
    counter = TokenCounter(tiny_tokenizer)
    [alone, paired] = counter.count(
        [([{"role": "assistant", "content": "a"}], None), (chat("", "a")["messages"], None)]
    )
    assert alone == paired > MARGIN


def test_the_demo_pretraining_file_converts_cleanly(tmp_path: Path) -> None:
    assert PRETRAIN.stat().st_size < 200_000
    result = run(options(tmp_path, PRETRAIN, dedupe=True))
    assert result.report["sources"][0]["format"] == "text"
    assert result.rejected == 0
    assert 150 <= result.train <= 300
