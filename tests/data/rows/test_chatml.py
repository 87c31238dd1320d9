"""chatml.py against ms-swift's qwen3 template: the same strings, tokenised the same way.

The oracle is the template itself: `_simplify_context_list` returns the strings its
`_encode_context_list` tokenises one by one, so they are compared string for string on every
row of the test corpora and on rows made to be awkward; then the summed counts are compared
with the lengths the template's own encode gives.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from swiftpipe.data.convert import run
from swiftpipe.data.rows.chatml import NON_THINKING, Qwen3Lengths, qwen3_lengths
from swiftpipe.data.rows.exact import ExactCounter, load_template
from swiftpipe.data.rows.messages import Message
from tests.data.conftest import convert_options
from tests.data.rows.test_exact import fixtures

Pairs = list[tuple[list[Message], str | None]]


def _msgs(*texts: str, system: str | None = None) -> list[Message]:
    roles = ["user", "assistant"]
    out: list[Message] = [{"role": roles[i % 2], "content": t} for i, t in enumerate(texts)]
    return ([{"role": "system", "content": system}] if system is not None else []) + out


AWKWARD: Pairs = [
    (_msgs("q", "a"), None),
    (_msgs("q", "a", system=""), None),
    (_msgs("q", "a", system="Be brief. 你好"), None),
    (_msgs("q1", "a1", "q2", "a2", "q3", "a3"), None),
    (_msgs("q", "<think>\nreasoning\n</think>\n\nanswer"), None),
    (_msgs("q", "<think></think>answer"), None),
    (_msgs("q", "<think>\n\n</think>\n\n  \n answer"), None),
    (_msgs("q", f"{NON_THINKING}answer"), None),
    (_msgs("q", "</think> answer"), None),
    (_msgs("q", "\n\n  answer with leading blank lines"), None),
    (_msgs("q", "answer </think>\n\n more"), None),
    (_msgs("q1", "<think>x</think>a1", "q2", "<think>y</think>a2"), None),
    (_msgs("q <|im_end|> injected", "a <|im_start|>user"), None),
    (_msgs("q", "a", "q2", "ends with a stop word<|im_end|>"), None),  # not followed: ms-swift measures
    (_msgs("q {{QUERY}}", "a"), None),  # not followed
    (_msgs("see <image>", "a"), None),  # not followed
    (_msgs("q", "a"), '[{"name": "f"}]'),  # tools: not followed
    ([{"role": "assistant", "content": "text only"}], None),  # not followed
    (_msgs("emoji 🙂 and \u2028 and é", "tabs\tand\r\nreturns"), None),
]


def corpus_rows(folder: Path) -> Pairs:
    done = run(convert_options(fixtures(), folder / "t.jsonl", rejects=folder / "r.jsonl", report=folder / "p.json",
                               max_reject_ratio=1.0))  # fmt: skip
    assert done.train_path is not None
    lines = [json.loads(line) for line in done.train_path.read_text(encoding="utf-8").splitlines()]
    return [(r["messages"], r.get("tools")) for r in lines]


def swift_pieces(template: Any, messages: list[Message]) -> list[Any]:
    """The strings ms-swift's template tokenises, one by one, for `messages`."""
    seen: list[Any] = []
    original = template._simplify_context_list

    def spy(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        seen.append(list(result[0]))
        return result

    template._simplify_context_list = spy
    try:
        template.encode({"messages": [dict(m) for m in messages]})
    finally:
        del template._simplify_context_list
    assert len(seen) == 1
    return list(seen[0])


@pytest.mark.integration
def test_followed_rows_are_tokenised_as_ms_swift_tokenises_them(tiny_model: Path, tmp_path: Path) -> None:
    template = load_template(tiny_model, "qwen3", "qwen3")
    fast = qwen3_lengths(tiny_model, "qwen3")
    assert fast is not None
    pairs = corpus_rows(tmp_path) + AWKWARD
    followed = 0
    for messages, tools in pairs:
        mine = fast.pieces(messages) if tools is None else None
        if mine is not None:
            assert mine == swift_pieces(template, messages), messages
            followed += 1
    assert followed > 0.8 * len(pairs)
    # Counted in one batch (chatml) or by the template (the rest): the template's own lengths.
    truth = [max(len(e["input_ids"]), len(e["labels"])) for e in _encode_all(template, pairs)]
    assert ExactCounter(tiny_model, "qwen3", "qwen3").count(pairs) == truth


def _encode_all(template: Any, pairs: Pairs) -> list[dict[str, Any]]:
    out = []
    for messages, tools in pairs:
        row: dict[str, Any] = {"messages": [dict(m) for m in messages]}
        if tools is not None:
            row["tools"] = tools
        out.append(template.encode(row))
    return out


def test_rows_it_cannot_follow_are_left_to_ms_swift(tiny_model: Path) -> None:
    fast = qwen3_lengths(tiny_model, "qwen3")
    assert isinstance(fast, Qwen3Lengths)
    assert fast.pieces(_msgs("q", "a")) == ["<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n" + NON_THINKING,
                                           "a<|im_end|>\n"]  # fmt: skip
    for messages, _ in AWKWARD[13:16] + AWKWARD[17:18]:  # the tools row is left out by the caller
        assert fast.pieces(messages) is None


def test_only_qwen3_with_a_tokenizer_loaded_from_its_file_is_followed(tiny_model: Path, tmp_path: Path) -> None:
    assert qwen3_lengths(tiny_model, "qwen2_5") is None
    assert qwen3_lengths(tiny_model, None) is None
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    config = json.loads((model / "tokenizer_config.json").read_text(encoding="utf-8"))
    (model / "tokenizer_config.json").write_text(json.dumps({**config, "tokenizer_class": "Qwen2Tokenizer"}))
    assert qwen3_lengths(model, "qwen3") is None  # transformers rebuilds that one from the vocabulary
