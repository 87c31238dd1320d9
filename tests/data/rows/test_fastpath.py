from __future__ import annotations

import json
from typing import Any

import pytest

from swiftpipe.data.reject import Reject
from swiftpipe.data.rows.encode import encode_row
from swiftpipe.data.rows.fastpath import FastPath
from swiftpipe.data.rows.formats import NORMALISERS
from swiftpipe.data.rows.messages import with_system
from swiftpipe.data.rows.validate import check_turns


def general(fmt: str, row: dict[str, Any], system: str | None) -> tuple[bytes, int, int] | None:
    """What the general path makes of the row: (line, turns, chars), or None when rejected."""
    try:
        messages = NORMALISERS[fmt](row)
        with_system(messages, row.get("system", system), row.get("reasoning_language"))
        check_turns(messages)
        line = encode_row(messages, None).encode()
    except (Reject, UnicodeEncodeError):
        return None
    return line, len(messages), sum(len(m["content"]) for m in messages)


def turn(role: Any, content: Any) -> dict[str, Any]:
    return {"from": role, "value": content}


TURNS: list[list[Any]] = [
    [turn("human", "q"), turn("gpt", "a")],
    [turn("system", "s"), turn("user", 'q "x"\n'), turn("assistant", "你好 🙂")],
    [turn("human", "q"), turn("gpt", "a"), turn("human", "q2"), turn("gpt", "a2")],
    [turn("human", "q"), turn("function_call", '{"name": "f"}'), turn("observation", "r"), turn("gpt", "a")],
    [turn("Human", "q"), turn("gpt", "a")],
    [turn("human", "q"), turn("gpt", " ")],
    [turn("human", ""), turn("gpt", "a")],
    [turn("human", None), turn("gpt", "a")],
    [turn("human", 3), turn("gpt", "a")],
    [turn(["human"], "q"), turn("gpt", "a")],
    [turn("human", "q")],
    [turn("gpt", "a")],
    [turn("human", "q"), turn("human", "q"), turn("gpt", "a")],
    [turn("human", "\ud800"), turn("gpt", "a")],
    [{"from": "human", "value": "q", "loss": False}, turn("gpt", "a")],
    [turn("human", "q"), {"from": "gpt", "value": "a", "thinking": "t"}],
    [{"role": "user", "content": "q"}, turn("gpt", "a")],
    [{"human": "q", "assistant": "a"}],
    ["text", turn("gpt", "a")],
    [],
]


@pytest.mark.parametrize("system", [None, "Be brief.", "  "])
@pytest.mark.parametrize("turns", TURNS)
def test_fast_path_accepts_only_what_the_general_path_accepts_and_writes_the_same(
    turns: list[Any], system: str | None
) -> None:
    for fmt, rename in [("sharegpt", None), ("messages", {"from": "role", "value": "content"})]:
        ts = turns if rename is None else [_renamed(t, rename) for t in turns]
        row = {"conversations" if fmt == "sharegpt" else "messages": ts}
        expected = general(fmt, row, system)
        raw = json.dumps(row, ensure_ascii=False)
        # The source text with a backslash, which makes the shortcut escape every content.
        for text in {raw, raw + "\\"}:
            fast = FastPath(fmt, system).line(row, text)
            if fast is not None:
                assert fast == expected


def test_fast_path_takes_the_common_shapes() -> None:
    for turns in TURNS[:4]:
        row = {"conversations": turns}
        assert FastPath("sharegpt", "S").line(row, json.dumps(row)) is not None


def _renamed(t: Any, names: dict[str, str]) -> Any:
    return {names.get(k, k): v for k, v in t.items()} if isinstance(t, dict) else t
