"""The turn-order rule a conversation must follow to train as its author meant.

ms-swift's templates pair turns as (query, response) and quietly repair what does not fit:
consecutive user turns are glued together, a leading assistant turn gets an empty user turn
in front, a trailing user turn is never trained on. We reject those instead, by this rule:

* an optional `system` turn, first and only first;
* then a `user` turn;
* after `user`: `assistant` or `tool_call`;
* after `assistant`: `user` or `tool_call` (an answer may be followed by a tool call);
* after `tool_call`: another `tool_call` (parallel calls) or a `tool_response`;
* after `tool_response`: another `tool_response`, a `tool_call`, or the `assistant` answer;
* the last turn is `assistant`.

So each user turn is answered, and every tool call is answered by the tool before the
assistant speaks again: `user (tool_call+ tool_response+)* assistant`, repeated.
"""

from __future__ import annotations

from swiftpipe.data.reject import Reject
from swiftpipe.data.rows.messages import Message
from swiftpipe.data.rows.roles import ASSISTANT, SYSTEM, TOOL_CALL, TOOL_RESPONSE, USER

NEXT: dict[str, frozenset[str]] = {
    SYSTEM: frozenset({USER}),
    USER: frozenset({ASSISTANT, TOOL_CALL}),
    ASSISTANT: frozenset({USER, TOOL_CALL}),
    TOOL_CALL: frozenset({TOOL_CALL, TOOL_RESPONSE}),
    TOOL_RESPONSE: frozenset({TOOL_RESPONSE, TOOL_CALL, ASSISTANT}),
}


def check_turns(messages: list[Message]) -> None:
    """Raise `Reject('no_assistant' | 'bad_turn_order')` unless `messages` follow the rule."""
    check_roles([m["role"] for m in messages])


def check_roles(roles: list[str]) -> None:
    """`check_turns` for the conversation's roles alone, in order."""
    if ASSISTANT not in roles:
        raise Reject("no_assistant", f"no assistant turn (roles: {', '.join(roles)})")
    first = 1 if roles[0] == SYSTEM else 0
    if roles[first] != USER:
        raise Reject(
            "bad_turn_order",
            f"turn {first + 1} is {roles[first]}; the first turn after the optional system turn must be user",
        )
    previous = roles[first]
    for number in range(first + 2, len(roles) + 1):
        role = roles[number - 1]
        if role not in NEXT[previous]:
            raise Reject("bad_turn_order", _order_message(number, previous, role))
        previous = role
    if previous != ASSISTANT:
        raise Reject("bad_turn_order", f"the last turn is {previous}; a conversation must end with an assistant turn")


def _order_message(number: int, previous: str, role: str) -> str:
    if role == SYSTEM:
        return f"turn {number} is system; a system turn may only come first"
    allowed = " or ".join(sorted(NEXT[previous]))
    return f"turn {number} is {role} after {previous}; expected {allowed}"
