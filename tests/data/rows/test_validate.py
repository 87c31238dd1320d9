from __future__ import annotations

import pytest

from swiftpipe.data.reject import Reject
from swiftpipe.data.rows.validate import check_turns


def conv(*roles: str) -> list[dict[str, str]]:
    return [{"role": r, "content": "x"} for r in roles]


@pytest.mark.parametrize(
    "roles",
    [
        ("user", "assistant"),
        ("system", "user", "assistant", "user", "assistant"),
        ("user", "tool_call", "tool_response", "assistant"),
        ("user", "tool_call", "tool_call", "tool_response", "tool_response", "assistant"),
        ("user", "tool_call", "tool_response", "tool_call", "tool_response", "assistant", "user", "assistant"),
        ("user", "assistant", "tool_call", "tool_response", "assistant"),
    ],
)
def test_valid_orders(roles: tuple[str, ...]) -> None:
    check_turns(conv(*roles))


@pytest.mark.parametrize(
    ("roles", "reason", "message"),
    [
        (("user",), "no_assistant", "no assistant turn (roles: user)"),
        (("system", "user", "user"), "no_assistant", "no assistant turn (roles: system, user, user)"),
        (
            ("assistant", "user", "assistant"),
            "bad_turn_order",
            "turn 1 is assistant; the first turn after the optional system turn must be user",
        ),
        (("user", "user", "assistant"), "bad_turn_order", "turn 2 is user after user; expected assistant or tool_call"),
        (
            ("user", "assistant", "assistant"),
            "bad_turn_order",
            "turn 3 is assistant after assistant; expected tool_call or user",
        ),
        (
            ("user", "assistant", "system", "user", "assistant"),
            "bad_turn_order",
            "turn 3 is system; a system turn may only come first",
        ),
        (
            ("user", "tool_call", "assistant"),
            "bad_turn_order",
            "turn 3 is assistant after tool_call; expected tool_call or tool_response",
        ),
        (
            ("user", "tool_response", "assistant"),
            "bad_turn_order",
            "turn 2 is tool_response after user; expected assistant or tool_call",
        ),
        (
            ("user", "assistant", "user"),
            "bad_turn_order",
            "the last turn is user; a conversation must end with an assistant turn",
        ),
    ],
)
def test_invalid_orders(roles: tuple[str, ...], reason: str, message: str) -> None:
    with pytest.raises(Reject) as err:
        check_turns(conv(*roles))
    assert (err.value.reason, err.value.message) == (reason, message)
