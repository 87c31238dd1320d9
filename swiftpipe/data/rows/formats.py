"""Input formats: detection, and one normaliser per format that returns swift messages.

Every normaliser takes one row (a dict) and returns its turns as ms-swift messages, or raises
`Reject`. The system prompt, `reasoning_language` and `tools` are handled by the converter for
all chat formats alike (`messages.with_system`, `normalise_tools`); the pretraining format
`text` (text.py) has none of them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from swiftpipe.data.reject import Reject, type_name
from swiftpipe.data.rows.messages import Message, normalise_turns
from swiftpipe.data.rows.roles import ASSISTANT, USER
from swiftpipe.data.rows.text import from_text, looks_like_text

FORMATS = ("sharegpt", "alpaca", "messages", "dolly", "query-response", "text")
# Formats whose rows are pretraining text: no system prompt added, checked by `check_text_turns`.
TEXT_FORMATS = frozenset({"text"})
QUERY_KEYS = ("query", "prompt", "question")
RESPONSE_KEYS = ("response", "answer", "completion")

# ms-swift's AlpacaPreprocessor.concat_inst_input joins with a single newline; we match it.
ALPACA_JOIN = "\n"
# Dolly's context is a reference passage, not a continuation of the instruction.
DOLLY_JOIN = "\n\n"


def detect(row: dict[str, Any]) -> str | None:
    """The format a row looks like, from its keys alone, or None."""
    if "messages" in row:
        return "messages"
    if "conversations" in row or "conversation" in row:
        return "sharegpt"
    if ("chosen" in row and "rejected" in row) or "chosen_messages" in row:  # pairs; preference.py reads them
        return "messages"
    if "instruction" in row:
        if "context" in row and "response" in row:
            return "dolly"
        if "output" in row:
            return "alpaca"
    if any(k in row for k in QUERY_KEYS) and any(k in row for k in RESPONSE_KEYS):
        return "query-response"
    if looks_like_text(row):  # its keys belong to no other format (text.py)
        return "text"
    return None


def from_messages(row: dict[str, Any]) -> list[Message]:
    """OpenAI/swift style: `messages: [{role, content}, ...]` (also `from`/`value` turns)."""
    if "messages" not in row:
        raise Reject("missing_field", "no 'messages' field")
    return normalise_turns(row["messages"], "messages")


def from_sharegpt(row: dict[str, Any]) -> list[Message]:
    """ShareGPT: `conversations: [{from, value}, ...]`, or ms-swift's pair form
    `conversation: [{human, assistant}, ...]`. An optional row `system` is handled later."""
    field = "conversations" if "conversations" in row else "conversation"
    if field not in row:
        raise Reject("missing_field", "no 'conversations' field")
    turns = row[field]
    if type(turns) is list and turns and type(turns[0]) is dict and _is_pair(turns[0]):
        turns = _pairs_to_turns(turns, field)
    return normalise_turns(turns, field)


def from_alpaca(row: dict[str, Any]) -> list[Message]:
    """Alpaca: `instruction`, optional `input`, `output`, optional `history: [[q, a], ...]`.

    The user turn is `instruction + "\\n" + input` when both are non-empty, else whichever is.
    This matches ms-swift's own `AlpacaPreprocessor.concat_inst_input` (a single newline), so a
    file trained through swiftpipe and the same file given straight to `swift sft` produce the
    same prompts. `history` pairs become earlier user/assistant turns.
    """
    instruction = _text(row, "instruction", required=False)
    input_ = _text(row, "input", required=False)
    query = f"{instruction}{ALPACA_JOIN}{input_}" if instruction and input_ else instruction or input_
    if "output" not in row:
        raise Reject("missing_field", "no 'output' field")
    return _with_history(row, query or "", row["output"])


def from_dolly(row: dict[str, Any]) -> list[Message]:
    """Dolly: `instruction`, `context`, `response` (`category` is not used).

    A non-empty `context` is kept: it follows the instruction in the user turn after a blank
    line (`instruction + "\\n\\n" + context`), as the reference text the answer draws on.
    """
    instruction = _text(row, "instruction", required=True)
    context = _text(row, "context", required=False)
    query = f"{instruction}{DOLLY_JOIN}{context}" if context and not context.isspace() else instruction
    if "response" not in row:
        raise Reject("missing_field", "no 'response' field")
    return _with_history(row, query, row["response"])


def from_query_response(row: dict[str, Any]) -> list[Message]:
    """`query`/`response` (or `prompt`/`completion`, `question`/`answer`), optional `history`."""
    query_key = next((k for k in QUERY_KEYS if k in row), None)
    response_key = next((k for k in RESPONSE_KEYS if k in row), None)
    if query_key is None or response_key is None:
        raise Reject("missing_field", "needs 'query' and 'response' (or prompt/completion, question/answer)")
    return _with_history(row, row[query_key], row[response_key])


NORMALISERS: dict[str, Callable[[dict[str, Any]], list[Message]]] = {
    "messages": from_messages,
    "sharegpt": from_sharegpt,
    "alpaca": from_alpaca,
    "dolly": from_dolly,
    "query-response": from_query_response,
    "text": from_text,
}


def normalise_tools(row: dict[str, Any]) -> str | None:
    """`tools` as ms-swift wants it: a JSON string holding a list of tool specs (objects).

    Accepts a list, a single object, or a JSON string of either; None when absent or empty.
    """
    tools = row.get("tools")
    if tools is None or tools == "" or tools == []:
        return None
    if type(tools) is str:
        try:
            tools = json.loads(tools)
        except ValueError:
            raise Reject("bad_tools", "'tools' is a string but not valid JSON") from None
    if type(tools) is dict:
        tools = [tools]
    if type(tools) is not list or not all(type(t) is dict for t in tools):
        raise Reject(
            "bad_tools",
            f"'tools' must be an array of objects, got {type_name(tools)}"
            if type(tools) is not list
            else "'tools' must hold only objects",
        )
    return json.dumps(tools, ensure_ascii=False)


def _is_pair(turn: dict[str, Any]) -> bool:
    return "role" not in turn and "from" not in turn and ("human" in turn or "user" in turn)


def _pairs_to_turns(pairs: list[Any], field: str) -> list[dict[str, Any]]:
    turns: list[dict[str, Any]] = []
    for number, pair in enumerate(pairs, 1):
        if type(pair) is not dict:
            raise Reject("bad_field", f"'{field}' item {number} is {type_name(pair)}, expected an object")
        turns.append({"role": USER, "content": pair.get("human", pair.get("user"))})
        turns.append({"role": ASSISTANT, "content": pair.get("assistant", pair.get("gpt"))})
    return turns


def _text(row: dict[str, Any], key: str, *, required: bool) -> str:
    value = row.get(key)
    if value is None:
        if required:
            raise Reject("missing_field", f"no '{key}' field")
        return ""
    if type(value) is not str:
        raise Reject("non_string_content", f"'{key}' is {type_name(value)}, expected a string")
    return value


def _with_history(row: dict[str, Any], query: object, response: object) -> list[Message]:
    history = row.get("history") or []
    if type(history) is not list:
        raise Reject("bad_field", f"'history' is {type_name(history)}, expected [[query, response], ...]")
    turns: list[dict[str, Any]] = []
    for number, pair in enumerate(history, 1):
        if type(pair) is not list or len(pair) != 2:
            raise Reject("bad_field", f"'history' item {number} is not a [query, response] pair")
        turns.append({"role": USER, "content": pair[0]})
        turns.append({"role": ASSISTANT, "content": pair[1]})
    turns.append({"role": USER, "content": query})
    turns.append({"role": ASSISTANT, "content": response})
    return normalise_turns(turns, "row")
