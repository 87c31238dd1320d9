"""Naming the dataset an evalscope run failed on, its error's first line, and a hint that fits."""

from __future__ import annotations

from swiftpipe.core import fsio
from swiftpipe.evaluation import failure

TRACE = ["Traceback (most recent call last):", '  File "x.py", line 1, in <module>',
         "    raise ValueError(...)", "\x1b[31mValueError: Unknown split \"dev\". Should be one of ['val'].\x1b[0m", ""]


def test_the_error_is_the_last_exception_line() -> None:
    assert fsio.error_line(TRACE) == "ValueError: Unknown split \"dev\". Should be one of ['val']."
    assert fsio.error_line(["openai.APIConnectionError: Connection error.", "done"]) == (
        "openai.APIConnectionError: Connection error.")
    assert fsio.error_line(["all fine"]) is None


def test_the_first_dataset_without_a_report_failed_and_the_rest_never_ran() -> None:
    issues = {"cmmlu": [], "ceval": ["evalscope wrote no report"], "general_mcq": ["evalscope wrote no report"]}
    failed, not_run = failure.failures(TRACE, ["cmmlu", "ceval", "general_mcq"], issues, 1)
    assert failed == [failure.Failure("ceval", "ValueError: Unknown split \"dev\". Should be one of ['val'].")]
    assert not_run == ["general_mcq"]
    assert failure.message(failed, not_run, ["cmmlu"], "stages.eval") == (
        "ceval failed: ValueError: Unknown split \"dev\". Should be one of ['val']. (few-shot examples come from "
        "the dev split: add dev rows or set stages.eval.datasets.ceval.few_shot_num: 0); not run: general_mcq; "
        "kept the scores of cmmlu")


def test_hints_fit_the_cause() -> None:
    w = "stages.eval"
    # what swift deploy (transformers) answers to a prompt over max_length, as evalscope 1.14 prints it
    swift = "openai.BadRequestError: Error code: 400 - Current length of row(9016) is larger than the max_length(2048)."
    assert failure.hint(w, "ceval", swift) == failure.hint(w, "ceval", "context_length_exceeded")
    assert failure.hint(w, "ceval", "openai.BadRequestError: This model's maximum context length is 2048") == (
        "the prompt does not fit the served model's context: lower stages.eval.generation_config.max_tokens or "
        "stages.eval.datasets.ceval.few_shot_num, or use shorter samples")
    assert failure.hint(w, "x", "openai.APIConnectionError: Connection error.") == (
        "the server did not answer: check that it is up and its log, then resume")
    assert failure.hint(w, "x", "openai.APITimeoutError: Request timed out.") == (
        "requests timed out: raise stages.eval.generation_config.timeout or lower stages.eval.batch_size, "
        "and check that the server is not overloaded")
    missing = 'FileNotFoundError: No dataset file found for subset="demo", split="val" in "/data/empty".'
    assert failure.hint(w, "general_mcq", missing) == (
        "evalscope found no data file: check stages.eval.datasets.general_mcq.local_path and subset_list")
    assert failure.hint(w, "x", "KeyError: 'choices'") == (
        "set stages.eval.ignore_errors: true to skip failed samples and keep the rest")
