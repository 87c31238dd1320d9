"""The report's PNG charts: a loss curve per training stage, the score bars, and none without data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from swiftpipe.report import plots, write_report
from swiftpipe.report.model import EvalTable, LossCurve, ReportData, ScoreRow, VariantRow, VariantTable
from tests.report.helpers import pipeline, two_variants

PNG = b"\x89PNG\r\n\x1a\n"


def is_png(path: Path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == PNG


def report(**parts: Any) -> ReportData:
    return ReportData(title="t", pipeline="p", workdir="w", generated="now", git=None, versions={}, stages=[],
                      **parts)


def test_a_loss_curve_is_written_as_a_png(tmp_path: Path) -> None:
    curve = LossCurve("sft", [(1, 2.0), (2, 1.5), (3, 1.2)], [(2, 1.9)])
    assert plots.loss_chart(curve, tmp_path / "loss.png") == tmp_path / "loss.png"
    assert is_png(tmp_path / "loss.png")


def test_eval_loss_alone_is_enough_for_a_chart(tmp_path: Path) -> None:
    assert plots.loss_chart(LossCurve("sft", [], [(5, 0.9)]), tmp_path / "eval.png") == tmp_path / "eval.png"
    assert is_png(tmp_path / "eval.png")


def test_no_loss_values_no_chart(tmp_path: Path) -> None:
    assert plots.loss_chart(LossCurve("sft", [], []), tmp_path / "loss.png") is None
    assert not (tmp_path / "loss.png").exists()


def test_one_training_stage_gets_loss_png_several_get_one_file_each_named_safely(tmp_path: Path) -> None:
    one = plots.loss_charts(report(losses=[LossCurve("sft", [(1, 1.0)], [])]), tmp_path)
    assert one == [tmp_path / "loss.png"] and is_png(tmp_path / "loss.png")
    several = report(losses=[LossCurve("sft a/b", [(1, 1.0)], []), LossCurve("dpo", [], []),
                             LossCurve("pt", [(1, 2.0), (2, 1.0)], [])])
    assert plots.loss_charts(several, tmp_path) == [tmp_path / "loss-sft-a-b.png", tmp_path / "loss-pt.png"]
    assert is_png(tmp_path / "loss-sft-a-b.png") and not (tmp_path / "loss-dpo.png").exists()


def test_base_and_fine_tuned_bars_for_one_eval(tmp_path: Path) -> None:
    table = EvalTable("eval", "eval", "eval-base", [ScoreRow("general_mcq", "accuracy:mean", 0.75, 0.5)], [])
    data = report(evals=[table])
    assert plots.score_series(data) == (["general_mcq"], [("base", [0.5]), ("fine-tuned", [0.75])],
                                         "Base vs fine-tuned (primary metric)")
    assert plots.score_chart(data, tmp_path / "scores.png") == tmp_path / "scores.png"
    assert is_png(tmp_path / "scores.png")


def test_scores_without_a_base_name_each_eval_under_its_dataset_when_there_are_several() -> None:
    tables = [EvalTable("eval_hf", "eval_hf", None, [ScoreRow("qa", "m", 0.25, None)], []),
              EvalTable("eval_lm", "eval_lm", None, [ScoreRow("qa", "m", 0.375, None)], [])]
    assert plots.score_series(report(evals=tables)) == (
        ["qa\neval_hf", "qa\neval_lm"], [("fine-tuned", [0.25, 0.375])], "Scores (primary metric)")


def test_the_variants_table_gives_one_series_per_column() -> None:
    variants = VariantTable(["base", "sft_a", "sft_b"], 1, [VariantRow("mcq", "accuracy:mean", [0.5, 0.75, 0.8]),
                                                             VariantRow("qa", "rouge", [0.4, None, 0.45])])
    assert plots.score_series(report(variants=variants)) == (
        ["mcq", "qa"], [("base", [0.5, 0.4]), ("sft_a", [0.75, None]), ("sft_b", [0.8, 0.45])],
        "Variants (primary metric)")


def test_no_scores_no_score_chart(tmp_path: Path) -> None:
    empty = report(evals=[EvalTable("eval", "eval", None, [ScoreRow("qa", "m", None, None)], [])])
    assert plots.score_chart(empty, tmp_path / "scores.png") is None
    assert plots.score_chart(report(), tmp_path / "scores.png") is None
    assert not (tmp_path / "scores.png").exists()


def test_without_matplotlib_the_report_is_written_without_charts(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plots, "_pyplot", lambda: None)
    loaded = pipeline(tmp_path)
    index = write_report(loaded, two_variants(tmp_path, loaded.workdir))
    out = loaded.workdir / "report"
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "report.md"]
    assert "<h2>Charts</h2>" not in index.read_text() and "## Charts" not in (out / "report.md").read_text()


def test_the_report_writes_the_score_chart_first_then_the_loss_charts(tmp_path: Path) -> None:
    loaded = pipeline(tmp_path)
    write_report(loaded, two_variants(tmp_path, loaded.workdir))
    out = loaded.workdir / "report"
    md = (out / "report.md").read_text()
    assert "## Charts\n\n![scores](scores.png)\n![loss-sft_a](loss-sft_a.png)\n![loss-sft_b](loss-sft_b.png)\n" in md
    assert all(is_png(out / name) for name in ("scores.png", "loss-sft_a.png", "loss-sft_b.png"))
