"""Duplicate detection by a hash of the conversation's normalised content.

Normalised means: roles kept, each content's whitespace runs collapsed to one space and its
ends trimmed, tools included. So rows that differ only in spacing or line breaks are
duplicates; rows that differ in case or punctuation are not.

Memory: one 64-bit hash per distinct row is kept (a CPython int in a set, about 70 bytes), so
`--dedupe` is the one option whose memory grows with the input: about 70 MB per million rows.
Two different rows share a 64-bit hash with probability about n²/2⁶⁵ (3e-8 for a million rows).
"""

from __future__ import annotations

from hashlib import blake2b

from swiftpipe.data.rows.messages import Message


def content_key(messages: list[Message], tools: str | None) -> int:
    """A 64-bit hash of the normalised conversation."""
    parts = [f"{m['role']}\x1f{' '.join(m['content'].split())}" for m in messages]
    if tools is not None:
        parts.append(f"tools\x1f{tools}")
    digest = blake2b("\x1e".join(parts).encode("utf-8", "surrogatepass"), digest_size=8)
    return int.from_bytes(digest.digest(), "big")

