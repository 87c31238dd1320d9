"""The formatting both reports share: scores, durations, metric names, what a stage reads."""

from __future__ import annotations

import pytest

from swiftpipe.report.fmt import dur, num, pretty_metric, reads, shorten
from swiftpipe.report.model import StageRow


@pytest.mark.parametrize(("value", "sign", "shown"), [
    (None, False, "–"), (None, True, "–"), (0.5, False, "0.500"), (0.12345, False, "0.123"),
    (0.0, True, "+0.000"), (0.25, True, "+0.250"), (-0.0625, True, "-0.062"), (1.0, False, "1.000"),
])
def test_scores_have_three_decimals_and_deltas_a_sign(value: float | None, sign: bool, shown: str) -> None:
    assert num(value, sign) == shown


@pytest.mark.parametrize(("seconds", "shown"), [
    (None, "–"), (0.0, "0.0 s"), (3.04, "3.0 s"), (119.9, "119.9 s"), (120.0, "2.0 min"), (5400.0, "90.0 min"),
])
def test_durations_switch_to_minutes_at_two_minutes(seconds: float | None, shown: str) -> None:
    assert dur(seconds) == shown


@pytest.mark.parametrize(("key", "shown"), [
    ('rouge:mean[statistic="recall",variant="l"]', "rouge (recall, l)"),
    ("accuracy:mean", "accuracy"),
    ('bleu:mean[n="4"]', "bleu (4)"),
    ("mean_acc", "mean_acc"),
    ("accuracy:mean[]", "accuracy"),
])
def test_metric_names_drop_the_aggregate_and_keep_the_dimension_values(key: str, shown: str) -> None:
    assert pretty_metric(key) == shown


def row(upstream: dict[str, str]) -> StageRow:
    return StageRow("eval_a", "eval", upstream, "succeeded", None, None, 1, None, None)


def test_reads_names_the_slot_unless_it_is_the_stage_itself() -> None:
    assert reads(row({"server": "deploy_a", "base": "eval-base"})) == "deploy_a (server), eval-base (base)"
    assert reads(row({"data": "data", "model": "pt-merged"})) == "data, pt-merged (model)"
    assert reads(row({})) == ""


def test_shorten_keeps_short_text_and_cuts_long_text_to_the_limit_with_an_ellipsis() -> None:
    assert shorten("abc", 3) == "abc"
    assert shorten("abcd", 3) == "ab…" and len(shorten("x" * 1000)) == 300
    assert shorten("x" * 300) == "x" * 300 and shorten("x" * 301) == "x" * 299 + "…"
