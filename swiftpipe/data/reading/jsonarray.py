"""An incremental parser for a JSON array of rows, so a `.json` file is streamed, not loaded.

`json.JSONDecoder.raw_decode` parses one value at a time out of a text buffer; this module
keeps a buffer of decoded text topped up from a binary stream, walks the array's punctuation
itself, and hands each element to `raw_decode`. Memory holds one element plus one chunk.
Invalid UTF-8 bytes are decoded with `surrogateescape` and turn their element into a reject;
the JSON structure around them is still readable.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import IO, Any, NamedTuple

from swiftpipe.core.errors import UserError
from swiftpipe.data.reject import RAW_LIMIT, Reject

_WS = re.compile(r"[ \t\n\r]*")
_SURROGATE = re.compile("[\udc80-\udcff]")


class Element(NamedTuple):
    """One array element: where it starts, its value, its source text, or why it failed."""

    line: int
    item: int
    value: Any
    raw: str
    reject: Reject | None


class JsonArrayReader:
    """Iterate the elements of a top-level array, or of the one array inside a top-level object."""

    def __init__(self, stream: IO[bytes], name: str, chunk_size: int = 1 << 16) -> None:
        self._stream = stream
        self._name = name
        self._chunk = chunk_size
        self._decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        self._raw_decode = json.JSONDecoder().raw_decode
        self._buf = ""
        self._pos = 0
        self._eof = False
        self._dirty = False  # the buffer holds bytes that were not valid UTF-8
        self._line = 1  # line number at self._pos
        self._counted = 0  # newlines counted up to this buffer offset
        self._stopped = False  # an element was broken: nothing after it can be trusted

    def __iter__(self) -> Iterator[Element]:
        first = self._peek()
        if first == "":
            return
        if first == "[":
            yield from self._array()
        elif first == "{":
            yield from self._object()
        else:
            raise UserError(
                f"{self._name}: not a JSON array or object (it starts with {first!r}); use .jsonl for JSON Lines"
            )
        if not self._stopped and self._peek() != "":
            raise UserError(
                f"{self._name}: line {self._line_at()}: unexpected text after the "
                "top-level JSON value; the file holds more than one value"
            )

    # -- buffer -------------------------------------------------------------------------

    def _fill(self, want: int = 0) -> bool:
        """Read more text into the buffer; False at end of file."""
        if self._eof:
            return False
        self._line_at()
        self._buf = self._buf[self._pos :]
        self._counted -= self._pos
        self._pos = 0
        data = self._stream.read(max(self._chunk, want))
        text = self._decoder.decode(data, final=not data)
        if not data:
            self._eof = True
        if _SURROGATE.search(text):
            self._dirty = True
        self._buf += text
        return bool(data) or bool(text)

    def _line_at(self) -> int:
        if self._counted < self._pos:
            self._line += self._buf.count("\n", self._counted, self._pos)
            self._counted = self._pos
        return self._line

    def _peek(self) -> str:
        """Skip whitespace and return the next character ('' at end of file)."""
        while True:
            match = _WS.match(self._buf, self._pos)
            end = match.end() if match else self._pos
            self._pos = end
            if end < len(self._buf):
                return self._buf[end]
            if not self._fill():
                return ""

    def _expect(self, chars: str) -> str:
        char = self._peek()
        if char == "" or char not in chars:
            got = "end of file" if char == "" else repr(char)
            raise _Broken(f"expected one of {chars!r}, got {got}")
        self._pos += 1
        return char

    def _decode(self) -> tuple[Any, int]:
        """Decode the value at the cursor, reading more until it is complete."""
        while True:
            buf, pos = self._buf, self._pos
            try:
                value, end = self._raw_decode(buf, pos)
            except json.JSONDecodeError as exc:
                truncated = exc.pos >= len(buf) - 8 or exc.msg.startswith("Unterminated string")
                if not self._eof and truncated:
                    self._fill(len(buf))
                    continue
                raise _Broken(exc.msg) from None
            except RecursionError:
                raise _Broken("nested too deeply") from None
            if end == len(buf) and not self._eof and self._fill():
                continue  # a number at the buffer's end may continue in the next chunk
            return value, end

    # -- structure ----------------------------------------------------------------------

    def _object(self) -> Iterator[Element]:
        self._pos += 1
        seen: str | None = None
        try:
            closed = self._peek() == "}"
            if closed:
                self._pos += 1
            while not closed:
                if self._peek() != '"':
                    raise _Broken("expected a key in double quotes")
                key, self._pos = self._decode()
                self._expect(":")
                if self._peek() == "[":
                    if seen is not None:
                        raise UserError(
                            f"{self._name}: the top-level object holds more than one "
                            f"array ({seen!r} and {key!r}); keep one array of rows"
                        )
                    seen = str(key)
                    yield from self._array()
                    if self._stopped:
                        return
                else:
                    _, self._pos = self._decode()
                closed = self._expect(",}") == "}"
        except _Broken as exc:
            raise UserError(f"{self._name}: line {self._line_at()}: invalid JSON: {exc}") from None
        if seen is None:
            raise UserError(
                f"{self._name}: the top-level object holds no array of rows; "
                "give a JSON array or an object with one array"
            )

    def _array(self) -> Iterator[Element]:
        self._pos += 1
        if self._peek() == "]":
            self._pos += 1
            return
        index = 0
        while True:
            self._peek()
            line = self._line_at()
            try:
                value, end = self._decode()
            except _Broken as exc:
                raw = self._buf[self._pos : self._pos + RAW_LIMIT]
                msg = f"{exc}; the rest of the file cannot be read"
                self._stopped = True
                yield Element(line, index, None, raw, Reject("invalid_json", msg))
                return
            start = self._pos
            self._pos = end
            yield self._element(line, index, value, start, end)
            index += 1
            try:
                if self._expect(",]") == "]":
                    return
            except _Broken as exc:
                raise UserError(
                    f"{self._name}: line {self._line_at()}: invalid JSON after element {index - 1}: {exc}"
                ) from None

    def _element(self, line: int, index: int, value: Any, start: int, end: int) -> Element:
        raw = self._buf[start:end]
        if self._dirty and _SURROGATE.search(self._buf, start, end):
            raw = raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            reject = Reject("invalid_utf8", "the element holds bytes that are not valid UTF-8")
            return Element(line, index, None, raw, reject)
        return Element(line, index, value, raw, None)


class _Broken(Exception):
    """The JSON structure is broken at the cursor."""
