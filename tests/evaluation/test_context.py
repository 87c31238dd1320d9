"""Estimating whether a few-shot benchmark prompt fits the served model (counted here in characters)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swiftpipe.evaluation import context
from swiftpipe.evaluation.benchmarks import Benchmark, Conversion


def row(question: str, explanation: str = "") -> dict[str, str]:
    # "问题：" + question + "\n选项：\n" + "A. a\nB. b\nC. c\nD. d": 27 characters around the question
    return {"question": question, "A": "a", "B": "b", "C": "c", "D": "d", "answer": "B", "explanation": explanation}


def ceval(subjects: list[str]) -> Conversion:
    rows = {
        "logic": {"dev": [row("d" * 10, "why"), row("e" * 20)], "val": [row("q" * 10), row("q" * 40)]},
        "law": {"dev": [], "val": [row("q" * 60)], "test": [row("t" * 500)]},
    }
    return Conversion("ceval", Benchmark("ceval", Path("/src"), rows), Path("/t"), subjects)


def chars(text: str) -> str:
    return text


def test_a_0_shot_prompt_is_the_instruction_and_the_longest_question() -> None:
    assert context.longest_prompt(ceval(["logic"]), 0, chars) == ("logic", 120 + 27 + 40)
    # law's longer question wins; its `test` split is not what ceval evaluates
    assert context.longest_prompt(ceval(["logic", "law"]), 0, chars) == ("law", 120 + 27 + 60)


def test_each_shot_adds_an_answered_example() -> None:
    # an example adds "\n解析：" + explanation + "\n答案：" + answer; examples are joined by a blank line
    first = 27 + 10 + 4 + 3 + 4 + 1
    assert context.longest_prompt(ceval(["logic"]), 1, chars) == ("logic", 120 + first + 27 + 40)
    second = 27 + 20 + 4 + 0 + 4 + 1
    assert context.longest_prompt(ceval(["logic"]), 2, chars) == ("logic", 120 + first + 2 + second + 27 + 40)
    assert context.longest_prompt(ceval(["logic"]), 5, chars) == context.longest_prompt(ceval(["logic"]), 2, chars)


def test_no_subjects_is_no_prompt() -> None:
    assert context.longest_prompt(ceval([]), 5, chars) == ("", 0)


@pytest.mark.parametrize(("config", "found"), [
    ({"max_position_embeddings": 2048}, 2048), ({"max_position_embeddings": "2048"}, None), ({}, None),
    ([1, 2], None),
])
def test_positions_come_from_config_json(tmp_path: Path, config: object, found: int | None) -> None:
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert context.positions(tmp_path) == found


def test_a_model_without_a_readable_config_has_no_positions(tmp_path: Path) -> None:
    assert context.positions(tmp_path) is None
    (tmp_path / "config.json").write_text("{not json")
    assert context.positions(tmp_path) is None


def test_nothing_is_counted_without_a_tokenizer_or_conversions(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"max_position_embeddings": 8}')
    assert context.overflow([ceval(["logic"])], {"ceval": {}}, 100, tmp_path, "stages.eval") == []
    assert context.overflow([], {"ceval": {}}, 100, tmp_path, "stages.eval") == []
