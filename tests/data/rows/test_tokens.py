from __future__ import annotations

import json
from pathlib import Path

import pytest

from swiftpipe.core.errors import UserError
from swiftpipe.data.rows.tokens import MARGIN, TokenCounter, render


def test_render_adds_empty_think_and_wraps_tools() -> None:
    messages = [
        {"role": "user", "content": "q"},
        {"role": "tool_call", "content": '{"name": "f"}'},
        {"role": "tool_response", "content": "1"},
        {"role": "assistant", "content": "a"},
    ]
    text = render(messages, json.dumps([{"name": "f"}]))
    assert text.startswith("<|im_start|>system\n\n\n# Tools\n")
    assert '{"type": "function", "function": {"name": "f"}}' in text
    assert text.endswith(
        "<|im_start|>user\nq<|im_end|>\n"
        '<|im_start|>assistant\n<think>\n\n</think>\n\n<tool_call>\n{"name": "f"}\n</tool_call><|im_end|>\n'
        "<|im_start|>user\n<tool_response>\n1\n</tool_response><|im_end|>\n"
        "<|im_start|>assistant\n<think>\n\n</think>\n\na<|im_end|>\n"
    )
    thought = render(
        [{"role": "user", "content": "q"}, {"role": "assistant", "content": "<think>\nx\n</think>\n\na"}], None
    )
    assert thought.count("<think>") == 1


@pytest.mark.parametrize("tools", ["[]", None])
def test_render_has_no_tools_header_without_tools(tools: str | None) -> None:
    # ms-swift renders no system turn at all for `tools: "[]"` (LLaMA-Factory's glaive rows).
    messages = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]
    assert render(messages, tools) == (
        "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\na<|im_end|>\n"
    )


def test_counts_are_batch_consistent_and_include_the_margin(tiny_tokenizer: Path) -> None:
    counter = TokenCounter(tiny_tokenizer)
    short = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]
    longer = [{"role": "user", "content": "hi " * 50}, {"role": "assistant", "content": "yo"}]
    both = counter.count([(short, None), (longer, None)])
    assert both == counter.count([(short, None)]) + counter.count([(longer, None)])
    assert both[0] > MARGIN and both[1] > both[0] + 50


def test_missing_tokenizer_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError) as err:
        TokenCounter(tmp_path)
    assert str(err.value) == f"--tokenizer {tmp_path}: no tokenizer.json there; pass the model directory that holds it"
