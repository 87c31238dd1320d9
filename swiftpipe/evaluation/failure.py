"""Name the dataset an `evalscope eval` run failed on, with its error and a hint that fits.

evalscope 1.14 evaluates `--datasets` one after another (`run.py::evaluate_model`) and
writes each report as soon as that dataset is done. An exception in one dataset is not
caught: its traceback ends the run (exit 1), so the datasets before it have reports, the
failed one has none and the ones after it never ran. The traceback goes to evalscope's
stderr only (not to logs/eval_log.log); its last line is the error, e.g.
`ValueError: Unknown split "dev". Should be one of ['val'].`
"""

from __future__ import annotations

from dataclasses import dataclass

from swiftpipe.core import fsio


@dataclass(frozen=True)
class Failure:
    dataset: str
    error: str  # the first line of its error, or what is wrong with its report

    def hint(self, where: str) -> str:
        return hint(where, self.dataset, self.error)


def failures(lines: list[str], expected: list[str], problems: dict[str, list[str]], rc: int = 0) -> tuple[
        list[Failure], list[str]]:
    """(the datasets that failed, those evalscope never started) from its output and reports.

    The first dataset without a report is the one the error belongs to; the ones after it
    without a report never ran."""
    error = fsio.error_line(lines) or (f"evalscope exited with code {rc} and wrote no report" if rc else None)
    found: list[Failure] = []
    not_run: list[str] = []
    blamed = False
    for name in expected:
        issues = problems.get(name) or []
        if not issues:
            continue
        no_report = issues == ["evalscope wrote no report"]
        if no_report and blamed:
            not_run.append(name)
        elif no_report:
            found.append(Failure(name, error or "evalscope wrote no report"))
            blamed = True
        else:
            found.append(Failure(name, "; ".join(issues)))
    return found, not_run


def hint(where: str, dataset: str, error: str) -> str:
    """What to change, by what the error says."""
    low = error.lower()
    key = f"{where}.datasets.{dataset}"
    if "few_shot" in low or "few-shot" in low or 'split "dev"' in low or "'dev'" in low:
        return f"few-shot examples come from the dev split: add dev rows or set {key}.few_shot_num: 0"
    if "no dataset file found" in low or low.startswith("filenotfounderror"):
        return f"evalscope found no data file: check {key}.local_path and subset_list"
    if any(s in low for s in ("context length", "context_length", "maximum context", "input length",
                              "max_length", "too many tokens")):
        return (f"the prompt does not fit the served model's context: lower {where}.generation_config.max_tokens "
                f"or {key}.few_shot_num, or use shorter samples")
    if any(s in low for s in ("timeout", "timed out")):
        return (f"requests timed out: raise {where}.generation_config.timeout or lower {where}.batch_size, "
                "and check that the server is not overloaded")
    if any(s in low for s in ("connection", "connect", "unreachable", "refused", "name resolution")):
        return "the server did not answer: check that it is up and its log, then resume"
    return f"set {where}.ignore_errors: true to skip failed samples and keep the rest"


def message(failed: list[Failure], not_run: list[str], kept: list[str], where: str) -> str:
    """One line: what failed and why, what never ran, what was kept, and what to do."""
    parts = [f"{f.dataset} failed: {f.error} ({f.hint(where)})" for f in failed]
    if not_run:
        parts.append(f"not run: {', '.join(not_run)}")
    parts.append(f"kept the scores of {', '.join(kept)}" if kept else "no dataset finished")
    return "; ".join(parts)
