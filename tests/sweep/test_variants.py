"""A sweep's variants: grid order, random draws, the names their values give, and the section's errors."""

from __future__ import annotations

from typing import Any

import pytest

from swiftpipe.config.schema import SweepConfig
from swiftpipe.config.validate import Problem
from swiftpipe.core.errors import UserError
from swiftpipe.sweep.variants import Variant, sweep_overrides, swept, value_text, variants

LR, RANK = "stages.sft.args.learning_rate", "stages.sft.args.lora_rank"


def found(params: dict[str, Any], **options: Any) -> tuple[list[Variant], list[Problem]]:
    problems: list[Problem] = []
    return variants(SweepConfig(params, **options), problems), problems


def tags(params: dict[str, Any], **options: Any) -> list[str]:
    result, problems = found(params, **options)
    assert problems == []
    return [v.tag(list(params)) for v in result]


def test_grid_is_every_combination_in_the_order_written_the_last_key_fastest() -> None:
    result, _ = found({LR: [1e-4, 2e-4], RANK: [8, 16]})
    assert [v.values for v in result] == [{LR: 1e-4, RANK: 8}, {LR: 1e-4, RANK: 16},
                                          {LR: 2e-4, RANK: 8}, {LR: 2e-4, RANK: 16}]
    assert [v.tag([LR, RANK]) for v in result] == ["lr1e-4-r8", "lr1e-4-r16", "lr2e-4-r8", "lr2e-4-r16"]
    assert result[3].tag([RANK]) == "r16"  # a stage below only some keys is named by those


def test_random_draws_samples_with_the_seed_in_grid_order() -> None:
    params = {LR: ["1e-4", "2e-4", "3e-4"], RANK: [4, 8, 16]}
    drawn = tags(params, method="random", samples=4, seed=7)
    assert drawn == tags(params, method="random", samples=4, seed=7)
    grid = tags(params)
    assert len(drawn) == 4 and drawn == [t for t in grid if t in drawn]
    assert drawn == ["lr1e-4-r16", "lr2e-4-r4", "lr2e-4-r16", "lr3e-4-r16"]


@pytest.mark.parametrize(("value", "text"), [
    (1e-4, "1e-4"), ("1e-4", "1e-4"), (1.5e-4, "1p5e-4"), (0.5, "0p5"), (0.01, "0p01"), (2.0, "2"),
    (100000.0, "1e5"), (-1, "m1"), (8, "8"), (True, "true"), (None, "none"), ("cosine", "cosine"),
    ("data/a.jsonl", "data_a_jsonl"), (["q_proj", "v_proj"], "q_proj_v_proj"), ("///", "empty"),
])
def test_a_value_is_written_in_letters_digits_dashes_and_underscores(value: Any, text: str) -> None:
    assert value_text(value) == text


def test_keys_are_named_short_then_by_leaf_then_by_path_where_alike() -> None:
    assert tags({"stages.eval.limit": [5, 10], "stages.sft.args.max_new_tokens": [1, 2]}) == [
        "limit5-mnt1", "limit5-mnt2", "limit10-mnt1", "limit10-mnt2"]
    assert tags({LR: [1, 2], "stages.sft.args.lr": ["a", "b"]})[0] == "learning_rate1-lr_a"
    assert tags({"stages.a.args.learning_rate": [1, 2], "stages.b.args.learning_rate": [3, 4]})[0] == (
        "a_args_learning_rate1-b_args_learning_rate3")


def test_params_may_be_nested_mappings_of_keys() -> None:
    sweep = SweepConfig({"stages": {"sft": {"args": {"lora_rank": [8, 16]}}}, LR: [1, 2]})
    assert swept(sweep) == {RANK: [8, 16], LR: [1, 2]}


@pytest.mark.parametrize(("params", "options", "problem"), [
    ({LR: [1e-4]}, {}, Problem(f"sweep.params.{LR}", "expected a list of 2 or more values, got 1")),
    ({LR: 1e-4}, {}, Problem(f"sweep.params.{LR}", "expected a list of 2 or more values, got 0.0001")),
    ({LR: [1, 2, 1]}, {}, Problem(f"sweep.params.{LR}", "1 is listed twice")),
    ({LR: ["a/b", "a_b"]}, {}, Problem(
        f"sweep.params.{LR}", "'a/b' and 'a_b' would name their variants alike (lr_a_b); make them differ in "
                              "letters or digits")),
    ({LR: [1, 2]}, {"method": "random"}, Problem(
        "sweep.samples", "method random draws this many variants; add samples: N")),
    ({LR: [1, 2]}, {"samples": 1}, Problem("sweep.samples", "only read with method: random; remove it")),
    ({LR: [1, 2], RANK: [8, 16]}, {"method": "random", "samples": 5}, Problem(
        "sweep.samples", "expected at most 4 (the number of combinations), got 5")),
])
def test_a_wrong_section_is_one_problem_at_its_key(params: dict[str, Any], options: dict[str, Any],
                                                   problem: Problem) -> None:
    assert found(params, **options) == ([], [problem])


def test_sweep_flag_becomes_a_set_override_of_sweep_params() -> None:
    assert sweep_overrides([f"{LR}=1e-4,2e-4", "stages.sft.args.lr_scheduler_type=cosine,linear"]) == [
        (f"sweep.params.{LR}", f"sweep.params.{LR}=[1e-4, 2e-4]"),  # as the file reads them: the same names
        ("sweep.params.stages.sft.args.lr_scheduler_type",
         "sweep.params.stages.sft.args.lr_scheduler_type=[cosine, linear]"),
    ]


@pytest.mark.parametrize("text", [LR, f"{LR}=", "stages..x=1,2", "=1,2"])
def test_a_malformed_sweep_flag_is_refused_with_an_example(text: str) -> None:
    with pytest.raises(UserError) as info:
        sweep_overrides([text])
    assert str(info.value) == (f"--sweep {text}: expected KEY=V1,V2,..., "
                               "e.g. --sweep stages.sft.args.learning_rate=1e-4,2e-4")


def test_values_from_the_flag_name_variants_as_the_same_values_in_the_file_do(write_pipeline: Any) -> None:
    from swiftpipe.loading import load_pipeline

    base = "name: s\nmodel: m\nstages:\n  sft: {dataset: [t.jsonl]}\n"
    in_file = load_pipeline(write_pipeline(base + f"sweep:\n  params:\n    {LR}: [1e-2, 2e-2]\n"), env={}, sweeps=[])
    by_flag = load_pipeline(write_pipeline(base), env={}, sweeps=[f"{LR}=1e-2,2e-2"])
    assert [n.name for n in in_file.graph] == [n.name for n in by_flag.graph] == ["sft-lr1e-2", "sft-lr2e-2"]
