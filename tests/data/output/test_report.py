from __future__ import annotations

from collections import Counter

from swiftpipe.data.output.stats import percentiles, turn_summary
from swiftpipe.data.rows.dedupe import content_key


def test_percentiles_are_nearest_rank() -> None:
    hist = Counter(range(1, 101))
    assert percentiles(hist) == {"p50": 50, "p90": 90, "p99": 99, "max": 100}
    assert percentiles(Counter({7: 3})) == {"p50": 7, "p90": 7, "p99": 7, "max": 7}
    assert percentiles(Counter()) == {}


def test_turn_summary() -> None:
    assert turn_summary(Counter({2: 5, 4: 1, 6: 1})) == {"min": 2, "median": 2, "max": 6}


def test_dedupe_ignores_whitespace_but_not_roles_or_case() -> None:
    a = [{"role": "user", "content": "Hello  world\n"}, {"role": "assistant", "content": "Hi"}]
    b = [{"role": "user", "content": " Hello world"}, {"role": "assistant", "content": "Hi"}]
    c = [{"role": "user", "content": "hello world"}, {"role": "assistant", "content": "Hi"}]
    assert content_key(a, None) == content_key(b, None) != content_key(c, None)
    assert content_key(a, None) != content_key(a, "[]")
