"""The output line for one converted row, byte-identical to `json.dumps(row, ensure_ascii=False)`.

Encoding is the converter's single largest cost after parsing. The stdlib encoder with
`ensure_ascii=False` is about twice as slow as its ASCII mode on ASCII text, so plain
messages (only `role` and `content`) are assembled here, each string escaped by the C
escaper that is fastest for it; anything else goes through the general encoder.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring, encode_basestring_ascii

from swiftpipe.data.messages import Message

_general = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode


def _quote(text: str) -> str:
    # For ASCII text both escapers give the same result; the ASCII one is faster there.
    return encode_basestring_ascii(text) if text.isascii() else encode_basestring(text)


def encode_row(messages: list[Message], tools: str | None) -> str:
    """`{"messages": [...], "tools": "..."}` as one JSON line, newline included."""
    parts = []
    for m in messages:
        if len(m) != 2:
            return _slow(messages, tools)
        parts.append(f'{{"role": "{m["role"]}", "content": {_quote(m["content"])}}}')
    tail = "" if tools is None else f', "tools": {_quote(tools)}'
    return f'{{"messages": [{", ".join(parts)}]{tail}}}\n'


def _slow(messages: list[Message], tools: str | None) -> str:
    row: dict[str, object] = {"messages": messages}
    if tools is not None:
        row["tools"] = tools
    return _general(row) + "\n"
