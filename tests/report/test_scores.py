"""Score tables from eval records: rows per dataset, per subject, variants side by side, results."""

from __future__ import annotations

from pathlib import Path

from swiftpipe.engine.manifest import Manifest
from swiftpipe.engine.status import Status
from swiftpipe.report.model import EvalTable, LossCurve, ResultRow, ScoreRow, VariantRow, VariantTable
from swiftpipe.report.scores import eval_tables, result_rows, score_rows, subset_rows, variant_labels, variant_table
from tests.report.helpers import primary, record


def test_score_rows_join_both_sides_by_dataset() -> None:
    tuned = {"mcq": {"metric": "accuracy:mean", "score": 0.75}, "qa": {"metric": "rouge", "score": 0.5}}
    base = {"mcq": {"metric": "accuracy:mean", "score": 0.5}, "arc": {"metric": "accuracy:mean", "score": 0.25}}
    rows = score_rows(tuned, base)
    assert rows == [ScoreRow("arc", "accuracy:mean", None, 0.25), ScoreRow("mcq", "accuracy:mean", 0.75, 0.5),
                    ScoreRow("qa", "rouge", 0.5, None)]
    assert [r.delta for r in rows] == [None, 0.25, None]


def test_subset_rows_only_for_datasets_with_two_or_more_subjects() -> None:
    tuned = {"cmmlu": {"law": 0.5, "arts": 0.25}, "mcq": {"demo": 1.0}}
    base = {"cmmlu": {"law": 0.25, "math": 0.0}}
    assert subset_rows(tuned, base) == [ScoreRow("cmmlu", "arts", 0.25, None), ScoreRow("cmmlu", "law", 0.5, 0.25),
                                        ScoreRow("cmmlu", "math", None, 0.0)]


def table(stage: str, base: str | None, **scores: float) -> EvalTable:
    return EvalTable(stage, stage, base, [ScoreRow(d, "accuracy:mean", s, 0.5 if base else None)
                                          for d, s in scores.items()], [])


def test_variant_table_has_a_column_per_base_when_the_evals_have_different_bases() -> None:
    tables = [table("eval_a", "base_1", mcq=0.75, qa=0.5), table("eval_b", "base_2", mcq=0.8)]
    assert variant_table(tables) == VariantTable(["base: base_1", "base: base_2", "eval_a", "eval_b"], 2,
                                                 [VariantRow("mcq", "accuracy:mean", [0.5, 0.5, 0.75, 0.8])])


def test_no_variant_table_when_no_dataset_is_scored_twice() -> None:
    assert variant_table([table("eval_a", None, mcq=0.75), table("eval_b", None, qa=0.8)]) is None
    assert variant_table([table("eval_a", None, mcq=0.75)]) is None


def test_evals_that_would_share_a_label_are_all_labelled_by_their_own_name(tmp_path: Path) -> None:
    manifest = Manifest(str(tmp_path / "p.yaml"), str(tmp_path))
    # eval_x's training stage is named eval_y, the other eval's own name.
    manifest.stages.update({"eval_y": record("sft"), "eval_x": record("eval", {"server": "eval_y"}),
                            "eval_z": record("eval")})
    assert variant_labels(["eval_x", "eval_z"], manifest) == {"eval_x": "eval_y", "eval_z": "eval_z"}
    manifest.stages["eval_y2"] = record("eval")
    assert variant_labels(["eval_x", "eval_y2"], manifest) == {"eval_x": "eval_y", "eval_y2": "eval_y2"}


def test_a_failed_eval_without_scores_is_left_out_and_one_with_scores_is_flagged(tmp_path: Path) -> None:
    manifest = Manifest(str(tmp_path / "p.yaml"), str(tmp_path))
    empty, partial = record("eval"), record("eval", primary=primary(0.5, 0.25), failed={"arc": "timed out"},
                                             flags=["looks odd"])
    empty.status = partial.status = Status.FAILED
    manifest.stages.update({"eval_a": empty, "eval_b": partial, "eval-base": record("base-eval")})
    tables = eval_tables(manifest)
    assert [t.stage for t in tables] == ["eval_b"] and tables[0].failed
    assert tables[0].flags == ["this eval stage failed; the scores shown are of the datasets that finished",
                               "arc: timed out", "looks odd"]


def test_a_base_eval_that_did_not_succeed_gives_no_base_column(tmp_path: Path) -> None:
    manifest = Manifest(str(tmp_path / "p.yaml"), str(tmp_path))
    base = record("base-eval", primary=primary(0.5, 0.5))
    base.status = Status.FAILED
    manifest.stages.update({"eval-base": base, "eval": record("eval", {"base": "eval-base"},
                                                                primary=primary(0.75, 0.5))})
    [only] = eval_tables(manifest)
    assert only.base_stage == "eval-base" and not only.compared and [r.base for r in only.rows] == [None, None]


def test_result_rows_add_training_stages_no_eval_reads_but_not_failed_ones(tmp_path: Path) -> None:
    manifest = Manifest(str(tmp_path / "p.yaml"), str(tmp_path))
    failed = record("sft")
    failed.status = Status.FAILED
    manifest.stages.update({"sft": record("sft"), "pt": record("pt"), "broken": failed,
                            "eval": record("eval", {"model": "sft"}, primary={"mcq": {"metric": "m", "score": 0.5}})})
    manifest.stages["sft"].metrics = {"global_step": 8}
    manifest.stages["pt"].metrics = {"global_step": "eight"}
    tables = eval_tables(manifest)
    rows = result_rows(manifest, tables, [LossCurve("sft", [(8, 0.25)], []), LossCurve("pt", [], [(1, 2.0)])])
    assert rows == [ResultRow("sft", 8, 0.25, 3.0, ScoreRow("mcq", "m", 0.5, None)),
                    ResultRow("pt", None, None, 3.0, None)]
