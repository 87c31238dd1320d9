"""build_graph against a small registry of made-up kinds: from:, nearest fit, the nodes swiftpipe
adds, executors' per-stage keys, and the exact message of each broken graph."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from swiftpipe.config.validate import Problem
from swiftpipe.engine import kind as k
from swiftpipe.engine.graph import Graph
from swiftpipe.engine.kind import Implied, Kind, Slot
from swiftpipe.engine.wiring import build_graph


def no_stage() -> Any:
    raise AssertionError("the graph never makes a stage")


@dataclass(frozen=True)
class Source:
    path: str = ""


@dataclass(frozen=True)
class Train:
    lora: bool = True
    port: int = 0


@dataclass(frozen=True)
class Merge:
    pass


@dataclass(frozen=True)
class Score:
    limit: int = 0


@dataclass(frozen=True)
class Step:
    pass


@dataclass(frozen=True)
class Box:
    """An executor's per-stage settings (like `slurm:`)."""

    mem: str | None = None
    gpus: int = field(default=1)


def port_problems(cfg: Train) -> list[k.Problem]:
    return [k.Problem("port", "must be over 1024")] if cfg.port and cfg.port < 1024 else []


def base_score(cfg: Score, upstream: Mapping[str, Any]) -> list[Implied]:
    return [Implied("base", "score", Score(cfg.limit), "base", "scores the base model")] if cfg.limit else []


KINDS = {
    "source": Kind("source", "data", Source, no_stage, k.DATA),
    "mirror": Kind("mirror", "data too", Source, no_stage, k.DATA),
    "train": Kind("train", "trains", Train, no_stage, k.CHECKPOINT, slots=lambda c: (Slot("data", (k.DATA,)),),
                  adapter=lambda c: c.lora, check=port_problems),
    "merge": Kind("merge", "merges", Merge, no_stage, k.MODEL,
                  slots=lambda c: (Slot("model", (k.CHECKPOINT,)),)),
    "score": Kind("score", "scores", Score, no_stage, k.SCORES,
                  slots=lambda c: (Slot("model", (k.MODEL, k.CHECKPOINT), merge=True),
                                   Slot("base", (k.SCORES,), required=False, nearest=False)),
                  implies=base_score),
    "judge": Kind("judge", "needs a named model", Score, no_stage, k.SCORES,
                  slots=lambda c: (Slot("model", (k.MODEL,), nearest=False, missing="name the model to judge"),)),
    "step": Kind("step", "reads its own kind", Step, no_stage, k.DATA,
                 slots=lambda c: (Slot("data", (k.DATA,), required=False, nearest=False),)),
}


class Kinds:
    """The registry protocol (engine/kind.py Kinds) over KINDS."""

    def get(self, name: str) -> Kind:
        return KINDS[name]

    def user_kinds(self) -> list[str]:
        return list(KINDS)

    def merger(self) -> str:
        return "merge"

    def section(self) -> str:
        return "source"


def graph(stages: dict[str, Any], data: Any = None, stage_keys: Mapping[str, type[Any]] | None = None) -> Graph:
    built, problems = build_graph(data, stages, Kinds(), stage_keys)
    assert problems == [] and built is not None
    return built


def problems(stages: dict[str, Any], data: Any = None, stage_keys: Mapping[str, type[Any]] | None = None
             ) -> list[Problem]:
    built, found = build_graph(data, stages, Kinds(), stage_keys)
    assert built is None
    return found


def edges(g: Graph) -> dict[str, dict[str, str]]:
    return {n.name: dict(n.upstream) for n in g}


def test_a_slot_left_open_takes_the_nearest_earlier_fit() -> None:
    g = graph({"a": {"kind": "source"}, "b": {"kind": "mirror"}, "t": {"kind": "train"}})
    assert edges(g) == {"a": {}, "b": {}, "t": {"data": "b"}}


def test_from_names_the_stage_to_read() -> None:
    g = graph({"a": {"kind": "source"}, "b": {"kind": "source"}, "t": {"kind": "train", "from": "a"}})
    assert edges(g)["t"] == {"data": "a"}


def test_a_stage_named_after_a_kind_needs_no_kind_and_the_data_section_is_a_stage() -> None:
    g = graph({"train": {"lora": False}}, data={"path": "d.jsonl"})
    assert [(n.name, n.kind, n.config, n.where) for n in g] == [
        ("data", "source", Source("d.jsonl"), "data"), ("train", "train", Train(lora=False), "stages.train")]
    assert edges(g)["train"] == {"data": "data"}


def test_a_lora_checkpoint_read_as_a_model_gets_a_merge_node_before_its_reader() -> None:
    g = graph({"d": {"kind": "source"}, "t": {"kind": "train"}, "s": {"kind": "score"}})
    assert edges(g) == {"d": {}, "t": {"data": "d"}, "t-merged": {"model": "t"}, "s": {"model": "t-merged"}}
    merged = g["t-merged"]
    assert (merged.kind, merged.config, merged.where) == ("merge", Merge(), "stages.t")
    assert merged.implied == "merges t's LoRA checkpoint into a model for s"


def test_full_weights_are_read_without_a_merge() -> None:
    g = graph({"d": {"kind": "source"}, "t": {"kind": "train", "lora": False}, "s": {"kind": "score"}})
    assert edges(g)["s"] == {"model": "t"} and "t-merged" not in g.names


def test_implied_nodes_with_equal_settings_are_one_node() -> None:
    g = graph({"d": {"kind": "source"}, "t": {"kind": "train", "lora": False},
               "s1": {"kind": "score", "limit": 3}, "s2": {"kind": "score", "limit": 3},
               "s3": {"kind": "score", "limit": 4}})
    assert g.names == ["d", "t", "s1-base", "s1", "s2", "s3-base", "s3"]
    assert edges(g)["s2"] == {"model": "t", "base": "s1-base"}
    base = g["s1-base"]
    assert (base.kind, base.config, base.implied) == ("score", Score(3), "scores the base model")


def test_executor_stage_keys_land_in_the_nodes_resources() -> None:
    g = graph({"a": {"kind": "source", "box": {"mem": "8G"}}, "t": {"kind": "train"}}, stage_keys={"box": Box})
    assert g["a"].resources == {"box": Box(mem="8G")}
    assert g["a"].config == Source() and g["t"].resources == {}


def test_a_wrong_executor_stage_key_is_reported_at_its_path() -> None:
    assert problems({"a": {"kind": "source", "box": {"gpus": "two"}}}, stage_keys={"box": Box}) == [
        Problem("stages.a.box.gpus", "expected an integer, got 'two'")]
    assert problems({"a": {"kind": "source", "box": {}}}) == [
        Problem("stages.a.box", "unknown key; valid keys are path")]


def test_a_missing_required_slot_names_the_kinds_that_fit() -> None:
    assert problems({"t": {"kind": "train"}}) == [
        Problem("stages.t", "needs a source, mirror or step stage before it (or name one with from:)")]


def test_a_slot_may_say_what_is_missing_itself() -> None:
    assert problems({"d": {"kind": "source"}, "j": {"kind": "judge"}}) == [
        Problem("stages.j", "name the model to judge")]


def test_from_a_stage_that_does_not_fit() -> None:
    assert problems({"d": {"kind": "source"}, "m": {"kind": "merge", "from": "d"}}) == [
        Problem("stages.m.from", "'d' is a source stage; a merge stage reads from train stages")]
    assert problems({"d": {"kind": "source"}, "e": {"kind": "source", "from": "d"}}) == [
        Problem("stages.e.from", "'d' is a source stage; a source stage reads from no other stage here")]


def test_from_a_stage_that_does_not_exist_or_itself() -> None:
    assert problems({"d": {"kind": "source"}, "t": {"kind": "train", "from": ["dd", "t"]}}) == [
        Problem("stages.t.from", "no stage named 'dd' to read from (stages: d)"),
        Problem("stages.t.from", "no stage named 't' to read from (stages: d)")]


def test_a_cycle_is_named_in_order() -> None:
    assert problems({"a": {"kind": "step", "from": "c"}, "b": {"kind": "step", "from": "a"},
                     "c": {"kind": "step", "from": "b"}}) == [
        Problem("stages", "cycle: a -> c -> b -> a; a stage cannot read from itself")]


def test_an_unknown_kind_lists_the_kinds() -> None:
    listed = "source, mirror, train, merge, score, judge, step"
    assert problems({"x": {"kind": "tune"}, "tune": {}}) == [
        Problem("stages.x.kind", f"expected one of {listed}, got 'tune'"),
        Problem("stages.tune", f"'tune' is not a kind; add kind: (one of {listed})")]


def test_bad_names_bodies_and_from_values_are_reported_before_any_wiring() -> None:
    assert problems({"1a": {"kind": "source"}, "b": ["x"], "c": {"kind": "train", "from": 3}}) == [
        Problem("stages.1a", "stage names are letters, digits, '-' and '_', starting with a letter"),
        Problem("stages.b", "expected a mapping, got a list"),
        Problem("stages.c.from", "expected a stage name or a list of them, got 3")]


def test_a_kinds_own_check_is_reported_under_the_stage() -> None:
    assert problems({"d": {"kind": "source"}, "t": {"kind": "train", "port": 80}}) == [
        Problem("stages.t.port", "must be over 1024")]


def test_a_stage_named_data_beside_the_data_section() -> None:
    assert problems({"data": {"kind": "source"}}, data={"path": "d"}) == [
        Problem("stages.data", "a stage named data is already the top-level 'data' section")]
