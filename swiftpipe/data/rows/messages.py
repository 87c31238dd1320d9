"""One list of turns in any of the usual spellings -> ms-swift messages, checked turn by turn.

Each turn needs a role (`role` or `from`, aliases in `roles.py`) and a content (`content` or
`value`). Only `role`, `content`, `loss` and `loss_scale` are written: ms-swift silently drops
every other message key, so anything that matters is folded into `content` here instead:

* reasoning (`thinking`, `reasoning_content`, `reasoning`) on an assistant turn is inlined as
  `<think>\\n{reasoning}\\n</think>\\n\\n{answer}`, the form the qwen3-style templates train on;
* OpenAI `tool_calls` on an assistant turn become `tool_call` turns holding
  `{"name": ..., "arguments": ...}` (what ms-swift itself does with them);
* object content on `tool_call` / `tool_response` turns is serialised to a JSON string;
* content given as typed parts is joined (parts.py): text as text, media as their tags (the
  files go to the row's media lists, media.py), reasoning parts as the turn's reasoning, tool
  call parts as `tool_call` turns after it;
* LLaMA-Factory's `loss_weight` on an assistant turn: 0 is `loss: false`, another number a
  `loss_scale`; on other turns only 0 (they are never trained) is accepted.
"""

from __future__ import annotations

import json
from contextlib import suppress
from typing import Any

from swiftpipe.data.reject import Reject, type_name
from swiftpipe.data.rows import parts
from swiftpipe.data.rows.roles import ASSISTANT, SYSTEM, TOOL_CALL, TOOL_RESPONSE, canonical_role

Message = dict[str, Any]
REASONING_KEYS = ("thinking", "reasoning_content", "reasoning")
# Where a turn whose content was a list of typed parts keeps its media until media.py takes them.
MEDIA_KEY = "_media"
_TOOL_ROLES = (TOOL_CALL, TOOL_RESPONSE)


def normalise_turns(turns: object, field: str) -> list[Message]:
    """Normalise the list held in `field`; raise `Reject` at the first bad turn."""
    if type(turns) is not list:
        raise Reject("bad_field", f"'{field}' is {type_name(turns)}, expected an array of turns")
    if not turns:
        raise Reject("no_assistant", f"'{field}' is an empty array")
    out: list[Message] = []
    for number, turn in enumerate(turns, 1):
        if type(turn) is not dict:
            raise Reject("bad_field", f"turn {number}: is {type_name(turn)}, expected an object")
        if turn.get("tool_calls"):
            out.extend(_openai_tool_calls(turn, number))
        elif type(turn.get("content")) is list and parts.needs_split(turn["content"]):
            out.extend(normalise_turn(part, number) for part in parts.split_turn(turn))
        else:
            out.append(normalise_turn(turn, number))
    return out


def normalise_turn(turn: dict[str, Any], number: int) -> Message:
    """One turn -> `{"role", "content"[, "loss", "loss_scale"]}`, or raise `Reject`."""
    raw_role = turn["role"] if "role" in turn else turn.get("from")
    if raw_role is None:
        raise Reject("missing_field", f"turn {number}: no 'role' (or 'from')")
    role = canonical_role(raw_role, f"turn {number}")
    if "content" in turn:
        content = turn["content"]
    elif "value" in turn:
        content = turn["value"]
    else:
        raise Reject("missing_field", f"turn {number}: no 'content' (or 'value')")
    media: list[tuple[str, str]] = []
    if type(content) is not str:
        content = _non_string(role, content, number, media)
    if role == ASSISTANT:
        content = _with_reasoning(turn, content, number)
    elif not content or content.isspace():
        raise Reject("empty_content", f"turn {number} ({role}): content is empty")
    message: Message = {"role": role, "content": content}
    if media:  # taken off again by media.take_media before the row is written
        message[MEDIA_KEY] = media
    if len(turn) > 2:
        _copy_loss(turn, message, number)
    return message


def _non_string(role: str, content: object, number: int, media: list[tuple[str, str]]) -> str:
    if content is None:
        raise Reject("null_content", f"turn {number} ({role}): content is null")
    if role in _TOOL_ROLES and isinstance(content, (dict, list)) and not parts.all_text(content):
        return json.dumps(content, ensure_ascii=False)  # a tool's structured result, kept as JSON
    if parts.is_parts(content):
        assert type(content) is list
        text, found = parts.join_parts(content, f"turn {number} ({role})")
        media.extend(found)
        return text
    raise Reject(
        "non_string_content",
        f"turn {number} ({role}): content is {type_name(content)}, expected a string",
    )


def _with_reasoning(turn: dict[str, Any], content: str, number: int) -> str:
    reasoning = _reasoning(turn, number) if len(turn) > 2 else None
    if reasoning is None:
        if not content or content.isspace():
            raise Reject("empty_content", f"turn {number} (assistant): content is empty")
        return content
    key, text = reasoning
    answer = content.lstrip()
    if answer.startswith("<think>"):
        raise Reject(
            "bad_reasoning",
            f"turn {number}: reasoning given twice, in '{key}' and as a <think> block in the content",
        )
    return f"<think>\n{text.strip()}\n</think>\n\n{answer}"


def _reasoning(turn: dict[str, Any], number: int) -> tuple[str, str] | None:
    found: tuple[str, str] | None = None
    for key in REASONING_KEYS:
        text = turn.get(key)
        if text is None:
            continue
        if type(text) is not str:
            raise Reject("bad_reasoning", f"turn {number}: '{key}' is {type_name(text)}, expected a string")
        if not text.strip():
            continue
        if found is not None and found[1].strip() != text.strip():
            raise Reject("bad_reasoning", f"turn {number}: '{found[0]}' and '{key}' hold different reasoning; keep one")
        found = found or (key, text)
    return found


def _copy_loss(turn: dict[str, Any], message: Message, number: int) -> None:
    loss = turn.get("loss")
    if loss is not None:
        if type(loss) is not bool:
            raise Reject("bad_field", f"turn {number}: 'loss' is {type_name(loss)}, expected true or false")
        message["loss"] = loss
    scale = turn.get("loss_scale")
    if scale is not None:
        if type(scale) not in (int, float):
            raise Reject("bad_field", f"turn {number}: 'loss_scale' is {type_name(scale)}, expected a number")
        message["loss_scale"] = float(scale)
    if "loss_weight" in turn:
        _loss_weight(turn["loss_weight"], message, number)


def _loss_weight(weight: object, message: Message, number: int) -> None:
    """LLaMA-Factory v1's per-turn `loss_weight` in ms-swift's terms: on an assistant turn 0 is
    `loss: false`, another number a `loss_scale`; other turns are never trained, so only 0 fits."""
    role = message["role"]
    if type(weight) not in (int, float):
        raise Reject("bad_field", f"turn {number}: 'loss_weight' is {type_name(weight)}, expected a number")
    assert isinstance(weight, (int, float))
    if role != ASSISTANT:
        if weight != 0:
            raise Reject(
                "bad_field", f"turn {number} ({role}): 'loss_weight' {weight:g}, but only assistant turns are trained"
            )
    elif weight == 0:
        message["loss"] = False
    elif weight != 1 and "loss_scale" not in message:
        message["loss_scale"] = float(weight)


def _openai_tool_calls(turn: dict[str, Any], number: int) -> list[Message]:
    role = canonical_role(turn.get("role", turn.get("from")), f"turn {number}")
    calls = turn["tool_calls"]
    if role != ASSISTANT or type(calls) is not list:
        raise Reject("bad_field", f"turn {number}: 'tool_calls' must be an array on an assistant turn")
    out: list[Message] = []
    content = turn.get("content")
    if content:
        out.append(normalise_turn({"role": ASSISTANT, "content": content}, number))
    for call in calls:
        function = call.get("function", call) if type(call) is dict else None
        name = function.get("name") if type(function) is dict else None
        if type(name) is not str or function is None:
            raise Reject("bad_field", f"turn {number}: a tool call has no function name")
        arguments = function.get("arguments", {})
        if type(arguments) is str:
            with suppress(ValueError):  # ms-swift keeps unparseable arguments as text too
                arguments = json.loads(arguments)
        payload = {"name": name, "arguments": arguments}
        out.append({"role": TOOL_CALL, "content": json.dumps(payload, ensure_ascii=False)})
    return out


def with_system(messages: list[Message], system: object, reasoning_language: object) -> None:
    """Put the system prompt first: the conversation's own, else `system`, plus the language.

    A row-level `reasoning_language` becomes the line `reasoning language: <lang>`, alone or
    after the system prompt and a blank line (the multilingual-thinking recipe's convention).
    """
    if messages[0]["role"] != SYSTEM and system is not None:
        if type(system) is not str:
            raise Reject("bad_field", f"'system' is {type_name(system)}, expected a string")
        if system.strip():
            messages.insert(0, {"role": SYSTEM, "content": system})
    if reasoning_language is None:
        return
    if type(reasoning_language) is not str:
        raise Reject("bad_field", f"'reasoning_language' is {type_name(reasoning_language)}, expected a string")
    if not reasoning_language.strip():
        return
    add_system_line(messages, f"reasoning language: {reasoning_language.strip()}")


def add_system_line(messages: list[Message], line: str) -> None:
    """`line` as the system turn, or after the system prompt and a blank line (once)."""
    if messages[0]["role"] != SYSTEM:
        messages.insert(0, {"role": SYSTEM, "content": line})
    elif line not in messages[0]["content"]:
        messages[0]["content"] = f"{messages[0]['content']}\n\n{line}"
