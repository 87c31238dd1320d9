"""The stage graph as indented text, as the Stages section of both reports shows it."""

from __future__ import annotations

from swiftpipe.report.model import StageRow
from swiftpipe.report.stagegraph import tree_lines


def stage(name: str, kind: str | None = None, **upstream: str) -> StageRow:
    return StageRow(name, kind or name, dict(upstream), "succeeded", None, 1.0, 1, None, None)


def test_a_chain_is_indented_one_level_per_stage_and_a_stage_named_after_its_kind_shows_no_kind() -> None:
    stages = [stage("data"), stage("sft", data="data"), stage("merged", "export", model="sft"),
              stage("deploy", model="merged")]
    assert tree_lines(stages) == ["data", "  sft", "    merged [export]", "      deploy"]


def test_a_stage_with_two_upstreams_is_drawn_once_and_then_marked_see_above() -> None:
    stages = [stage("data"), stage("sft", data="data"), stage("infer", model="sft", data="data")]
    assert tree_lines(stages) == ["data", "  sft", "    infer via model", "  infer via data (see above)"]


def test_via_is_shown_only_for_stages_with_several_upstreams() -> None:
    stages = [stage("chats", "data"), stage("pairs", "data"), stage("dpo", "rlhf", data="pairs"),
              stage("sft", data="chats")]
    assert tree_lines(stages) == ["chats [data]", "  sft", "pairs [data]", "  dpo [rlhf]"]


def test_roots_keep_the_manifest_order_and_children_the_order_they_were_recorded() -> None:
    stages = [stage("b_root", "data"), stage("a_root", "data"), stage("z", "sft", data="b_root"),
              stage("y", "sft", data="b_root")]
    assert tree_lines(stages) == ["b_root [data]", "  z [sft]", "  y [sft]", "a_root [data]"]


def test_an_upstream_missing_from_the_records_makes_the_stage_a_root() -> None:
    # A manifest written by `run --only export` names an sft stage it holds no record of.
    assert tree_lines([stage("export", model="sft")]) == ["export"]


def test_stages_in_a_cycle_are_still_drawn_once_each() -> None:
    stages = [stage("a", "sft", model="b"), stage("b", "export", model="a")]
    assert tree_lines(stages) == ["a [sft]", "  b [export]", "    a [sft] (see above)"]


def test_no_stages_no_lines() -> None:
    assert tree_lines([]) == []


def test_a_diamond_shows_the_shared_stage_under_each_branch() -> None:
    stages = [stage("data"), stage("sft_a", "sft", data="data"), stage("sft_b", "sft", data="data"),
              stage("compare", "eval", server="sft_a", base="sft_b")]
    assert tree_lines(stages) == ["data", "  sft_a [sft]", "    compare [eval] via server", "  sft_b [sft]",
                                  "    compare [eval] via base (see above)"]
