"""The Plotly figure specs the UI draws: the same series and colours as the PNG charts."""

from __future__ import annotations

from swiftpipe.report.figures import loss_figure, overlaid_losses, score_figure
from swiftpipe.report.model import LossCurve
from swiftpipe.report.plots import BASE, EVAL, TRAIN, TUNED
from tests.report.helpers import small_report


def test_a_loss_figure_has_train_and_eval_lines() -> None:
    fig = loss_figure(LossCurve("sft", [(1, 2.0), (2, 1.5)], [(2, 1.7)]))
    assert [(t["name"], t["x"], t["y"], t["line"]["color"]) for t in fig["data"]] == [
        ("train loss", [1, 2], [2.0, 1.5], TRAIN), ("eval loss", [2], [1.7], EVAL)]
    assert fig["layout"]["title"]["text"] == "Loss"
    assert loss_figure(LossCurve("sft", [], []))["data"] == []


def test_overlaid_losses_colour_each_run_and_dash_eval() -> None:
    fig = overlaid_losses([("a", LossCurve("sft", [(1, 2.0)], [(1, 1.9)])), ("b", LossCurve("sft", [(1, 1.0)], []))])
    assert [(t["name"], t["line"]["dash"]) for t in fig["data"]] == [
        ("a train", "solid"), ("a eval", "dash"), ("b train", "solid")]
    assert fig["data"][0]["line"]["color"] != fig["data"][2]["line"]["color"]


def test_the_score_figure_is_base_against_fine_tuned() -> None:
    fig = score_figure(small_report())
    assert fig is not None
    assert [(t["name"], t["y"], t["marker"]["color"]) for t in fig["data"]] == [
        ("base", [0.5, 0.5], BASE), ("fine-tuned", [0.75, 0.25], TUNED)]
    assert fig["layout"]["barmode"] == "group"


def test_steps_are_ticked_as_whole_numbers() -> None:
    assert loss_figure(LossCurve("sft", [(1, 2.0), (3, 1.5)], []))["layout"]["xaxis"]["dtick"] == 1
    assert loss_figure(LossCurve("sft", [(1, 2.0), (95, 1.5)], []))["layout"]["xaxis"]["dtick"] == 10
