"""Token lengths, estimated with the model's own `tokenizer.json` and no transformers import.

The conversation is rendered as the ChatML/qwen3 template would render it for training:
`<|im_start|>{role}\\n{content}<|im_end|>\\n` per turn, an empty `<think>\\n\\n</think>\\n\\n`
in front of every assistant turn that has no think block, tool-call turns included (qwen3 adds
it to each in train mode), tool calls and tool responses wrapped as the hermes agent template
wraps them, and the tools' descriptions in the system turn. An empty tools list (`"[]"`, as
LLaMA-Factory's glaive rows have) renders no tools header, as in ms-swift. This is an
*estimate*, made to err high: turns are closed with a newline even where the template has
none, each tool call is its own turn, and `MARGIN` tokens are added.
It is meant to match or exceed what `swift sft` counts for qwen-style templates; for other
templates it is only a guide. Exact lengths, from ms-swift's own template, are in exact.py.

A conversation whose first turn (after the system turn) is an assistant turn, as a pretraining
row of format `text` is, gets the empty user turn `swift sft` puts in front of it. `swift pt`
renders such a row as its text and the end token only, so for pt the estimate is high by the
chat markup (about 20 tokens), never low.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from swiftpipe.core.errors import UserError
from swiftpipe.data.rows.messages import Message
from swiftpipe.data.rows.roles import ASSISTANT, SYSTEM, TOOL_CALL, TOOL_RESPONSE

if TYPE_CHECKING:
    from tokenizers import Tokenizer

MARGIN = 4
SHRINK = 4  # the most a text's length shrinks when normalised (NFC composition: 3)
_EMPTY_THINK = "<think>\n\n</think>\n\n"
_EMPTY_USER = "<|im_start|>user\n<|im_end|>\n"
_TOOLS_HEAD = (
    "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
)
_TOOLS_TAIL = (
    "\n</tools>\n\nFor each function call, return a json object with function name and "
    "arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n"
    '{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>'
)


def find_tokenizer(path: Path) -> Path:
    """`path/tokenizer.json` for a model directory, or `path` itself if it is the file."""
    file = path / "tokenizer.json" if path.is_dir() else path
    if not file.is_file():
        raise UserError(f"--tokenizer {path}: no tokenizer.json there; pass the model directory that holds it")
    return file


class TokenCounter:
    """Counts the tokens of many conversations at once with `encode_batch_fast`."""

    exact = False

    def __init__(self, path: Path, max_length: int | None = None) -> None:
        from tokenizers import Tokenizer

        file = find_tokenizer(path)
        try:
            self._tok: Tokenizer = Tokenizer.from_file(str(file))
        except Exception as exc:  # the tokenizers library raises its own exception types
            raise UserError(f"--tokenizer {path}: cannot load {file.name} ({exc})") from None
        self._tok.no_truncation()
        self._tok.no_padding()
        self._limit = max_length
        # No token stands for more characters than its own spelling has.
        self.longest = max(map(len, self._tok.get_vocab(with_added_tokens=True)), default=1)

    def count(self, rows: list[tuple[list[Message], str | None]]) -> list[int]:
        """Estimated token lengths of (messages, tools) pairs, in order (see `exact.Counter`)."""
        return count_within(rows, self._limit, self.longest, self._count)

    def _count(self, rows: list[tuple[list[Message], str | None]]) -> list[int]:
        texts = [render(messages, tools) for messages, tools in rows]
        encodings = self._tok.encode_batch_fast(texts, add_special_tokens=False)
        return [len(e.ids) + MARGIN for e in encodings]


Rows = list[tuple[list[Message], str | None]]


def count_within(rows: Rows, limit: int | None, longest: int, count: Callable[[Rows], list[int]]) -> list[int]:
    """`count(rows)`, except for rows too long to need counting: those get -n, n a number of
    tokens they surely exceed, and are never tokenised.

    A token covers at most `longest` characters of normalised text, and normalising shrinks a
    text by at most `SHRINK` (composing characters), so a row of c characters has at least
    c // (longest * SHRINK) tokens. Past max_length that is all there is to know, and the
    time and memory a row costs stay bounded by max_length, not by the row.
    """
    if limit is None:
        return count(rows)
    per_token = longest * SHRINK
    floors = [_chars(messages, tools) // per_token for messages, tools in rows]
    measured = iter(count([row for row, floor in zip(rows, floors, strict=True) if floor <= limit]))
    return [next(measured) if floor <= limit else -floor for floor in floors]


def _chars(messages: list[Message], tools: str | None) -> int:
    return sum([len(m["content"]) for m in messages]) + len(tools or "")


def render(messages: list[Message], tools: str | None) -> str:
    """The conversation as text, close to (and not shorter than) the qwen3 training prompt."""
    parts: list[str] = []
    start = 0
    specs = _tool_lines(tools) if tools is not None else ""
    if messages[0]["role"] == SYSTEM or specs:
        system = messages[0]["content"] if messages[0]["role"] == SYSTEM else ""
        start = 1 if messages[0]["role"] == SYSTEM else 0
        if specs:
            system = f"{system}{_TOOLS_HEAD}{specs}{_TOOLS_TAIL}"
        parts.append(f"<|im_start|>system\n{system}<|im_end|>\n")
    if start < len(messages) and messages[start]["role"] == ASSISTANT:
        parts.append(_EMPTY_USER)
    for message in messages[start:]:
        parts.append(_render_turn(message["role"], message["content"]))
    return "".join(parts)


def _render_turn(role: str, content: str) -> str:
    if role == ASSISTANT:
        think = "" if content.startswith("<think>") else _EMPTY_THINK
        return f"<|im_start|>assistant\n{think}{content}<|im_end|>\n"
    if role == TOOL_CALL:
        return f"<|im_start|>assistant\n{_EMPTY_THINK}<tool_call>\n{content}\n</tool_call><|im_end|>\n"
    if role == TOOL_RESPONSE:
        return f"<|im_start|>user\n<tool_response>\n{content}\n</tool_response><|im_end|>\n"
    return f"<|im_start|>{role}\n{content}<|im_end|>\n"


def _tool_lines(tools: str) -> str:
    specs: list[Any] = json.loads(tools)
    wrapped = [t if "type" in t or "function" in t else {"type": "function", "function": t} for t in specs]
    return "\n".join(json.dumps(t, ensure_ascii=False) for t in wrapped)
