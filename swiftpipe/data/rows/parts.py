"""OpenAI-style content given as a list of typed parts, joined the way ms-swift joins them.

`[{"type": "text", "text": ...}, {"type": "image_url", "image_url": {"url": ...}}, ...]` (or
`value` in place of `text`/`image_url`, as LLaMA-Factory's v1 files have it):
text parts are concatenated as they are (no separator, as ms-swift's
`remove_messages_media` does); each image, audio or video part becomes its `<image>` /
`<audio>` / `<video>` tag at that place, and its path or URL is handed back in order, for the
row's `images` / `audios` / `videos` lists (media.py checks and writes those).
"""

from __future__ import annotations

from typing import Any

from swiftpipe.data.reject import Reject, type_name

MEDIA_KINDS = ("image", "audio", "video")
# The part types that name a medium: image, image_url, input_image, audio, input_audio, ...
_PART_KIND = {f"{p}{k}{s}": k for k in MEDIA_KINDS for p in ("", "input_") for s in ("", "_url")}


def is_parts(content: object) -> bool:
    """True for a non-empty list of objects that each carry a `type`."""
    return type(content) is list and bool(content) and all(type(p) is dict and "type" in p for p in content)


def all_text(content: object) -> bool:
    """True for typed parts that are all text: a tool result given as parts, not as data."""
    if not is_parts(content):
        return False
    assert type(content) is list
    return all(p["type"] == "text" and len(p) == 2 and ("text" in p or "value" in p) for p in content)


def join_parts(parts: list[dict[str, Any]], where: str) -> tuple[str, list[tuple[str, str]]]:
    """The parts' text with media tags in place, and the media as (kind, path or URL) in order."""
    text: list[str] = []
    media: list[tuple[str, str]] = []
    for number, part in enumerate(parts, 1):
        kind = part["type"]
        if kind == "text":
            value = part.get("text", part.get("value"))  # LLaMA-Factory's v1 files use `value`
            if type(value) is not str:
                what = f"{where}: part {number} (text): 'text' is {type_name(value)}, expected a string"
                raise Reject("non_string_content", what)
            text.append(value)
        elif type(kind) is str and kind in _PART_KIND:
            medium = _PART_KIND[kind]
            media.append((medium, _reference(part, kind, f"{where}: part {number} ({kind})")))
            text.append(f"<{medium}>")
        else:
            expected = "expected text, image_url, image, audio or video"
            raise Reject("bad_field", f"{where}: part {number} has type {kind!r}; {expected}")
    return "".join(text), media


def _reference(part: dict[str, Any], kind: str, where: str) -> str:
    value = part.get(kind)
    if value is None:  # {"type": "image", "url"|"path"|"value": ...} also occur
        value = next((part[k] for k in ("url", "path", "value", "image") if k in part), None)
    if type(value) is dict:
        value = value.get("url", value.get("path"))
    if type(value) is not str or not value.strip():
        raise Reject("bad_field", f"{where}: no path or URL (expected '{kind}' or 'url' holding a string)")
    return value


# Assistant parts that are not text: reasoning, and tool calls (LLaMA-Factory v1 writes both).
REASONING_PARTS = frozenset({"reasoning", "thinking"})
CALL_PARTS = frozenset({"tool_call", "function_call"})


def needs_split(content: object) -> bool:
    """True for typed parts holding reasoning or tool calls: the turn becomes several."""
    if not is_parts(content):
        return False
    assert type(content) is list
    return any(p["type"] in REASONING_PARTS or p["type"] in CALL_PARTS for p in content)


def split_turn(turn: dict[str, Any]) -> list[dict[str, Any]]:
    """The turn without its reasoning and tool-call parts, then one `tool_call` turn per call.

    Reasoning parts become the turn's `thinking` (inlined as a <think> block later, as for
    every reasoning field); the calls follow the turn, as OpenAI `tool_calls` do.
    """
    parts: list[dict[str, Any]] = turn["content"]
    reasoning = [p for p in parts if p["type"] in REASONING_PARTS]
    calls = [p for p in parts if p["type"] in CALL_PARTS]
    rest = [p for p in parts if p["type"] not in REASONING_PARTS and p["type"] not in CALL_PARTS]
    out: list[dict[str, Any]] = []
    if rest or reasoning:
        main = {k: v for k, v in turn.items() if k != "content"}
        main["content"] = rest or ""
        if reasoning:
            main.setdefault("thinking", "\n".join(_value(p, "reasoning") for p in reasoning))
        out.append(main)
    out.extend({"role": "tool_call", "content": _value(call, "tool_call")} for call in calls)
    return out


def _value(part: dict[str, Any], what: str) -> Any:
    """A part's payload: `value`, or the field named like its type (tool calls may be objects)."""
    value = part.get("value", part.get(part["type"], part.get("text")))
    if value is None:
        raise Reject("missing_field", f"a {what} part has no 'value'")
    return value
