from __future__ import annotations

import json
from typing import Any

import pytest

from swiftpipe.data.reject import Reject
from swiftpipe.data.rows.messages import normalise_turns, with_system
from swiftpipe.data.rows.roles import canonical_role


@pytest.mark.parametrize(
    ("raw", "role"),
    [
        ("human", "user"),
        ("GPT", "assistant"),
        ("bot", "assistant"),
        ("chatgpt", "assistant"),
        ("function_call", "tool_call"),
        ("function-call", "tool_call"),
        ("observation", "tool_response"),
        ("tool", "tool_response"),
        ("function_response", "tool_response"),
        ("System", "system"),
    ],
)
def test_role_aliases(raw: str, role: str) -> None:
    assert canonical_role(raw, "turn 1") == role


def test_unknown_role_message() -> None:
    with pytest.raises(Reject) as err:
        canonical_role("hummany", "turn 3")
    assert err.value.message == (
        "turn 3: unknown role 'hummany'; use system, user, assistant, tool_call or tool_response "
        "(or an alias such as human, gpt, function_call, observation)"
    )


def test_reasoning_is_inlined_as_a_think_block() -> None:
    for key in ("thinking", "reasoning_content", "reasoning"):
        turns = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a", key: " why \n"}]
        assert normalise_turns(turns, "messages")[1] == {"role": "assistant", "content": "<think>\nwhy\n</think>\n\na"}


def test_reasoning_conflicts_are_rejected() -> None:
    turns: list[Any] = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "a", "thinking": "x", "reasoning": "y"},
    ]
    with pytest.raises(Reject) as err:
        normalise_turns(turns, "messages")
    assert err.value.message == "turn 2: 'thinking' and 'reasoning' hold different reasoning; keep one"
    turns[1] = {"role": "assistant", "content": "a", "thinking": 5}
    with pytest.raises(Reject) as err:
        normalise_turns(turns, "messages")
    assert (err.value.reason, err.value.message) == ("bad_reasoning", "turn 2: 'thinking' is number, expected a string")


def test_openai_tool_calls_become_tool_call_turns() -> None:
    turns = [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "1", "type": "function", "function": {"name": "w", "arguments": '{"city": "Oslo"}'}}],
        },
        {"role": "tool", "tool_call_id": "1", "content": {"t": -3}},
        {"role": "assistant", "content": "cold"},
    ]
    out = normalise_turns(turns, "messages")
    assert [m["role"] for m in out] == ["user", "tool_call", "tool_response", "assistant"]
    assert json.loads(out[1]["content"]) == {"name": "w", "arguments": {"city": "Oslo"}}
    assert out[2]["content"] == '{"t": -3}'


def test_loss_fields_pass_through_and_other_keys_are_dropped() -> None:
    turns = [
        {"role": "user", "content": "q", "name": "x"},
        {"role": "assistant", "content": "a", "loss": False, "loss_scale": 2},
    ]
    assert normalise_turns(turns, "messages") == [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "a", "loss": False, "loss_scale": 2.0},
    ]


def test_system_precedence_and_reasoning_language() -> None:
    own = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "q"}]
    with_system(own, "ignored default", "German")
    assert own[0] == {"role": "system", "content": "Be brief.\n\nreasoning language: German"}
    bare = [{"role": "user", "content": "q"}]
    with_system(bare, None, "French")
    assert bare[0] == {"role": "system", "content": "reasoning language: French"}
    default = [{"role": "user", "content": "q"}]
    with_system(default, "Default.", None)
    assert default[0] == {"role": "system", "content": "Default."}
    with pytest.raises(Reject) as err:
        with_system([{"role": "user", "content": "q"}], None, 3)
    assert err.value.message == "'reasoning_language' is number, expected a string"
