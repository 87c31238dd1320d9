from __future__ import annotations

import json

import pytest

from swiftpipe.data.rows.encode import encode_row
from swiftpipe.data.rows.messages import Message

CASES: list[tuple[list[Message], str | None]] = [
    ([{"role": "user", "content": "plain"}, {"role": "assistant", "content": 'a"b\\c\n\t\x01'}], None),
    ([{"role": "user", "content": "你好，世界"}, {"role": "assistant", "content": "Grüße 🙂 \u2028"}], None),
    ([{"role": "user", "content": "q"}, {"role": "assistant", "content": "a", "loss": False}], None),
    ([{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], '[{"name": "f"}]'),
]


@pytest.mark.parametrize(("messages", "tools"), CASES)
def test_encode_row_matches_json_dumps(messages: list[Message], tools: str | None) -> None:
    row: dict[str, object] = {"messages": messages}
    if tools is not None:
        row["tools"] = tools
    assert encode_row(messages, tools) == json.dumps(row, ensure_ascii=False) + "\n"
