"""Reading evalscope report files of schema 2 (1.11+) and schema 1 (<= 1.10)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from swiftpipe.evaluation.evalreport import metric_key, problems, read_report, read_reports

ASSETS = Path(__file__).parents[1] / "assets" / "evalscope"
ROUGE_L = 'rouge:mean[statistic="recall",variant="l"]'


def test_v2_mcq() -> None:
    r = read_report(ASSETS / "v2_general_mcq.json")
    assert (r.dataset, r.model, r.schema, r.primary) == ("general_mcq", "tiny", 2, "accuracy:mean")
    assert r.scores == {"accuracy:mean": 0.0} and r.primary_score == 0.0
    assert (r.requested, r.succeeded, r.errored, r.incomplete) == (3, 3, 0, False)
    assert r.subsets == {"example": 0.0} and r.counts == {"example": 3}


def test_v2_qa_primary_is_rouge_l_recall() -> None:
    r = read_report(ASSETS / "v2_general_qa.json")
    assert r.primary == ROUGE_L and len(r.scores) == 9
    assert 'rouge:mean[ngram=1,statistic="f1"]' in r.scores


def test_v1_top_level_score() -> None:
    r = read_report(ASSETS / "v1_general_mcq.json")
    assert (r.schema, r.primary, r.primary_score, r.requested) == (1, "mean_acc", 0.75, 4)
    assert r.errored is None and not r.incomplete and problems({"general_mcq": r}, ["general_mcq"]) == []


def test_incomplete_report_problems() -> None:
    r = read_report(ASSETS / "v2_incomplete.json")
    assert problems({"general_mcq": r}, ["general_mcq", "general_qa"]) == [
        "general_mcq: 3 of 3 requests failed",
        "general_mcq: evalscope marked the report incomplete",
        "general_mcq: no score (no successful samples)",
        "general_qa: evalscope wrote no report",
    ]


def test_read_reports_finds_the_model_folder(tmp_path: Path) -> None:
    (tmp_path / "reports" / "tiny").mkdir(parents=True)
    shutil.copy(ASSETS / "v2_general_qa.json", tmp_path / "reports" / "tiny" / "general_qa.json")
    (tmp_path / "reports" / "report.html").write_text("<html>")
    assert list(read_reports(tmp_path)) == ["general_qa"]


def test_metric_key_matches_evalscope_spelling() -> None:
    ident = json.loads('{"name": "rouge", "aggregation": "mean", '
                       '"dimensions": {"statistic": "recall", "variant": "l"}}')
    assert metric_key(ident) == ROUGE_L
