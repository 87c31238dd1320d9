"""The infer kind: the exact `swift infer`, which rows it answers, and the answers counted and kept."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from swiftpipe.core.errors import StageFailed, UserError
from swiftpipe.engine.outputs import Answers
from swiftpipe.engine.pipeline import LoadedPipeline
from swiftpipe.engine.stage import StageContext, StagePlan
from swiftpipe.kinds.infer import SAMPLE_ROWS, InferParams, InferStage
from swiftpipe.loading import load_pipeline
from tests.conftest import stage_context
from tests.kinds.conftest import SWIFT, FakeLauncher

WritePipeline = Callable[..., Path]
MERGED = {"model_dir": "/models/merged", "model_digest": "abc", "checkpoint": "/c"}


def load(write_pipeline: WritePipeline, infer: str, data: str = "") -> LoadedPipeline:
    """sft -> merged (export) -> answers (infer, with the keys `infer`), and a data section `data`."""
    path = write_pipeline(f"name: demo\nmodel: model\n{data}stages:\n  sft: {{dataset: [q.jsonl]}}\n"
                          f"  merged: {{kind: export}}\n  answers: {{kind: infer, from: merged, {infer}}}\n")
    (path.parent / "model").mkdir(exist_ok=True)
    (path.parent / "q.jsonl").write_text('{"messages": [{"role": "user", "content": "q1"}]}\n{"messages": []}\n')
    return load_pipeline(path)


def ctx_of(loaded: LoadedPipeline, outputs: dict[str, dict[str, Any]] | None = None) -> StageContext[Any]:
    ctx: StageContext[Any] = stage_context(loaded, "answers", outputs)
    return ctx


def test_before_the_model_exists_the_plan_is_not_ready(write_pipeline: WritePipeline, tmp_path: Path) -> None:
    loaded = load(write_pipeline, "dataset: [q.jsonl]")
    plan = InferStage().plan(ctx_of(loaded))
    results = loaded.workdir / "answers" / "results.jsonl"
    assert plan.argv == [SWIFT, "infer", "--model", "<merged.model_dir>", "--val_dataset", str(tmp_path / "q.jsonl"),
                         "--result_path", str(results), "--infer_backend", "transformers", "--max_new_tokens", "256",
                         "--temperature", "0.0"]
    assert not plan.ready and plan.inputs == {} and plan.notes == []
    assert plan.params == InferParams(results, [str(tmp_path / "q.jsonl")])


def test_with_its_model_the_plan_is_ready_and_says_what_it_answers(write_pipeline: WritePipeline,
                                                                   tmp_path: Path) -> None:
    loaded = load(write_pipeline, "dataset: [q.jsonl], backend: vllm, max_new_tokens: 16, temperature: 0.7, "
                                  "args: {top_p: 0.9}")
    plan = InferStage().plan(ctx_of(loaded, {"merged": MERGED}))
    assert plan.ready and plan.notes == [f"answers {tmp_path / 'q.jsonl'}"]
    assert plan.argv[2:4] == ["--model", "/models/merged"]
    assert plan.argv[-8:] == ["--infer_backend", "vllm", "--max_new_tokens", "16", "--temperature", "0.7",
                              "--top_p", "0.9"]


@pytest.mark.parametrize(("val_ratio", "split", "chosen"), [(0.1, "val", "val"), (0.1, "train", "train"),
                                                            (0.0, "val", "train")])
def test_it_answers_the_validation_split_of_its_data_stage_unless_there_is_none(
    write_pipeline: WritePipeline, tmp_path: Path, val_ratio: float, split: str, chosen: str
) -> None:
    loaded = load(write_pipeline, f"split: {split}, dataset: [q.jsonl]",
                  f"data: {{sources: [{{path: q.jsonl}}], val_ratio: {val_ratio}}}\n")
    splits = {"train": str(tmp_path / "q.jsonl"), "val": str(tmp_path / "q.jsonl")}
    pending = InferStage().plan(ctx_of(loaded, {"merged": MERGED}))
    assert not pending.ready and pending.argv[5] == f"<data.{chosen}>"
    (tmp_path / f"{chosen}.jsonl").write_text("{}\n")
    splits[chosen] = str(tmp_path / f"{chosen}.jsonl")
    plan = InferStage().plan(ctx_of(loaded, {"merged": MERGED, "data": splits}))
    assert plan.ready and plan.params.inputs == [str(tmp_path / f"{chosen}.jsonl"), str(tmp_path / "q.jsonl")]


def test_a_listed_file_that_does_not_exist_is_one_line(write_pipeline: WritePipeline, tmp_path: Path) -> None:
    loaded = load(write_pipeline, "dataset: [q.jsonl, gone.jsonl]")
    with pytest.raises(UserError) as err:
        InferStage().plan(ctx_of(loaded, {"merged": MERGED}))
    assert str(err.value) == f"stages.answers.dataset[1]: {tmp_path / 'gone.jsonl'}: no such file"


def answers(*rows: object) -> Callable[[list[str]], None]:
    """What swift infer writes: one JSON line per answer at --result_path (appending, as swift does)."""
    def act(argv: list[str]) -> None:
        path = Path(argv[argv.index("--result_path") + 1])
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as fh:
            fh.writelines(json.dumps(r) + "\n" for r in rows)
    return act


def planned(write_pipeline: WritePipeline, launcher: FakeLauncher, infer: str = "dataset: [q.jsonl]") -> tuple[
        StageContext[Any], StagePlan[InferParams]]:
    ctx = ctx_of(load(write_pipeline, infer), {"merged": MERGED})
    ctx.launcher = launcher
    return ctx, InferStage().plan(ctx)


ROW_1 = {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "first"},
                      {"role": "assistant", "content": "a"}, {"role": "user", "content": "q1"}], "response": "r1"}


def test_answers_are_counted_and_sampled(write_pipeline: WritePipeline) -> None:
    ctx, plan = planned(write_pipeline, FakeLauncher(act=answers(ROW_1, {"response": 2})))
    result = InferStage().run(ctx, plan)
    results = str(plan.params.results)
    assert result.outputs == Answers(results=results, rows=2, sample=[{"query": "q1", "response": "r1"},
                                                                      {"query": "", "response": "2"}])
    assert result.metrics == {"rows": 2} and [a.path for a in result.artifacts] == [results]


def test_the_sample_holds_the_first_rows_only(write_pipeline: WritePipeline, tmp_path: Path) -> None:
    rows = [{"response": f"r{i}"} for i in range(5)]
    ctx, plan = planned(write_pipeline, FakeLauncher(act=answers(*rows)))
    (tmp_path / "q.jsonl").write_text("{}\n\n" * 5)  # blank lines are no rows
    result = InferStage().run(ctx, plan)
    assert isinstance(result.outputs, Answers) and result.outputs.rows == 5
    assert [s["response"] for s in result.outputs.sample] == [f"r{i}" for i in range(SAMPLE_ROWS)]


def test_an_earlier_results_file_is_moved_aside_not_appended_to(write_pipeline: WritePipeline,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    ctx, plan = planned(write_pipeline, FakeLauncher(act=answers(ROW_1, ROW_1)))
    results = plan.params.results
    results.parent.mkdir(parents=True)
    results.write_text(json.dumps({"response": "old"}) + "\n")
    result = InferStage().run(ctx, plan)
    [aside] = [p for p in results.parent.iterdir() if p != results]
    assert aside.name.startswith("results.stale-") and aside.suffix == ".jsonl"
    assert json.loads(aside.read_text()) == {"response": "old"}
    assert isinstance(result.outputs, Answers) and result.outputs.rows == 2
    assert f"moved the earlier results.jsonl aside to {aside.name}" in capsys.readouterr().err


def test_fewer_answers_than_rows_fail_the_stage(write_pipeline: WritePipeline) -> None:
    ctx, plan = planned(write_pipeline, FakeLauncher(act=answers(ROW_1)))
    with pytest.raises(StageFailed) as err:
        InferStage().run(ctx, plan)
    assert str(err.value) == f"swift infer wrote 1 answers for 2 input rows ({plan.params.results})"


def test_a_sampled_run_is_not_counted(write_pipeline: WritePipeline) -> None:
    ctx, plan = planned(write_pipeline, FakeLauncher(act=answers(ROW_1)), "dataset: [q.jsonl], "
                                                                          "args: {val_dataset_sample: 1}")
    assert plan.argv[-2:] == ["--val_dataset_sample", "1"]
    result = InferStage().run(ctx, plan)
    assert isinstance(result.outputs, Answers) and result.outputs.rows == 1


def test_no_results_file_fails_the_stage(write_pipeline: WritePipeline) -> None:
    ctx, plan = planned(write_pipeline, FakeLauncher())
    with pytest.raises(StageFailed) as err:
        InferStage().run(ctx, plan)
    assert str(err.value) == f"swift infer exited 0 but wrote no {plan.params.results}"


def test_a_failed_infer_keeps_its_exit_code(write_pipeline: WritePipeline) -> None:
    ctx, plan = planned(write_pipeline, FakeLauncher(rc=2))
    with pytest.raises(StageFailed) as err:
        InferStage().run(ctx, plan)
    assert str(err.value) == "swift infer exited with code 2" and err.value.exit_code == 2
