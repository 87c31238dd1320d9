"""The select kind: which stages it reads, the winner by one metric (ties, min, losses), the winner's model
handed on, and every mistake as one line (at plan time where the graph tells, else the stage fails)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from swiftpipe.core.errors import StageFailed, UserError
from swiftpipe.engine.outputs import Model, Selection
from swiftpipe.engine.pipeline import LoadedPipeline
from swiftpipe.engine.stage import StageContext
from swiftpipe.kinds.select import SelectStage, final_loss, score
from swiftpipe.loading import load_pipeline
from tests.conftest import stage_context

WritePipeline = Callable[..., Path]
EVAL = "datasets: {general_mcq: {local_path: mcq}}"


def variant(tag: str, port: int, evaluate: str = EVAL) -> str:
    """sft_<tag> -> export_<tag> -> deploy_<tag> -> eval_<tag>."""
    return (f"  sft_{tag}: {{kind: sft, dataset: [q.jsonl]}}\n  export_{tag}: {{kind: export, from: sft_{tag}}}\n"
            f"  deploy_{tag}: {{kind: deploy, from: export_{tag}, port: {port}}}\n"
            f"  eval_{tag}: {{kind: eval, from: deploy_{tag}, {evaluate}}}\n")


def load(write_pipeline: WritePipeline, select: str, stages: str = variant("a", 8001) + variant("b", 8002),
         after: str = "  serve: {kind: deploy, from: best, port: 8009}\n") -> LoadedPipeline:
    path = write_pipeline(f"name: demo\nmodel: model\nstages:\n{stages}  best: {{kind: select, {select}}}\n{after}")
    for folder in ("model", "mcq"):
        (path.parent / folder).mkdir(exist_ok=True)
    (path.parent / "q.jsonl").write_text("{}\n")
    return load_pipeline(path)


def scores(accuracy: float | None) -> dict[str, Any]:
    found = {} if accuracy is None else {"accuracy:mean": accuracy}
    return {"scores": {"general_mcq": found}, "primary": {"general_mcq": {"metric": "accuracy:mean",
                                                                          "score": accuracy}}}


def model(tag: str) -> dict[str, Any]:
    return {"model_dir": f"/m/{tag}", "model_digest": f"d-{tag}", "checkpoint": f"/c/{tag}"}


def outputs(a: float | None, b: float | None) -> dict[str, dict[str, Any]]:
    return {"eval_a": scores(a), "eval_b": scores(b), "export_a": model("a"), "export_b": model("b")}


def ctx_of(loaded: LoadedPipeline, known: dict[str, dict[str, Any]] | None = None) -> StageContext[Any]:
    ctx: StageContext[Any] = stage_context(loaded, "best", known)
    return ctx


def chosen(loaded: LoadedPipeline, known: dict[str, dict[str, Any]]) -> tuple[Selection, dict[str, Any]]:
    ctx = ctx_of(loaded, known)
    stage = SelectStage()
    plan = stage.plan(ctx)
    assert plan.ready
    Path(known[plan.params.models[next(iter(plan.params.values))]]["model_dir"]).mkdir(parents=True, exist_ok=True)
    for name in plan.params.models.values():
        Path(known[name]["model_dir"]).mkdir(parents=True, exist_ok=True)
    result = stage.run(ctx, plan)
    assert isinstance(result.outputs, Selection)
    return result.outputs, result.metrics


@pytest.fixture
def models_under(tmp_path: Path) -> Callable[[dict[str, dict[str, Any]]], dict[str, dict[str, Any]]]:
    """The outputs with each model_dir moved under tmp_path (the stage describes the winner's folder)."""

    def move(known: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {n: {**o, "model_dir": str(tmp_path / o["model_dir"].lstrip("/"))} if "model_dir" in o else o
                for n, o in known.items()}

    return move


def test_it_reads_the_listed_stages_and_the_deploy_after_it_reads_it(write_pipeline: WritePipeline) -> None:
    loaded = load(write_pipeline, "from: [eval_a, eval_b], metric: general_mcq.accuracy")
    assert dict(loaded.graph["best"].upstream) == {"candidate1": "eval_a", "candidate2": "eval_b"}
    assert dict(loaded.graph["serve"].upstream) == {"model": "best"}


def test_before_its_candidates_ran_the_plan_waits_and_says_what_it_picks(write_pipeline: WritePipeline) -> None:
    loaded = load(write_pipeline, "from: [eval_a, eval_b], metric: general_mcq.accuracy")
    plan = SelectStage().plan(ctx_of(loaded))
    assert not plan.ready and plan.argv == [] and plan.inputs == {}
    assert plan.notes == ["picks the highest general_mcq.accuracy of eval_a, eval_b; stages after it read the "
                          "winner's model"]


def test_the_highest_wins_and_hands_on_the_model_behind_it(write_pipeline: WritePipeline, models_under: Any,
                                                           tmp_path: Path) -> None:
    loaded = load(write_pipeline, "from: [eval_a, eval_b], metric: general_mcq.accuracy")
    known = models_under(outputs(0.5, 0.75))
    plan = SelectStage().plan(ctx_of(loaded, known))
    assert plan.notes[1] == "now: eval_b (0.75)"
    assert plan.inputs == {"metric": "general_mcq.accuracy", "mode": "max", "values": {"eval_a": 0.5, "eval_b": 0.75},
                           "models": {"eval_a": "d-a", "eval_b": "d-b"}}
    picked, metrics = chosen(loaded, known)
    assert (picked.winner, picked.value, picked.runner_up, picked.margin) == ("eval_b", 0.75, "eval_a", 0.25)
    assert (picked.model_stage, picked.model_dir, picked.model_digest, picked.checkpoint) == (
        "export_b", str(tmp_path / "m" / "b"), "d-b", "/c/b")
    assert picked.variant is None and picked.candidates == {"eval_a": 0.5, "eval_b": 0.75}
    assert metrics == {"winner": "eval_b", "value": 0.75, "margin": 0.25}
    saved = json.loads((loaded.workdir / "best" / "selection.json").read_text())
    assert saved == picked.to_dict() and saved["selection"] == str(loaded.workdir / "best" / "selection.json")
    # what reads it sees a Model
    assert Model.from_dict(picked.to_dict()).model_dir == str(tmp_path / "m" / "b")


def test_a_tie_goes_to_the_first_listed_and_min_picks_the_lowest(write_pipeline: WritePipeline,
                                                                 models_under: Any) -> None:
    tie = load(write_pipeline, "from: [eval_b, eval_a], metric: general_mcq.accuracy")
    picked, _ = chosen(tie, models_under(outputs(0.5, 0.5)))
    assert (picked.winner, picked.runner_up, picked.margin) == ("eval_b", "eval_a", 0.0)
    low = load(write_pipeline, "from: [eval_a, eval_b], metric: general_mcq.accuracy, mode: min")
    assert chosen(low, models_under(outputs(0.5, 0.75)))[0].winner == "eval_a"


def write_logging(folder: Path, eval_loss: float, train_loss: float) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [{"loss": 3.0, "global_step/max_steps": "1/2"}, {"eval_loss": eval_loss + 1},
             {"global_step": 2, "log_history": [{"eval_loss": eval_loss}, {"train_loss": train_loss}]}]
    path = folder / "logging.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return str(path)


def training(tmp_path: Path, tag: str, eval_loss: float) -> dict[str, Any]:
    run = tmp_path / "runs" / tag
    return {"run_dir": str(run), "last_checkpoint": f"{run}/checkpoint-2", "model_dir": f"{run}/checkpoint-2",
            "model_digest": f"t-{tag}", "logging": write_logging(run, eval_loss, 1.5)}


def test_trainings_compared_by_eval_loss_hand_on_their_merged_model(write_pipeline: WritePipeline,
                                                                    models_under: Any, tmp_path: Path) -> None:
    stages = "  sft_a: {kind: sft, dataset: [q.jsonl]}\n  sft_b: {kind: sft, dataset: [q.jsonl]}\n"
    loaded = load(write_pipeline, "from: [sft_a, sft_b], metric: eval_loss, mode: min", stages)
    assert dict(loaded.graph["best"].upstream) == {"candidate1": "sft_a-merged", "candidate2": "sft_b-merged"}
    known = models_under({"sft_a": training(tmp_path, "a", 0.9), "sft_b": training(tmp_path, "b", 0.4),
                          "sft_a-merged": model("a"), "sft_b-merged": model("b")})
    plan = SelectStage().plan(ctx_of(loaded, known))
    assert plan.notes == ["picks the lowest eval_loss of sft_a, sft_b; stages after it read the winner's model",
                          "now: sft_b (0.4)"]
    picked, _ = chosen(loaded, known)
    assert (picked.winner, picked.model_stage, picked.value) == ("sft_b", "sft_b-merged", 0.4)


def test_evaluations_compared_by_a_loss_read_the_training_behind_them(write_pipeline: WritePipeline,
                                                                      models_under: Any, tmp_path: Path) -> None:
    loaded = load(write_pipeline, "from: [eval_a, eval_b], metric: train_loss")
    known = models_under({**outputs(0.1, 0.9), "sft_a": training(tmp_path, "a", 0.9),
                          "sft_b": training(tmp_path, "b", 0.4)})
    plan = SelectStage().plan(ctx_of(loaded, known))
    assert plan.params.values == {"eval_a": 1.5, "eval_b": 1.5}


def test_a_candidate_without_the_metric_fails_the_stage_in_one_line(write_pipeline: WritePipeline,
                                                                    models_under: Any) -> None:
    loaded = load(write_pipeline, "from: [eval_a, eval_b], metric: general_mcq.f1")
    ctx = ctx_of(loaded, models_under(outputs(0.5, 0.75)))
    plan = SelectStage().plan(ctx)
    assert plan.ready and len(plan.notes) == 1  # no winner to show
    with pytest.raises(StageFailed) as err:
        SelectStage().run(ctx, plan)
    assert str(err.value) == "no general_mcq.f1 for eval_a, eval_b; eval_a has general_mcq.accuracy:mean"


@pytest.mark.parametrize(("select", "message"), [
    ("from: [eval_a, eval_b], metric: mmlu.acc",
     "stages.best.metric: eval_a does not evaluate mmlu (its datasets: general_mcq)"),
    ("from: [sft_a, eval_b], metric: general_mcq.acc",
     "stages.best.metric: sft_a is a training stage, it has no general_mcq.acc; compare trainings by eval_loss "
     "or train_loss, or read eval stages"),
    ("from: [eval_a, eval_base], metric: general_mcq.acc",
     "stages.best.from: eval_base has no model of its own (it evaluates the base model); select chooses among "
     "trained models"),
])
def test_a_metric_or_candidate_the_graph_rules_out_is_refused_at_plan_time(write_pipeline: WritePipeline,
                                                                          select: str, message: str) -> None:
    base = ("  deploy_base: {kind: deploy, model: model, port: 8005}\n"
            f"  eval_base: {{kind: eval, from: deploy_base, {EVAL}}}\n")
    loaded = load(write_pipeline, select, variant("a", 8001) + variant("b", 8002) + base)
    with pytest.raises(UserError) as err:
        SelectStage().plan(ctx_of(loaded))
    assert str(err.value) == message


@pytest.mark.parametrize(("select", "message"), [
    ("from: [eval_a, eval_b], metric: accuracy",
     "stages.best.metric: expected eval_loss, train_loss or <dataset>.<metric> (general_mcq.acc), got 'accuracy'"),
    ("metric: eval_loss",
     "stages.best: name the stages to choose from with from: (eval stages, or training stages for a loss)"),
    ("from: [eval_a, deploy_a], metric: eval_loss",
     "stages.best.from: 'deploy_a' is a deploy stage; a select stage reads from pt, sft, rlhf or eval stages"),
])
def test_a_wrong_select_stage_is_one_line_when_the_pipeline_loads(write_pipeline: WritePipeline, select: str,
                                                                  message: str) -> None:
    with pytest.raises(UserError) as err:
        load(write_pipeline, select)
    assert str(err.value).endswith(message)


def test_a_score_is_named_as_evalscope_names_it_or_by_its_name_alone() -> None:
    found = {"accuracy:mean": 0.5, "f1:mean": 0.25, "f1:max": 0.75}
    assert (score(found, "accuracy:mean"), score(found, "accuracy"), score(found, "f1"), score(found, "x")) == (
        0.5, 0.5, None, None)


def test_the_final_loss_is_the_last_one_logged(tmp_path: Path) -> None:
    path = Path(write_logging(tmp_path, 0.25, 1.5))
    assert (final_loss(path, "eval_loss"), final_loss(path, "train_loss")) == (0.25, 1.5)
    assert final_loss(tmp_path / "gone.jsonl", "eval_loss") is None
