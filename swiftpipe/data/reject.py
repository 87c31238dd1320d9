"""Why a row was rejected: stable reason codes and the exception that carries one."""

from __future__ import annotations

# Stable codes: they appear in rejects files and reports, so never rename one.
REASONS: dict[str, str] = {
    "invalid_utf8": "the line is not valid UTF-8",
    "invalid_json": "the line or element is not valid JSON",
    "not_an_object": "the row is valid JSON but not an object",
    "missing_field": "a field the format needs is absent",
    "bad_field": "a field has the wrong type (e.g. a list expected)",
    "unknown_role": "a turn has a role that is not known",
    "null_content": "a turn's content is null",
    "empty_content": "a turn's content is empty or only whitespace",
    "non_string_content": "a turn's content is not a string",
    "bad_reasoning": "reasoning is not a string, or given twice",
    "bad_tools": "`tools` is not a list of tool specs",
    "no_assistant": "the conversation has no assistant turn",
    "bad_turn_order": "the turns do not follow the order the chat template needs",
    "has_prompt": "a row of format text (pretraining) also holds a prompt",
    "duplicate": "the same conversation appeared earlier (--dedupe)",
    "too_long": "longer than --max-length tokens (swift would drop it silently)",
    "preference_data": "a chosen/rejected pair or a KTO label, converted for sft",
    "not_preference": "converted for rlhf, but the row has no rejected answer and no label",
    "multimodal_unsupported": "the row has images, audios or videos; the model takes text only",
    "missing_media": "an image, audio or video file named by the row does not exist",
    "media_outside": "an image, audio or video path lies outside the dataset's folder (or media_root)",
    "nul_byte": "the row holds a NUL character (U+0000), which no text should carry",
    "media_count": "the number of <image>/<audio>/<video> tags differs from the files listed",
    "placeholder": "the text holds a {{placeholder}} meant to be filled in (--strict)",
    "row_too_large": "the row is longer than --max-row-bytes (read no further)",
}


class Reject(Exception):
    """A row cannot be converted; `reason` is a key of `REASONS`, `message` says where and why."""

    def __init__(self, reason: str, message: str) -> None:
        assert reason in REASONS, reason
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


def type_name(value: object) -> str:
    """The JSON name of a Python value's type, for messages."""
    if value is None:
        return "null"
    names = {bool: "boolean", int: "number", float: "number", str: "string", list: "array"}
    return names.get(type(value), "object")


NUL_MESSAGE = "a string holds a NUL character (U+0000); remove it"


def holds_nul(raw: str, value: object) -> bool:
    """Whether any string of the row (a key or a value) holds a NUL character.

    `raw`, the row's source text, is searched first (one fast scan): a NUL reaches a parsed
    string only as a NUL in CSV text or a `\\u0000` escape in JSON. Only then are the strings
    walked, since an escaped backslash before `u0000` is no NUL.
    """
    if "\0" not in raw and "\\u0000" not in raw:
        return False
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\0" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


# What a broken JSON array shows of the unreadable rest of its file (rows are kept whole).
RAW_LIMIT = 2000


def clip(text: str) -> str:
    """`text` without its line ending: the whole row, so a rejects file can be fixed and fed back."""
    return text.rstrip("\r\n")
