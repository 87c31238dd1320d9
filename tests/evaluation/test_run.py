"""One `evalscope eval` run through the stage's launcher, read from report files a fake evalscope writes."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import Popen
from typing import Any, BinaryIO

import pytest

from swiftpipe.core.errors import StageFailed
from swiftpipe.engine.manifest import StageRecord
from swiftpipe.engine.status import Status
from swiftpipe.evaluation import benchmarks, evalcommand, run
from swiftpipe.evaluation.evalreport import read_report
from swiftpipe.evaluation.settings import EvalSettings
from tests.evaluation.conftest import attempts, eval_context, write_report

REPO = Path(__file__).parents[2]
MISSING = 'FileNotFoundError: No dataset file found for subset="demo", split="val" in "/d/b".'
TRACE = ["Traceback (most recent call last):", '  File "run.py", line 1, in <module>', MISSING]


@dataclass
class FakeEvalscope:
    """The stage's launcher: records each command and writes a report for each dataset in `scores`
    that the command names (`errored` of its requests failed), says `lines`, and exits with `rc`."""

    scores: dict[str, float]
    rc: int = 0
    lines: list[str] = field(default_factory=list)
    errored: dict[str, int] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)

    def run(self, argv: Sequence[str], env: dict[str, str], log_path: Path, *, echo: bool = True,
            on_line: Callable[[str], None] | None = None) -> int:
        argv = list(argv)
        self.calls.append({"argv": argv, "env": env, "log": log_path, "echo": echo})
        cache = Path(env["HF_DATASETS_CACHE"])
        cache.mkdir(parents=True)
        (cache / "entry").write_text("rows")
        work_dir = Path(argv[argv.index("--work-dir") + 1])
        for name in argv[argv.index("--datasets") + 1: argv.index("--dataset-args")]:
            if name in self.scores:
                write_report(work_dir, name, self.scores[name], errored=self.errored.get(name, 0))
        for line in self.lines:
            if on_line is not None:
                on_line(line)
        return self.rc

    def start(self, argv: Sequence[str], env: dict[str, str], log: BinaryIO) -> Popen[bytes]:
        raise AssertionError("evaluation starts no server")


def command(settings: EvalSettings, work_dir: Path) -> list[str]:
    return evalcommand.eval_argv("evalscope", settings, {n: {} for n in settings.datasets},
                                 api_url="http://127.0.0.1:1/v1", model="tiny", work_dir=work_dir, keyed=False)


def evaluate(tmp_path: Path, fake: FakeEvalscope, settings: EvalSettings, outputs: dict[str, Any] | None = None,
             aside: Path | None = None, **context: Any) -> Any:
    ctx = eval_context(tmp_path, launcher=fake, outputs=outputs, **context)
    work_dir = ctx.stage_dir / "finetuned"
    keys = {n: f"key-{n}" for n in settings.datasets}
    return run.evaluate(ctx, settings, command(settings, work_dir), {"A": "1"}, work_dir, keys, aside)


def three() -> EvalSettings:
    return EvalSettings({"a": {}, "b": {}, "c": {}})


def test_a_clean_run_returns_every_report(tmp_path: Path) -> None:
    fake = FakeEvalscope({"general_mcq": 0.75, "general_qa": 0.25})
    outputs: dict[str, Any] = {}
    settings = EvalSettings({"general_mcq": {}, "general_qa": {}})
    reports = evaluate(tmp_path, fake, settings, outputs)
    assert {n: r.primary_score for n, r in reports.items()} == {"general_mcq": 0.75, "general_qa": 0.25}
    stage = tmp_path / "runs" / "t" / "eval"
    [call] = fake.calls
    assert call["argv"] == command(settings, stage / "finetuned")
    assert call["env"] == {"A": "1", "HF_DATASETS_CACHE": str(stage / ".datasets-cache")}
    assert (call["log"], call["echo"]) == (tmp_path / "runs" / "t" / "logs" / "eval.log", False)
    assert not (stage / ".datasets-cache").exists()  # the stage's own cache is gone once evalscope is done
    assert outputs == {}


def test_a_failed_dataset_is_named_and_the_finished_one_kept(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    outputs: dict[str, Any] = {}
    with pytest.raises(StageFailed) as err:
        evaluate(tmp_path, FakeEvalscope({"a": 0.5}, rc=1, lines=TRACE), three(), outputs)
    assert str(err.value) == (
        f"b failed: {MISSING} (evalscope found no data file: check stages.eval.datasets.b.local_path and "
        "subset_list); not run: c; kept the scores of a")
    assert err.value.exit_code == 1
    work_dir = tmp_path / "runs" / "t" / "eval" / "finetuned"
    assert outputs == {
        "scores": {"a": {"accuracy:mean": 0.5}}, "primary": {"a": {"metric": "accuracy:mean", "score": 0.5}},
        "subsets": {"a": {"demo": 0.5}}, "reports": [str(work_dir / "reports" / "tiny" / "a.json")],
        "work_dir": str(work_dir), "dataset_keys": {"a": "key-a"}, "failed": {"b": MISSING, "c": "not run"},
    }
    assert capsys.readouterr().err == "    a: accuracy:mean 0.5000 (finished; kept in the manifest)\n"


def test_failed_requests_fail_the_stage_although_evalscope_exited_0(tmp_path: Path) -> None:
    outputs: dict[str, Any] = {}
    with pytest.raises(StageFailed) as err:
        evaluate(tmp_path, FakeEvalscope({"a": 0.5, "b": 0.0, "c": 1.0}, errored={"b": 2}), three(), outputs)
    assert str(err.value) == ("b failed: 2 of 3 requests failed (set stages.eval.ignore_errors: true to skip failed "
                              "samples and keep the rest); kept the scores of a, c")
    assert err.value.exit_code == 0
    assert outputs["failed"] == {"b": "2 of 3 requests failed"}
    assert outputs["dataset_keys"] == {"a": "key-a", "c": "key-c"}


def test_nothing_finished_says_so(tmp_path: Path) -> None:
    with pytest.raises(StageFailed) as err:
        evaluate(tmp_path, FakeEvalscope({}, rc=1, lines=["openai.APIConnectionError: Connection error."]), three())
    assert str(err.value) == ("a failed: openai.APIConnectionError: Connection error. (the server did not answer: "
                              "check that it is up and its log, then resume); not run: b, c; no dataset finished")


def test_a_crash_without_an_error_line_names_the_exit_code(tmp_path: Path) -> None:
    with pytest.raises(StageFailed) as err:
        evaluate(tmp_path, FakeEvalscope({}, rc=137, lines=["Killed"]), EvalSettings({"a": {}}))
    assert str(err.value) == ("a failed: evalscope exited with code 137 and wrote no report (set "
                              "stages.eval.ignore_errors: true to skip failed samples and keep the rest); "
                              "no dataset finished")
    assert err.value.exit_code == 137


@pytest.mark.parametrize(("lines", "said"), [
    (["RuntimeError: event loop is closed"], ": RuntimeError: event loop is closed"), (["bye"], ""),
])
def test_a_non_zero_exit_after_every_report_still_fails(tmp_path: Path, lines: list[str], said: str) -> None:
    with pytest.raises(StageFailed) as err:
        evaluate(tmp_path, FakeEvalscope({"a": 1.0}, rc=1, lines=lines), EvalSettings({"a": {}}))
    assert str(err.value) == (f"evalscope exited with code 1 after every dataset reported{said} "
                              "(set stages.eval.ignore_errors: true to accept this)")


def test_ignore_errors_returns_what_there_is_and_says_what_was_ignored(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    outputs: dict[str, Any] = {}
    settings = EvalSettings({"a": {}, "b": {}}, ignore_errors=True)
    reports = evaluate(tmp_path, FakeEvalscope({"a": 0.5}, rc=1, lines=TRACE), settings, outputs)
    assert list(reports) == ["a"] and outputs == {}
    assert capsys.readouterr().err == (
        "note: evalscope exited with code 1 (ignored: stages.eval.ignore_errors is true)\n"
        "note: b: evalscope wrote no report (ignored: stages.eval.ignore_errors is true)\n")


class BrokenReport(FakeEvalscope):
    def run(self, argv: Sequence[str], env: dict[str, str], log_path: Path, *, echo: bool = True,
            on_line: Callable[[str], None] | None = None) -> int:
        work_dir = Path(argv[list(argv).index("--work-dir") + 1])
        (work_dir / "reports" / "tiny").mkdir(parents=True)
        (work_dir / "reports" / "tiny" / "a.json").write_text("[]")
        return self.rc


def test_an_unreadable_report_fails_the_stage(tmp_path: Path) -> None:
    with pytest.raises(StageFailed) as err:
        evaluate(tmp_path, BrokenReport({}, rc=0), EvalSettings({"a": {}}))
    work_dir = tmp_path / "runs" / "t" / "eval" / "finetuned"
    assert str(err.value) == (f"cannot read evalscope's reports in {work_dir}: "
                              f"{work_dir / 'reports' / 'tiny' / 'a.json'}: not an evalscope report")


def after_a_failure(tmp_path: Path, done: dict[str, float]) -> dict[str, Any]:
    """The context arguments of a second attempt after one that finished `done` and failed."""
    stage = tmp_path / "runs" / "t" / "eval"
    aside = tmp_path / "runs" / "t" / "eval.stale-1"
    for name, score in done.items():
        write_report(aside / "finetuned", name, score)
    return {"record": StageRecord(kind="eval", attempts=attempts(Status.FAILED, Status.RUNNING)),
            "previous": {"work_dir": str(stage / "finetuned"), "dataset_keys": {n: f"key-{n}" for n in done}},
            "aside": aside}


def test_the_next_attempt_evaluates_only_what_did_not_finish(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeEvalscope({"a": 0.1, "b": 0.25, "c": 0.5})
    reports = evaluate(tmp_path, fake, three(), **after_a_failure(tmp_path, {"a": 0.9}))
    work_dir = tmp_path / "runs" / "t" / "eval" / "finetuned"
    [call] = fake.calls
    assert call["argv"] == evalcommand.only(command(three(), work_dir), ["b", "c"])
    assert {n: r.primary_score for n, r in reports.items()} == {"a": 0.9, "b": 0.25, "c": 0.5}
    assert read_report(work_dir / "reports" / "tiny" / "a.json").primary_score == 0.9
    assert (work_dir / "predictions" / "tiny" / "a_demo.jsonl").is_file()
    assert capsys.readouterr().err == "    kept from the failed last attempt (same settings): a; evaluating b, c\n"


def test_a_next_attempt_with_everything_finished_runs_nothing(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeEvalscope({})
    reports = evaluate(tmp_path, fake, EvalSettings({"a": {}, "b": {}}),
                       **after_a_failure(tmp_path, {"a": 0.9, "b": 0.8}))
    assert fake.calls == [] and list(reports) == ["a", "b"]
    assert capsys.readouterr().err == "    kept from the failed last attempt (same settings): a, b\n"


def test_score_outputs(tmp_path: Path) -> None:
    reports = {"a": read_report(write_report(tmp_path, "a", 0.5)), "b": read_report(write_report(tmp_path, "b", None))}
    assert run.score_outputs(reports, tmp_path, {"a": "ka", "b": "kb", "gone": "kg"}) == {
        "scores": {"a": {"accuracy:mean": 0.5}, "b": {"accuracy:mean": None}},
        "primary": {"a": {"metric": "accuracy:mean", "score": 0.5}, "b": {"metric": "accuracy:mean", "score": None}},
        "subsets": {"a": {"demo": 0.5}, "b": {"demo": None}},
        "reports": [str(tmp_path / "reports/tiny/a.json"), str(tmp_path / "reports/tiny/b.json")],
        "work_dir": str(tmp_path), "dataset_keys": {"a": "ka", "b": "kb"},
    }
    assert run.score_outputs({}, tmp_path)["dataset_keys"] == {}


def test_data_digests_follow_the_local_files(tmp_path: Path) -> None:
    (tmp_path / "mcq").mkdir()
    (tmp_path / "mcq" / "demo_val.csv").write_text("id,question\n1,q\n")
    (tmp_path / "qa.jsonl").write_text('{"query": "q"}\n')
    datasets = {"general_mcq": {"local_path": str(tmp_path / "mcq")},
                "general_qa": {"local_path": str(tmp_path / "qa.jsonl")}, "arc": {"subset_list": ["ARC-Easy"]}}
    first = run.data_digests(datasets)
    assert list(first) == ["general_mcq", "general_qa"] and first == run.data_digests(datasets)
    (tmp_path / "mcq" / "demo_val.csv").write_text("id,question\n1,other\n")
    second = run.data_digests(datasets)
    assert second["general_mcq"] != first["general_mcq"] and second["general_qa"] == first["general_qa"]


def test_move_aside_keeps_earlier_results(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stage = tmp_path / "eval"
    assert run.move_aside(stage) is None and capsys.readouterr().err == ""
    write_report(stage / "finetuned", "a", 0.5)
    aside = run.move_aside(stage)
    assert aside is not None and aside.name.startswith("eval.stale-") and not stage.exists()
    assert (aside / "finetuned" / "reports" / "tiny" / "a.json").is_file()
    assert capsys.readouterr().err == f"note: moved the earlier eval/ aside to {aside.name}/\n"


def test_the_datasets_cache_is_inside_the_stage_folder(tmp_path: Path) -> None:
    assert run.datasets_cache(tmp_path / "eval") == tmp_path / "eval" / ".datasets-cache"


def cmmlu(tmp_path: Path) -> list[benchmarks.Conversion]:
    sample = REPO / "datasets" / "eval" / "cmmlu-sample"
    args = {"cmmlu": {"local_path": str(sample), "subset_list": ["computer_science"]}}
    return benchmarks.prepare(args, tmp_path / "runs" / "t" / "eval", "stages.eval", "pipeline.yaml")[1]


def test_prepared_converts_and_records_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs: dict[str, Any] = {}
    ctx = eval_context(tmp_path, outputs=outputs)
    assert run.prepared(ctx, []) == {} and outputs == {}
    conversions = cmmlu(tmp_path)
    done = run.prepared(ctx, conversions)
    target = tmp_path / "runs" / "t" / "eval" / "benchmarks" / "cmmlu"
    assert done == {"benchmarks": {"cmmlu": conversions[0].outputs()}} and outputs == done
    assert done["benchmarks"]["cmmlu"]["converted"] == str(target)
    assert sorted(p.name for p in target.iterdir()) == ["README.md", "dev.jsonl", "test.jsonl"]
    assert capsys.readouterr().err == f"    cmmlu: wrote 3 files for evalscope into {target}\n"


def fits_notes(ctx: Any, conversions: list[benchmarks.Conversion], model: Path, shots: int, max_tokens: int,
               capsys: pytest.CaptureFixture[str]) -> str:
    settings = EvalSettings({"cmmlu": {"few_shot_num": shots}}, generation_config={"max_tokens": max_tokens})
    run.fits(ctx, settings, conversions, model)
    return capsys.readouterr().err


def test_fits_warns_when_the_prompt_and_max_tokens_exceed_the_model(
        tmp_path: Path, tiny_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ctx, conversions = eval_context(tmp_path), cmmlu(tmp_path)
    assert fits_notes(ctx, conversions, tiny_model, 0, 16, capsys) == ""
    note = fits_notes(ctx, conversions, tiny_model, 0, 2048, capsys)
    head = "note: stages.eval.datasets.cmmlu: the 0-shot prompt for computer_science is about "
    assert note.startswith(head)
    tokens = int(note[len(head):].split()[0])
    assert note == (f"{head}{tokens} tokens; with max_tokens 2048 it exceeds the served model's 2048 positions "
                    "(config.json max_position_embeddings), lower few_shot_num or max_tokens\n")
    assert fits_notes(ctx, conversions, tiny_model, 0, 2048 - tokens, capsys) == ""  # exactly fits
    assert f"about {tokens} tokens; with max_tokens {2049 - tokens} it" in fits_notes(
        ctx, conversions, tiny_model, 0, 2049 - tokens, capsys)
    five = fits_notes(ctx, conversions, tiny_model, 5, 2048, capsys)
    assert five.startswith("note: stages.eval.datasets.cmmlu: the 5-shot prompt for computer_science is about ")
    assert int(five.split("about ")[1].split()[0]) > tokens  # the examples count too
    assert fits_notes(ctx, conversions, tmp_path / "no-model", 0, 10**6, capsys) == ""  # nothing to count with


def test_the_fake_writes_reports_evalscope_s_reader_accepts(tmp_path: Path) -> None:
    report = read_report(write_report(tmp_path, "general_mcq", 0.5, errored=1))
    assert (report.primary, report.primary_score, report.requested, report.errored) == ("accuracy:mean", 0.5, 3, 1)
    assert json.loads((tmp_path / "reviews" / "tiny" / "general_mcq_demo.jsonl").read_text()) == {
        "reviews": "general_mcq"}
