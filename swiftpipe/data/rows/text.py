"""Format `text`: pretraining rows, written as the single assistant turn `swift pt` trains on.

A row gives its text in one of `TEXT_KEYS` (`{"text": ...}` is the c4 style; `response`,
`output`, `completion` or `answer` alone are "response-only" rows), or as `messages` /
`conversations` holding exactly one assistant turn (ms-swift's own pretraining form). The
output is `{"messages": [{"role": "assistant", "content": TEXT}]}`.

Detection (`format: auto`): a row is `text` when it has a `text` key and every other key is
metadata from `META_KEYS` (`id`, `meta`, `url`, `timestamp`, ...), as in c4 and RedPajama
dumps. None of these keys belongs to another format, so detection stays unambiguous. Rows with
any other key (`{"text", "label"}` is a classification set; fineweb carries many extra
fields) are not guessed at: pass `--format text` for those. Response-only rows are never
auto-detected either, since a prompt-less chat file is more often broken than meant as
pretraining text; with `--format text` they are accepted.

A text row has no prompt: `swift pt` renders only the text plus the end-of-text token and
silently drops a system turn, so a row whose prompt-side field (`PROMPT_KEYS`) holds something,
or whose turns include a non-assistant one, is rejected (`has_prompt`) rather than trained
on without its prompt. The run-wide default system prompt is not added to text rows.
"""

from __future__ import annotations

from typing import Any

from swiftpipe.data.reject import Reject, type_name
from swiftpipe.data.rows.messages import Message, normalise_turns
from swiftpipe.data.rows.roles import ASSISTANT

TEXT_KEYS = ("text", "response", "output", "completion", "answer")
TURN_KEYS = ("messages", "conversations")
META_KEYS = frozenset({"id", "meta", "metadata", "url", "source", "timestamp"})
PROMPT_KEYS = ("system", "instruction", "input", "query", "prompt", "question", "history", "tools")


def looks_like_text(row: dict[str, Any]) -> bool:
    """True for `{"text": ...}` with nothing but metadata beside it (see the module docstring)."""
    return "text" in row and all(key == "text" or key in META_KEYS for key in row)


def from_text(row: dict[str, Any]) -> list[Message]:
    """The row's text as one assistant turn, or raise `Reject`."""
    for key in PROMPT_KEYS:
        if _holds_something(row.get(key)) and not (key == "tools" and row[key] == "[]"):
            raise Reject("has_prompt", f"'{key}' is set, but format text takes rows without a prompt")
    keys = [key for key in (*TEXT_KEYS, *TURN_KEYS) if key in row]
    if not keys:
        raise Reject(
            "missing_field",
            "no 'text' field (format text also takes response, output, completion or answer)",
        )
    if len(keys) > 1:
        raise Reject("bad_field", f"both '{keys[0]}' and '{keys[1]}' are given; a text row needs one")
    key = keys[0]
    if key in TURN_KEYS:
        return normalise_turns(row[key], key)
    text = row[key]
    if text is None:
        raise Reject("null_content", f"'{key}' is null")
    if type(text) is not str:
        raise Reject("non_string_content", f"'{key}' is {type_name(text)}, expected a string")
    if not text or text.isspace():
        raise Reject("empty_content", f"'{key}' is empty")
    return [{"role": ASSISTANT, "content": text}]


def check_text_turns(messages: list[Message]) -> None:
    """The text format's rule: exactly one turn, an assistant one (no prompt of any kind)."""
    for number, message in enumerate(messages, 1):
        if message["role"] != ASSISTANT:
            raise Reject(
                "has_prompt",
                f"turn {number} is {message['role']}; format text takes a single assistant turn",
            )
    if len(messages) > 1:
        raise Reject(
            "bad_turn_order",
            f"{len(messages)} assistant turns; format text takes one (swift pt would join them with no separator)",
        )


def _holds_something(value: object) -> bool:
    if value is None:
        return False
    if type(value) is str:
        return bool(value.strip())
    return value not in ([], {})
