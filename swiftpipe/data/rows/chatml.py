"""ms-swift's qwen3 template, followed closely enough to count its tokens without loading it.

Loading ms-swift's template (exact.py) imports torch, transformers and ms-swift: about ten
seconds per process, longer than measuring tens of thousands of rows. For the rows that make
up most chat data (an optional system turn, then user and assistant turns in strict
alternation, plain text, no tools) this module builds the same strings ms-swift's template
tokenises and tokenises them with the same tokenizer, all rows of a run at once.

What ms-swift 4.6 does with such a row in train mode (`Template._swift_encode` and
`_encode_context_list`, template `qwen3`, loss_scale `default+ignore_empty_think`):
the system block (when there is a system text), then per round the user prompt up to the
assistant header, the answer with `<think>\\n\\n</think>\\n\\n` put in front unless it starts
with a think block, and `<|im_end|>\\n` after it. The answer is split where the loss scale
config matches (an empty think block gets weight 0), neighbouring strings of equal weight
are joined, and each joined string is tokenised on its own; the length is the sum. The
length swift compares with max_length is that of input_ids (labels have the same length).

Anything else returns None and is measured by ms-swift's own template: tools, other roles,
a first assistant turn, a `{{` (the template substitutes its placeholders in the text), a
media tag, an answer ending in a stop word. tests/data/rows/test_chatml.py compares both ways,
string for string, on every row of the test corpora.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from swiftpipe.data.rows.messages import Message
from swiftpipe.data.rows.roles import ASSISTANT, SYSTEM, USER

if TYPE_CHECKING:
    from tokenizers import Tokenizer

TEMPLATES = ("qwen3",)  # the templates followed here; any other is measured by ms-swift
NON_THINKING = "<think>\n\n</think>\n\n"
_THINKING = "<think>"
_SYSTEM = "<|im_start|>system\n{}<|im_end|>\n"
_PROMPT = "<|im_start|>user\n{}<|im_end|>\n<|im_start|>assistant\n"
_END = "<|im_end|>\n"  # the chat separator after an answer, and the suffix after the last
_STOP_WORDS = ("<|endoftext|>", "<|im_end|>")
# Text that ms-swift's template would treat specially in a turn: its placeholders and the
# media and grounding tags it splits out.
_SPECIAL = re.compile(r"\{\{|<(image|video|audio|bbox|ref-object|cot-process|start-image)>")
_LOSS_CONFIG = ("loss_scale", "config", "ignore_empty_think.json")
# Tokenizer classes transformers builds straight from tokenizer.json: the tokenizer loaded
# here is then the one ms-swift uses. Classes that rebuild it from the vocabulary (with
# their own normaliser and pre-tokenizer) are left to ms-swift.
_FILE_TOKENIZERS = ("TokenizersBackend", "PreTrainedTokenizerFast")


class Qwen3Lengths:
    """`pieces(messages)`: the strings ms-swift tokenises for a row, or None if it is not sure;
    `count(rows)`: their token counts, summed per row."""

    def __init__(self, tokenizer: Tokenizer, zero_weight: list[str]) -> None:
        self._tok = tokenizer
        self._split = re.compile("|".join(f"({p})" for p in zero_weight), re.DOTALL)
        self._zero = [re.compile(p, re.DOTALL) for p in zero_weight]
        # Patterns that all start with ^ split an answer at most once, at its start: a match
        # there is all the split there is (re.split would try every position of the answer).
        self._anchored = all(p.startswith("^") for p in zero_weight)

    def count(self, rows: list[list[str] | None]) -> list[int | None]:
        """The summed token counts of each row's pieces (None stays None), tokenised in one batch."""
        flat = [piece for pieces in rows if pieces is not None for piece in pieces]
        sizes = [len(e.ids) for e in self._tok.encode_batch_fast(flat, add_special_tokens=False)]
        lengths: list[int | None] = []
        at = 0
        for pieces in rows:
            if pieces is None:
                lengths.append(None)
                continue
            lengths.append(sum(sizes[at : at + len(pieces)]))
            at += len(pieces)
        return lengths

    def pieces(self, messages: list[Message]) -> list[str] | None:
        """The strings ms-swift's qwen3 template tokenises one by one for `messages`, or None."""
        for m in messages:
            text = m["content"]
            if len(m) != 2 or (("<" in text or "{" in text) and _SPECIAL.search(text)):
                return None
        system = messages[0]["content"] if messages[0]["role"] == SYSTEM else None
        turns = messages[1:] if system is not None else messages
        if len(turns) % 2 or not turns or turns[-1]["content"].endswith(_STOP_WORDS):
            return None
        weighted: list[tuple[str, float]] = [(_SYSTEM.format(system), 0.0)] if system else []
        for i in range(0, len(turns), 2):
            query, answer = turns[i], turns[i + 1]
            if query["role"] != USER or answer["role"] != ASSISTANT:
                return None
            weighted.append((_PROMPT.format(query["content"]), 0.0))
            weighted += self._answer(answer["content"])
            weighted.append((_END, 0.0 if i + 2 < len(turns) else 1.0))
        return _join(weighted)

    def _answer(self, text: str) -> list[tuple[str, float]]:
        """The answer's parts and their loss weights, as ms-swift's loss scale splits it."""
        if not text.startswith(_THINKING):
            text = NON_THINKING + text
        if self._anchored:
            found = self._split.match(text)
            end = found.end() if found else 0
            parts = [p for p in (text[:end], text[end:]) if p]
        else:
            parts = [p for p in self._split.split(text) if p]
        return [(p, 0.0 if any(z.match(p) for z in self._zero) else 1.0) for p in parts]


def _join(weighted: list[tuple[str, float]]) -> list[str]:
    """Neighbouring strings of equal weight joined, as ms-swift joins them before tokenising."""
    pieces: list[str] = []
    run: list[str] = []
    weight = 0.0
    for text, w in weighted:
        if w != weight and run:
            pieces.append("".join(run))
            run = []
        run.append(text)
        weight = w
    if run:
        pieces.append("".join(run))
    return pieces


@functools.lru_cache(maxsize=4)  # asked for by `choose` and by each counter of the process
def qwen3_lengths(model: Path, template: str | None) -> Qwen3Lengths | None:
    """The counter for `model` when its template is followed here and its tokenizer is the
    one ms-swift would load; None when ms-swift's own template must measure."""
    if template not in TEMPLATES:
        return None
    config = _loss_config()
    if config is None or not _tokenizer_is_the_file(model):
        return None
    from tokenizers import Tokenizer

    try:
        tokenizer = Tokenizer.from_file(str(model / "tokenizer.json"))
        zero = [key for key, weights in json.loads(config.read_text(encoding="utf-8")).items() if weights == [0.0]]
    except Exception:  # an unreadable file: leave it to ms-swift, which reports it properly
        return None
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return Qwen3Lengths(tokenizer, zero)


def _loss_config() -> Path | None:
    """The installed ms-swift's `ignore_empty_think` loss scale config (found, not imported)."""
    spec = importlib.util.find_spec("swift")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations)), *_LOSS_CONFIG)
    return path if path.is_file() else None


def _tokenizer_is_the_file(model: Path) -> bool:
    """True when transformers loads `model`'s tokenizer from tokenizer.json as it is."""
    if not (model / "tokenizer.json").is_file():
        return False
    try:
        config = json.loads((model / "tokenizer_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and config.get("tokenizer_class") in _FILE_TOKENIZERS
