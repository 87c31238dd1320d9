"""The number of questions evalscope scored per subject against the stage's converted files."""

from __future__ import annotations

from pathlib import Path

import pytest

from swiftpipe.core.errors import StageFailed
from swiftpipe.evaluation.benchmarks import Benchmark, Conversion
from swiftpipe.evaluation.counts import check, expected, mismatches
from swiftpipe.evaluation.evalreport import DatasetReport

WHERE = "stages.eval"
TARGET = Path("/w/eval/benchmarks/cmmlu")


def conversion(**subjects: int) -> Conversion:
    row = {"question": "q", "A": "a", "B": "b", "C": "c", "D": "d", "answer": "A", "id": "0", "explanation": ""}
    rows = {s: {"test": [row] * n, "dev": [row]} for s, n in subjects.items()}
    return Conversion("cmmlu", Benchmark("cmmlu", Path("/src/cmmlu"), rows), TARGET, sorted(subjects))


def report(errored: int = 0, **counts: int) -> dict[str, DatasetReport]:
    return {"cmmlu": DatasetReport("cmmlu", "tiny", "r.json", 2, {"acc": 0.5}, "acc", errored=errored,
                                   counts=dict(counts))}


def test_expected_is_the_eval_split_capped_by_limit() -> None:
    assert expected(conversion(agronomy=7, law=3), None) == {"agronomy": 7, "law": 3}
    assert expected(conversion(agronomy=7, law=3), 5) == {"agronomy": 5, "law": 3}


def test_the_stages_own_counts_pass() -> None:
    assert mismatches([conversion(agronomy=7, law=3)], report(agronomy=5, law=3), 5, WHERE) == []


def test_another_folders_rows_fail_with_one_line_naming_dataset_subject_and_both_counts() -> None:
    with pytest.raises(StageFailed) as err:
        check([conversion(agronomy=3)], report(agronomy=7), 100, WHERE)
    assert str(err.value) == (
        "stages.eval.datasets.cmmlu: evalscope scored 7 questions of agronomy, the stage's converted files "
        "(/w/eval/benchmarks/cmmlu) hold 3: these scores are not of the files this stage names")


def test_limit_is_named_and_a_missing_subject_counts_zero() -> None:
    assert mismatches([conversion(agronomy=10, law=4)], report(agronomy=2), 5, WHERE) == [
        "stages.eval.datasets.cmmlu: evalscope scored 2 questions of agronomy, the stage's converted files "
        "(/w/eval/benchmarks/cmmlu) hold 5 (limit 5 of 10): these scores are not of the files this stage names",
        "stages.eval.datasets.cmmlu: evalscope scored 0 questions of law, the stage's converted files "
        "(/w/eval/benchmarks/cmmlu) hold 4: these scores are not of the files this stage names",
    ]


def test_failed_requests_may_score_fewer_never_more() -> None:
    assert mismatches([conversion(agronomy=7)], report(errored=2, agronomy=5), None, WHERE) == []
    assert len(mismatches([conversion(agronomy=3)], report(errored=2, agronomy=7), None, WHERE)) == 1


def test_a_dataset_without_report_is_left_to_the_report_check() -> None:
    assert mismatches([conversion(agronomy=3)], {}, None, WHERE) == []
