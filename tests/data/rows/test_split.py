from __future__ import annotations

import pytest

from swiftpipe.data.rows.split import Splitter

LINES = [f'{{"messages": [{{"role": "user", "content": "q{i}"}}]}}\n'.encode() for i in range(4000)]


def val_set(splitter: Splitter, lines: list[bytes]) -> set[bytes]:
    return {line for line in lines if splitter.is_val(line)}


def test_split_is_deterministic_and_independent_of_order() -> None:
    a = val_set(Splitter(0.1, seed=7), LINES)
    b = val_set(Splitter(0.1, seed=7), list(reversed(LINES)))
    assert a == b
    assert 300 < len(a) < 500  # 10% of 4000 in expectation, binomial spread


def test_seed_changes_the_split_and_zero_ratio_keeps_everything_in_train() -> None:
    assert val_set(Splitter(0.1, seed=1), LINES) != val_set(Splitter(0.1, seed=2), LINES)
    assert val_set(Splitter(0.0, seed=1), LINES) == set()


def test_larger_ratio_only_adds_rows() -> None:
    assert val_set(Splitter(0.1, seed=3), LINES) <= val_set(Splitter(0.3, seed=3), LINES)


def test_ratio_must_be_below_one() -> None:
    with pytest.raises(ValueError):
        Splitter(1.0, seed=0)
