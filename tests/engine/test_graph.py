"""The stage graph: kinds, `from:`, nearest-fit defaults, the nodes swiftpipe adds, broken graphs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from swiftpipe.core.errors import UserError
from swiftpipe.engine.graph import Graph
from swiftpipe.engine.select import Selection, select
from swiftpipe.loading import load_pipeline

Write = Callable[[str], Path]

HEAD = """
name: g
model: m
data: {sources: [{path: d.jsonl}]}
stages:
"""
EVAL = "datasets: {general_mcq: {local_path: x}}"


def graph(write: Write, stages: str) -> Graph:
    return load_pipeline(write(HEAD + stages), env={}).graph


def error_of(write: Write, stages: str) -> str:
    path = write(HEAD + stages)
    with pytest.raises(UserError) as info:
        load_pipeline(path, env={})
    return str(info.value).replace(f"{path}:", "L")


def edges(g: Graph) -> dict[str, dict[str, str]]:
    return {n.name: dict(n.upstream) for n in g}


def test_todays_stage_names_need_no_kind_and_chain_by_nearest_fit(write_pipeline: Write) -> None:
    g = graph(write_pipeline, f"  sft: {{}}\n  export: {{}}\n  deploy: {{}}\n  eval: {{{EVAL}}}\n")
    assert [(n.name, n.kind) for n in g] == [
        ("data", "data"), ("sft", "sft"), ("export", "export"), ("deploy", "deploy"), ("eval", "eval")]
    assert edges(g) == {"data": {}, "sft": {"data": "data"}, "export": {"model": "sft"},
                        "deploy": {"model": "export"}, "eval": {"server": "deploy"}}


def test_two_branches_read_what_from_names(write_pipeline: Write) -> None:
    g = graph(write_pipeline, """
  a: {kind: sft}
  b: {kind: sft}
  ea: {kind: export, from: a}
  eb: {kind: export, from: b}
""")
    assert edges(g)["ea"] == {"model": "a"} and edges(g)["eb"] == {"model": "b"}
    assert g.descendants("b") == {"eb"}


def test_training_from_a_lora_stage_gets_a_visible_merge(write_pipeline: Write) -> None:
    g = graph(write_pipeline, "  pt: {}\n  sft: {from: [pt, data]}\n")
    assert edges(g) == {"data": {}, "pt": {"data": "data"}, "pt-merged": {"model": "pt"},
                        "sft": {"model": "pt-merged", "data": "data"}}
    assert g["pt-merged"].implied == "merges pt's LoRA checkpoint into a model for sft"


def test_full_training_is_read_without_a_merge(write_pipeline: Write) -> None:
    g = graph(write_pipeline, "  pt: {args: {tuner_type: full}}\n  sft: {from: [pt, data]}\n")
    assert edges(g)["sft"] == {"model": "pt", "data": "data"}


def test_base_evaluation_is_one_node_shared_by_evals_with_the_same_settings(write_pipeline: Write) -> None:
    g = graph(write_pipeline, f"""
  d1: {{kind: deploy, port: 8001}}
  e1: {{kind: eval, from: d1, compare_base: true, {EVAL}}}
  d2: {{kind: deploy, port: 8002}}
  e2: {{kind: eval, from: d2, compare_base: true, {EVAL}}}
  e3: {{kind: eval, from: d2, compare_base: true, limit: 3, {EVAL}}}
""")
    assert edges(g)["e1"]["base"] == edges(g)["e2"]["base"] == "e1-base"
    assert edges(g)["e3"]["base"] == "e3-base"
    assert g["e1-base"].kind == "base-eval"


def test_eval_of_an_endpoint_needs_no_deploy(write_pipeline: Write) -> None:
    g = graph(write_pipeline, f"  e: {{kind: eval, api_url: 'http://h:1/v1', served_model_name: m, {EVAL}}}\n")
    assert edges(g)["e"] == {}


def test_unknown_from_names_the_stages(write_pipeline: Write) -> None:
    assert error_of(write_pipeline, "  sft: {from: dta}\n") == (
        "L5 › stages.sft.from: no stage named 'dta' to read from (stages: data)")


def test_a_kind_that_cannot_take_that_input(write_pipeline: Write) -> None:
    assert error_of(write_pipeline, "  export: {from: data}\n") == (
        "L5 › stages.export.from: 'data' is a data stage; an export stage reads from pt, sft or rlhf stages")


def test_a_cycle(write_pipeline: Write) -> None:
    assert error_of(write_pipeline, "  a: {kind: sft, from: [b, data]}\n  b: {kind: sft, from: [a, data]}\n") == (
        "L4 › stages: cycle: a -> b -> a; a stage cannot read from itself")


def test_eval_with_neither_a_deploy_nor_an_api_url(write_pipeline: Write) -> None:
    assert error_of(write_pipeline, f"  eval: {{{EVAL}}}\n") == (
        "L5 › stages.eval: nothing to evaluate: add a deploy stage before it (or name one with from:) "
        "or give api_url")


def test_a_name_that_is_not_a_kind_needs_one(write_pipeline: Write) -> None:
    assert error_of(write_pipeline, "  tune: {}\n") == (
        "L5 › stages.tune: 'tune' is not a kind; add kind: (one of data, pt, sft, rlhf, export, deploy, eval, infer, "
        "select)")


def test_from_selects_the_stage_and_what_depends_on_it(write_pipeline: Write) -> None:
    g = graph(write_pipeline, f"""
  a: {{kind: sft}}
  ea: {{kind: export, from: a}}
  da: {{kind: deploy, from: ea, port: 8001}}
  va: {{kind: eval, from: da, compare_base: true, {EVAL}}}
  b: {{kind: sft, from: data}}
  eb: {{kind: export, from: b}}
""")
    assert select(g, Selection(from_stage="b")) == ["b", "eb"]
    assert select(g, Selection(until="ea")) == ["data", "a", "ea"]
    # A stage comes with the server it reads and the base evaluation swiftpipe added for it.
    assert select(g, Selection(only="va")) == ["da", "va-base", "va"]
    with pytest.raises(UserError) as info:
        select(g, Selection(from_stage="b", until="ea"))
    assert str(info.value) == "--from b and --until ea select no stage: ea does not depend on b"


def test_a_pipeline_without_stages_says_so(write_pipeline: Write) -> None:
    path = write_pipeline("name: g\nmodel: m\nstages: {}\n")
    with pytest.raises(UserError) as info:
        select(load_pipeline(path, env={}).graph, Selection())
    assert str(info.value) == "the pipeline has no stage: add one under 'stages:' (or a top-level 'data:')"
