"""Base vs fine-tuned comparison and the no-op flag."""

from __future__ import annotations

import json
from pathlib import Path

from swiftpipe.evaluation.compare import IDENTICAL_FLAG, compare, markdown, write
from swiftpipe.evaluation.evalreport import DatasetReport


def rep(name: str, **scores: float | None) -> DatasetReport:
    return DatasetReport(name, "m", f"/{name}.json", 2, dict(scores), next(iter(scores)))


def test_deltas_per_dataset_and_metric(tmp_path: Path) -> None:
    base = {"mcq": rep("mcq", acc=0.25), "qa": rep("qa", rouge=0.5, bleu=0.0)}
    tuned = {"mcq": rep("mcq", acc=0.75), "qa": rep("qa", rouge=0.25, bleu=0.0)}
    result = compare(base, tuned)
    assert [(r.dataset, r.metric, r.primary, r.delta) for r in result.rows] == [
        ("mcq", "acc", True, 0.5), ("qa", "rouge", True, -0.25), ("qa", "bleu", False, 0.0)]
    assert result.flags == []
    json_path, md_path = write(result, tmp_path)
    assert json.loads(json_path.read_text())["rows"][0]["delta"] == 0.5
    assert "| mcq | **acc** | 0.2500 | 0.7500 | +0.5000 |" in md_path.read_text()


def test_identical_scores_are_flagged() -> None:
    same = {"mcq": rep("mcq", acc=0.5)}
    result = compare(same, {"mcq": rep("mcq", acc=0.5)})
    assert result.flags == [IDENTICAL_FLAG]
    assert f"> warning: {IDENTICAL_FLAG}" in markdown(result)


def test_a_dataset_missing_on_one_side_has_no_delta_and_no_flag() -> None:
    result = compare({}, {"mcq": rep("mcq", acc=0.5)})
    assert result.rows[0].base is None and result.rows[0].delta is None and result.flags == []


def predictions(work_dir: Path, model: str, texts: list[str]) -> Path:
    """evalscope 1.x prediction rows: content is a list of reasoning and text parts."""
    path = work_dir / "predictions" / model / "general_qa_demo.jsonl"
    path.parent.mkdir(parents=True)
    rows = [{"index": i, "model_output": {"choices": [{"message": {"content": [
        {"type": "reasoning", "reasoning": ""}, {"type": "text", "text": t}]}}]}} for i, t in enumerate(texts)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return work_dir


def test_same_answers_point_at_a_no_op(tmp_path: Path) -> None:
    base = predictions(tmp_path / "base", "demo-base", ["a", "b", "c"])
    tuned = predictions(tmp_path / "tuned", "demo", ["a", "b", "c"])
    result = compare({"qa": rep("qa", rouge=0.0)}, {"qa": rep("qa", rouge=0.0)}, base, tuned)
    assert result.flags == [
        "identical answers: base and fine-tuned gave the same answer to all 3 prompts; "
        "the adapter is a no-op or the server served the base model"]
    assert result.to_dict()["answers"] == {"compared": 3, "identical": 3}


def test_same_scores_with_different_answers(tmp_path: Path) -> None:
    base = predictions(tmp_path / "base", "demo-base", ["a", "b", "c"])
    tuned = predictions(tmp_path / "tuned", "demo", ["a", "x", "y"])
    result = compare({"qa": rep("qa", rouge=0.0)}, {"qa": rep("qa", rouge=0.0)}, base, tuned)
    assert result.flags == [
        "identical scores, different answers (2 of 3 differ): the fine-tuning changed the model, "
        "but not in a way these metrics reward"]
    assert "Answers: 2 of 3 differ between base and fine-tuned." in markdown(result)


def test_different_scores_and_answers_raise_no_flag(tmp_path: Path) -> None:
    base = predictions(tmp_path / "base", "demo-base", ["a"])
    tuned = predictions(tmp_path / "tuned", "demo", ["b"])
    assert compare({"qa": rep("qa", rouge=0.0)}, {"qa": rep("qa", rouge=0.5)}, base, tuned).flags == []
