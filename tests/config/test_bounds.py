"""The declared ranges and the YAML key scan (lines, merge keys, duplicates) on their own."""

from __future__ import annotations

import math

import pytest

from swiftpipe.config.bounds import Range
from swiftpipe.config.yamlkeys import parse


@pytest.mark.parametrize(
    ("bounds", "phrase"),
    [
        (Range(at_least=1), ">= 1"),
        (Range(above=0), "> 0"),
        (Range(at_least=1, at_most=65535), "from 1 to 65535"),
        (Range(at_least=0, below=1), ">= 0 and < 1"),
        (Range(at_least=0.5), ">= 0.5"),
    ],
)
def test_phrases(bounds: Range, phrase: str) -> None:
    assert bounds.phrase() == phrase


def test_contains_respects_open_and_closed_ends() -> None:
    ratio = Range(at_least=0, below=1)
    assert ratio.contains(0) and ratio.contains(0.999) and not ratio.contains(1) and not ratio.contains(-0.1)
    assert not Range(above=0).contains(0) and Range(above=0).contains(1e-9)
    assert not Range(at_least=0).contains(math.nan)


def test_lines_follow_merge_keys_and_keys_written_here_win() -> None:
    text = "x-t: &t\n  a: 1\n  b: 2\nstages:\n  s:\n    <<: *t\n    b: 3\n"
    parsed = parse(text)
    assert parsed.data["stages"]["s"] == {"a": 1, "b": 3}
    assert parsed.lines["stages.s.a"] == 2 and parsed.lines["stages.s.b"] == 7
    assert parsed.duplicates == []


def test_duplicates_at_every_depth_with_both_lines() -> None:
    text = "a: 1\nb:\n  - c: 1\n    c: 2\na: 3\n"
    found = [(p.path, p.line, p.message) for p in parse(text).duplicates]
    assert found == [
        ("", 5, "duplicate key 'a' (first at line 1); YAML keeps only the last one"),
        ("b[0]", 4, "duplicate key 'c' (first at line 3); YAML keeps only the last one"),
    ]


def test_equal_text_of_different_types_is_not_a_duplicate() -> None:
    assert parse("1: a\n'1': b\n").duplicates == []
