from __future__ import annotations

import json
from typing import Any

import pytest

from swiftpipe.data.reject import Reject
from swiftpipe.data.rows.formats import (
    detect,
    from_alpaca,
    from_dolly,
    from_messages,
    from_query_response,
    from_sharegpt,
    normalise_tools,
)


def msgs(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"role": r, "content": c} for r, c in pairs]


@pytest.mark.parametrize(
    ("row", "fmt"),
    [
        ({"messages": []}, "messages"),
        ({"conversations": []}, "sharegpt"),
        ({"conversation": []}, "sharegpt"),
        ({"instruction": "i", "context": "", "response": "r", "category": "c"}, "dolly"),
        ({"instruction": "i", "input": "", "output": "o"}, "alpaca"),
        ({"instruction": "i", "output": "o"}, "alpaca"),
        ({"query": "q", "response": "r"}, "query-response"),
        ({"prompt": "q", "completion": "r"}, "query-response"),
        ({"question": "q", "answer": "r"}, "query-response"),
        ({"text": "t"}, "text"),
        ({"text": "t", "id": 1, "url": "u", "timestamp": "s", "meta": {}}, "text"),
        ({"text": "t", "label": 1}, None),
        ({"response": "r"}, None),
        ({"output": "o"}, None),
        ({"instruction": "i"}, None),
    ],
)
def test_detect(row: dict[str, Any], fmt: str | None) -> None:
    assert detect(row) == fmt


def test_alpaca_joins_instruction_and_input_with_one_newline_like_swift() -> None:
    row = {"instruction": "Translate.", "input": "Hallo", "output": "Hello"}
    assert from_alpaca(row) == msgs(("user", "Translate.\nHallo"), ("assistant", "Hello"))
    assert from_alpaca({"instruction": "", "input": "Only input", "output": "x"})[0]["content"] == "Only input"


def test_alpaca_history_becomes_earlier_turns() -> None:
    row = {"instruction": "And then?", "input": "", "output": "Serve.", "history": [["First?", "Chop."]]}
    assert from_alpaca(row) == msgs(
        ("user", "First?"), ("assistant", "Chop."), ("user", "And then?"), ("assistant", "Serve.")
    )


def test_alpaca_rejects() -> None:
    with pytest.raises(Reject) as err:
        from_alpaca({"instruction": "", "input": "", "output": "x"})
    assert (err.value.reason, err.value.message) == ("empty_content", "turn 1 (user): content is empty")
    with pytest.raises(Reject) as err:
        from_alpaca({"instruction": "a", "output": "b", "history": [["only one"]]})
    assert (err.value.reason, err.value.message) == ("bad_field", "'history' item 1 is not a [query, response] pair")
    with pytest.raises(Reject) as err:
        from_alpaca({"instruction": 3, "output": "b"})
    assert (err.value.reason, err.value.message) == ("non_string_content", "'instruction' is number, expected a string")


def test_dolly_keeps_context_after_a_blank_line() -> None:
    row = {
        "instruction": "How long?",
        "context": "Delivery takes 3 days.",
        "response": "3 days.",
        "category": "closed_qa",
    }
    assert from_dolly(row) == msgs(("user", "How long?\n\nDelivery takes 3 days."), ("assistant", "3 days."))
    row["context"] = ""
    assert from_dolly(row)[0]["content"] == "How long?"


def test_sharegpt_roles_and_pair_form() -> None:
    row = {"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}
    assert from_sharegpt(row) == msgs(("user", "q"), ("assistant", "a"))
    pairs = {"conversation": [{"human": "q1", "assistant": "a1"}, {"human": "q2", "assistant": "a2"}]}
    assert from_sharegpt(pairs) == msgs(("user", "q1"), ("assistant", "a1"), ("user", "q2"), ("assistant", "a2"))


def test_messages_missing_and_bad_field() -> None:
    with pytest.raises(Reject) as err:
        from_messages({"conversations": []})
    assert (err.value.reason, err.value.message) == ("missing_field", "no 'messages' field")
    with pytest.raises(Reject) as err:
        from_messages({"messages": [["user", "hi"]]})
    assert (err.value.reason, err.value.message) == ("bad_field", "turn 1: is array, expected an object")


def test_query_response_aliases() -> None:
    assert from_query_response({"prompt": "p", "completion": "c"}) == msgs(("user", "p"), ("assistant", "c"))
    with pytest.raises(Reject) as err:
        from_query_response({"prompt": "p"})
    assert err.value.reason == "missing_field"


def test_tools_become_a_json_string_holding_a_list() -> None:
    spec = {"type": "function", "function": {"name": "f"}}
    assert json.loads(normalise_tools({"tools": [spec]}) or "") == [spec]
    assert json.loads(normalise_tools({"tools": json.dumps([spec])}) or "") == [spec]
    assert json.loads(normalise_tools({"tools": spec}) or "") == [spec]
    assert normalise_tools({"tools": []}) is None
    with pytest.raises(Reject) as err:
        normalise_tools({"tools": ["f"]})
    assert (err.value.reason, err.value.message) == ("bad_tools", "'tools' must hold only objects")
    with pytest.raises(Reject) as err:
        normalise_tools({"tools": 5})
    assert (err.value.reason, err.value.message) == ("bad_tools", "'tools' must be an array of objects, got number")
