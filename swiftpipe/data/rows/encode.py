"""The output line for one converted row, byte-identical to `json.dumps(row, ensure_ascii=False)`.

Encoding is the converter's single largest cost after parsing. The stdlib encoder with
`ensure_ascii=False` is about twice as slow as its ASCII mode on ASCII text, so plain
messages (only `role` and `content`) are assembled here, each string escaped by the C
escaper that is fastest for it; anything else goes through the general encoder.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring, encode_basestring_ascii

from swiftpipe.data.rows.messages import Message
from swiftpipe.data.rows.roles import ASSISTANT, SYSTEM, TOOL_CALL, TOOL_RESPONSE, USER

_general = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode

# What precedes a plain message's quoted content, per role (roles need no escaping).
HEADS = {r: f'{{"role": "{r}", "content": ' for r in (SYSTEM, USER, ASSISTANT, TOOL_CALL, TOOL_RESPONSE)}


def quote(text: str) -> str:
    """`text` as a JSON string, as `json.dumps(text, ensure_ascii=False)` writes it."""
    # For ASCII text both escapers give the same result; the ASCII one is faster there.
    return encode_basestring_ascii(text) if text.isascii() else encode_basestring(text)


def encode_row(messages: list[Message], tools: str | None, extras: dict[str, object] | None = None) -> str:
    """`{"messages": [...], "tools": "...", **extras}` as one JSON line, newline included."""
    if extras:
        return _slow(messages, tools, extras)
    parts = []
    for m in messages:
        if len(m) != 2:
            return _slow(messages, tools)
        parts.append(f"{HEADS[m['role']]}{quote(m['content'])}}}")
    tail = "" if tools is None else f', "tools": {quote(tools)}'
    return f'{{"messages": [{", ".join(parts)}]{tail}}}\n'


def _slow(messages: list[Message], tools: str | None, extras: dict[str, object] | None = None) -> str:
    row: dict[str, object] = {"messages": messages}
    if tools is not None:
        row["tools"] = tools
    if extras:
        row.update(extras)
    return _general(row) + "\n"
