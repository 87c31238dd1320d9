"""Preference rows -> ms-swift's preference format, for `swift rlhf` (dpo, orpo, simpo, cpo, kto).

Accepted shapes (ms-swift writes `messages` ending in the chosen answer, plus the rejected one):

* ShareGPT (LLaMA-Factory's dpo demo): `conversations` holds the prompt turns, `chosen` and
  `rejected` are single turns `{from, value}`;
* OpenAI style: `messages` holds the prompt, `chosen`/`rejected` are turns, strings, or lists of
  turns (whole conversations that repeat the prompt, as HH-RLHF has them, are accepted too);
* TRL style: `prompt` (a string or turns) with `chosen`/`rejected`;
* ms-swift's own: `messages` (the chosen conversation) + `rejected_response` or `rejected_messages`;
* LLaMA-Factory v1: `chosen_messages` + `rejected_messages`, two whole conversations.

The output is `messages` + `rejected_response` when the two answers share everything but the
last assistant turn, else `messages` + `rejected_messages`. KTO rows are `messages` + a
boolean `label` (false: an undesirable answer); `label` is checked here and written as is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from swiftpipe.data.reject import Reject, type_name
from swiftpipe.data.rows.messages import Message, normalise_turn, normalise_turns
from swiftpipe.data.rows.roles import ASSISTANT, USER

PREFERENCE_KEYS = ("chosen", "rejected", "rejected_response", "rejected_messages", "chosen_messages")
PROMPT_FIELDS = ("messages", "conversations", "conversation")
SFT_MESSAGE = "preference data: not an sft format; feed it to an rlhf stage"


def is_preference(row: dict[str, Any]) -> bool:
    """True for a row holding a chosen/rejected pair in any accepted shape."""
    return any(k in row for k in PREFERENCE_KEYS)


def is_kto(row: dict[str, Any]) -> bool:
    """True for a KTO row: a boolean `label` (or 1/0); other labels (a class name) are not KTO's."""
    value = row.get("label")
    return type(value) is bool or (type(value) is int and value in (0, 1))


def label(row: dict[str, Any]) -> bool:
    """A KTO row's `label` as a boolean (true/false, or 1/0), or raise `Reject`."""
    value = row["label"]
    if type(value) is bool:
        return value
    if type(value) is int and value in (0, 1):
        return bool(value)
    raise Reject("bad_field", f"'label' is {type_name(value)} {value!r}, expected true or false")


Normalise = Callable[[dict[str, Any]], list[Message]]


def split(row: dict[str, Any], normalise: Normalise) -> tuple[list[Message], dict[str, Any]]:
    """(the chosen conversation, the rejected part as ms-swift's fields), or raise `Reject`."""
    if "chosen_messages" in row:  # LLaMA-Factory v1: two whole conversations
        row = {"chosen": row["chosen_messages"], "rejected": row.get("rejected_messages", row.get("rejected"))}
        if row["rejected"] is None:
            raise Reject("missing_field", "'chosen_messages' without 'rejected_messages'; a preference row needs both")
    elif "rejected_response" in row or "rejected_messages" in row:
        return _swift_form(row, normalise)
    missing = [k for k in ("chosen", "rejected") if k not in row]
    if missing:
        have = "chosen" if missing == ["rejected"] else "rejected"
        raise Reject("missing_field", f"'{have}' without '{missing[0]}'; a preference row needs both")
    prompt = _prompt(row, normalise)
    chosen = prompt + _answer(row["chosen"], "chosen", prompt)
    rejected = prompt + _answer(row["rejected"], "rejected", prompt)
    if len(rejected) == len(chosen) and rejected[:-1] == chosen[:-1] and rejected[-1]["role"] == ASSISTANT:
        if rejected[-1]["content"] == chosen[-1]["content"]:
            raise Reject("bad_field", "'chosen' and 'rejected' are the same answer")
        return chosen, {"rejected_response": rejected[-1]["content"]}
    return chosen, {"rejected_messages": rejected}


def _swift_form(row: dict[str, Any], normalise: Normalise) -> tuple[list[Message], dict[str, Any]]:
    messages = normalise(row)
    if "rejected_messages" in row:
        return messages, {"rejected_messages": normalise_turns(row["rejected_messages"], "rejected_messages")}
    response = row["rejected_response"]
    if type(response) is not str or not response.strip():
        raise Reject("bad_field", f"'rejected_response' is {type_name(response)}, expected a non-empty string")
    if response == messages[-1]["content"]:
        raise Reject("bad_field", "'rejected_response' is the same as the chosen answer")
    return messages, {"rejected_response": response}


def _prompt(row: dict[str, Any], normalise: Normalise) -> list[Message]:
    if any(k in row for k in PROMPT_FIELDS):
        return normalise(row)
    prompt = row.get("prompt", row.get("question"))
    if prompt is None:
        return []  # chosen and rejected are whole conversations
    if type(prompt) is str:
        return [normalise_turn({"role": USER, "content": prompt}, 1)]
    return normalise_turns(prompt, "prompt")


def _answer(value: object, field: str, prompt: list[Message]) -> list[Message]:
    if type(value) is str:
        return [normalise_turn({"role": ASSISTANT, "content": value}, len(prompt) + 1)]
    if type(value) is dict:
        return [normalise_turn(value, len(prompt) + 1)]
    turns = normalise_turns(value, field)
    if prompt and turns[: len(prompt)] == prompt:
        return turns[len(prompt) :]  # a whole conversation that repeats the prompt
    return turns
