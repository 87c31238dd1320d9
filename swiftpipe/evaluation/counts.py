"""Did evalscope score the questions this stage converted? The number per subject must match.

A score computed on other rows than the stage's own looks like any other score. The first
sign of it is the number of questions: evalscope writes how many it scored per subject
(`num` of each subset in its report), and swiftpipe knows how many rows each subject has
in the files it converted, capped by `limit` (evalscope applies it per subject). Any
difference fails the stage. When requests failed, evalscope may score fewer, so then only
more questions than converted is a mismatch.
"""

from __future__ import annotations

from swiftpipe.core.errors import StageFailed
from swiftpipe.evaluation.benchmarks import Conversion
from swiftpipe.evaluation.evalreport import DatasetReport


def expected(conversion: Conversion, limit: int | None) -> dict[str, int]:
    """Questions per evaluated subject in the converted files, capped by `limit`."""
    return {s: _rows(conversion, s) if limit is None else min(_rows(conversion, s), limit)
            for s in conversion.subjects}


def mismatches(conversions: list[Conversion], reports: dict[str, DatasetReport], limit: int | None,
               where: str) -> list[str]:
    """One line per subject whose scored count differs from the stage's own files."""
    found = []
    for conversion in conversions:
        report = reports.get(conversion.dataset)
        if report is None:
            continue  # no report is a failure of its own (evalreport.dataset_problems)
        for subject, want in expected(conversion, limit).items():
            got = report.counts.get(subject)
            if got == want or (report.errored and got is not None and got < want):
                continue
            have = _rows(conversion, subject)
            held = f"{want} (limit {limit} of {have})" if want < have else str(want)
            found.append(f"{where}.datasets.{conversion.dataset}: evalscope scored {got or 0} questions of "
                         f"{subject}, the stage's converted files ({conversion.target}) hold {held}: these "
                         "scores are not of the files this stage names")
    return found


def check(conversions: list[Conversion], reports: dict[str, DatasetReport], limit: int | None, where: str) -> None:
    """Fail the stage when any converted subject was scored on a different number of questions."""
    found = mismatches(conversions, reports, limit, where)
    if found:
        raise StageFailed("; ".join(found))


def _rows(conversion: Conversion, subject: str) -> int:
    return len(conversion.bench.rows[subject].get(conversion.bench.shape.eval_split, []))
