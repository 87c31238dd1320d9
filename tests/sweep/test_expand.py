"""A sweep expanded into stages: copies and their wiring, what is shared, ports, errors, a rerun."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from swiftpipe.commands.plan import plan
from swiftpipe.commands.run import run
from swiftpipe.core.errors import UserError
from swiftpipe.engine.graph import Graph
from swiftpipe.engine.select import Selection
from swiftpipe.loading import load_pipeline

REPO = Path(__file__).parent.parent.parent
Write = Callable[[str], Path]

CHAIN = """
    name: t
    model: model
    data:
      sources: [{{path: train.jsonl}}]
    sweep:
      params:
    {params}
    stages:
      sft: {{args: {{tuner_type: lora, max_steps: 4}}}}
      export: {{}}
      deploy: {{port: 8021}}
      eval:
        datasets: {{general_mcq: {{local_path: mcq, subset_list: [demo]}}}}
        compare_base: true
"""
GRID = """    stages.sft.args.learning_rate: [1e-4, 2e-4]
        stages.sft.args.lora_rank: [8, 16]"""


def graph(write: Write, params: str = GRID, *sweeps: str) -> Graph:
    return load_pipeline(write(CHAIN.format(params=params)), env={}, sweeps=list(sweeps)).graph


def wiring(g: Graph) -> dict[str, list[str]]:
    return {node.name: list(node.upstream.values()) for node in g}


def error(path: Path, *sweeps: str) -> str:
    with pytest.raises(UserError) as info:
        load_pipeline(path, env={}, sweeps=list(sweeps))
    return str(info.value)


def test_a_grid_copies_the_swept_stage_and_its_readers_and_shares_data_and_the_base(write_pipeline: Write) -> None:
    g = graph(write_pipeline)
    tags = ["lr1e-4-r8", "lr1e-4-r16", "lr2e-4-r8", "lr2e-4-r16"]
    assert wiring(g) == {
        "data": [],
        **{f"sft-{t}": ["data"] for t in tags},
        **{f"export-{t}": [f"sft-{t}"] for t in tags},
        **{f"deploy-{t}": [f"export-{t}"] for t in tags},
        "eval-base": [],
        **{f"eval-{t}": [f"deploy-{t}", "eval-base"] for t in tags},
    }
    assert g["sft-lr2e-4-r8"].config.args == {"tuner_type": "lora", "max_steps": 4, "learning_rate": "2e-4",
                                              "lora_rank": 8}
    assert [g[f"deploy-{t}"].config.port for t in tags] == [8021, 8022, 8023, 8024]
    assert g["sft-lr2e-4-r8"].where == "stages.sft" and g["eval-base"].where == "stages.eval"


def test_a_swept_eval_key_copies_only_the_evals_and_their_base(write_pipeline: Write) -> None:
    g = graph(write_pipeline, "    stages.eval.limit: [5, 10]")
    assert wiring(g) == {"data": [], "sft": ["data"], "export": ["sft"], "deploy": ["export"],
                         "eval-limit5-base": [], "eval-limit5": ["deploy", "eval-limit5-base"],
                         "eval-limit10-base": [], "eval-limit10": ["deploy", "eval-limit10-base"]}


def test_a_stage_is_copied_per_combination_of_the_keys_above_it(write_pipeline: Write) -> None:
    g = graph(write_pipeline, "    stages.sft.args.lora_rank: [8, 16]", "stages.eval.limit=5,10")
    assert [n.name for n in g if n.kind in ("sft", "deploy", "eval")] == [
        "sft-r8", "sft-r16", "deploy-r8", "deploy-r16",
        "eval-r8-limit5", "eval-r8-limit10", "eval-r16-limit5", "eval-r16-limit10"]
    assert g["eval-r16-limit10"].upstream == {"server": "deploy-r16", "base": "eval-limit10-base"}


def test_a_branch_the_sweep_does_not_reach_is_kept_as_written(write_pipeline: Write) -> None:
    path = write_pipeline("""
        name: t
        model: model
        data: {sources: [{path: train.jsonl}]}
        sweep: {params: {stages.sft_a.args.lora_rank: [4, 8]}}
        stages:
          sft_a: {kind: sft, args: {tuner_type: lora}}
          export_a: {kind: export}
          sft_b: {kind: sft, from: data, args: {tuner_type: lora}}
          export_b: {kind: export}
    """)
    assert wiring(load_pipeline(path, env={}).graph) == {
        "data": [], "sft_a-r4": ["data"], "sft_a-r8": ["data"], "export_a-r4": ["sft_a-r4"],
        "export_a-r8": ["sft_a-r8"], "sft_b": ["data"], "export_b": ["sft_b"]}


def test_a_swept_data_section_becomes_data_stages_each_read_by_its_own_copies(write_pipeline: Write) -> None:
    path = write_pipeline("""
        name: t
        model: model
        data: {sources: [{path: train.jsonl}]}
        sweep: {params: {data.val_ratio: [0.1, 0.2]}}
        stages:
          sft: {args: {tuner_type: full}}
          infer: {}
    """)
    g = load_pipeline(path, env={}).graph
    assert wiring(g) == {"data-vr0p1": [], "data-vr0p2": [], "sft-vr0p1": ["data-vr0p1"], "sft-vr0p2": ["data-vr0p2"],
                         "infer-vr0p1": ["sft-vr0p1", "data-vr0p1"], "infer-vr0p2": ["sft-vr0p2", "data-vr0p2"]}
    assert g["data-vr0p2"].config.val_ratio == 0.2 and g["data-vr0p2"].where == "data"


@pytest.mark.parametrize(("params", "line", "message"), [
    ("    stages.sfx.args.lr: [1, 2]", 7,
     "sweep.params.stages.sfx.args.lr: no stage named 'sfx' (stages: data, sft, export, deploy, eval)"),
    ("    model: [a, b]", 7, "sweep.params.model: expected a key of a stage: stages.<stage>.<key>, or data.<key>"),
    ("    stages.sft.from: [data, export]", 7, "sweep.params.stages.sft.from: from cannot be swept; "
                                             "write those stages out"),
    ("    stages.sft.lerning_rate: [1, 2]", 7, "sweep.params.stages.sft.lerning_rate: unknown key; valid keys "
                                               "are args, env, venv, dataset, val_dataset, resume, launch"),
    ("    stages.deploy.port: [0, 8022]", 7,
     "sweep.params.stages.deploy.port: expected an integer from 1 to 65535, got 0"),
    ("    stages.sft.args.lora_rank: [8]", 7, "sweep.params.stages.sft.args.lora_rank: expected a list of 2 "
                                              "or more values, got 1"),
])
def test_a_wrong_sweep_is_told_at_the_key_written(write_pipeline: Write, params: str, line: int,
                                                   message: str) -> None:
    path = write_pipeline(CHAIN.format(params=params))
    assert error(path) == f"{path}:{line} › {message}"


def test_a_port_a_copy_takes_is_refused_elsewhere_naming_the_copy(write_pipeline: Write) -> None:
    path = write_pipeline(CHAIN.format(params=GRID) + "      other: {kind: deploy, model: model, port: 8023}\n")
    assert error(path) == (f"{path}:16 › stages.other.port: port 8023 is also used by stage deploy-lr2e-4-r8; "
                           "give each deploy stage its own port")


def test_a_sweep_flag_is_named_in_its_errors_and_a_copy_name_taken_is_refused(write_pipeline: Write) -> None:
    path = write_pipeline(CHAIN.format(params=GRID))
    assert error(path, "stages.eval.limit=5") == (
        "--sweep › sweep.params.stages.eval.limit: expected a list of 2 or more values, got 1")
    taken = write_pipeline(CHAIN.format(params=GRID) + "      sft-lr1e-4-r8: {kind: sft, from: data}\n")
    assert error(taken) == (f"{taken}:16 › stages.sft-lr1e-4-r8: is also the name of a copy the sweep makes of sft; "
                            "rename this stage")


def test_plan_shows_the_four_variants_of_the_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert plan(REPO / "examples" / "sweep.yaml", overrides=[f"workdir={tmp_path}"], selection=Selection()) == 0
    out = capsys.readouterr().out
    tags = ["lr1e-2-r4", "lr1e-2-r8", "lr2e-2-r4", "lr2e-2-r8"]
    for tag in tags:
        assert f"  eval-{tag} (eval) <- deploy-{tag}, eval-base\n" in out
        assert f"\nsft-{tag}: run (runs after data)\n" in out
    assert "\nsweep: grid, 4 variants (copies of a stage are named <stage>-<values>)\n" in out
    assert "  lr2e-2-r4: stages.sft.args.learning_rate=2e-2, stages.sft.args.lora_rank=4\n" in out
    assert ("  ports: deploy-lr1e-2-r4 8031, deploy-lr1e-2-r8 8032, deploy-lr2e-2-r4 8033, deploy-lr2e-2-r8 8034, "
            "serve 8040 (copies of a deploy stage listen on its port + 0, 1, ...)\n") in out
    assert out.count(" (base-eval)") == 1
    assert f"  best (select) <- {', '.join(f'eval-{t}' for t in tags)}\n  serve (deploy) <- best\n" in out
    assert (f"\nbest: run (runs after {', '.join(f'eval-{t}' for t in tags)})\n  picks the highest "
            f"general_mcq.accuracy of {', '.join(f'eval-{t}' for t in tags)}; stages after it read the winner's "
            "model\n\nserve: run") in out  # no command line: a select runs none
    assert "\nserve: run (runs after best)\n" in out and "--model '<best.model_dir>'" in out


SELECT = "      best: {kind: select, from: eval, metric: general_mcq.accuracy}\n" \
         "      serve: {kind: deploy, port: 8030}\n"


def test_a_select_reads_every_copy_of_a_swept_stage_and_is_not_copied(write_pipeline: Write) -> None:
    path = write_pipeline(CHAIN.format(params=GRID) + SELECT)
    g = load_pipeline(path, env={}, sweeps=[]).graph
    tags = ["lr1e-4-r8", "lr1e-4-r16", "lr2e-4-r8", "lr2e-4-r16"]
    assert wiring(g)["best"] == [f"eval-{t}" for t in tags]
    assert wiring(g)["serve"] == ["best"]
    assert not [n for n in g.names if n.startswith(("best-", "serve-"))]
    more = load_pipeline(path, env={}, sweeps=["stages.sft.args.lora_rank=8,16,32"]).graph
    assert wiring(more)["best"][-1] == "eval-lr2e-4-r32" and len(wiring(more)["best"]) == 6



def test_a_value_added_later_runs_only_the_new_variant(write_pipeline: Write, fake_venv: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}")
    (tmp_path / "train.jsonl").write_text('{"messages": []}\n')
    monkeypatch.setenv("FAKE_SWIFT_LOG", str(tmp_path / "calls.jsonl"))
    path = write_pipeline(f"""
        name: t
        model: model
        stages:
          sft: {{venv: {fake_venv}, dataset: [train.jsonl], args: {{max_steps: 4}}}}
          export: {{venv: {fake_venv}}}
    """)

    def go(values: str) -> list[tuple[str, str]]:
        run(path, overrides=[], selection=Selection(), keep_serving=False, sweeps=[f"stages.sft.args.seed={values}"])
        calls = [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]
        return [(c[0], next(a for a in c if "/runs/t/" in a).split("/runs/t/")[1].split("/")[0]) for c in calls]

    first = [("sft", "sft-seed1"), ("sft", "sft-seed2"), ("export", "sft-seed1"), ("export", "sft-seed2")]
    assert go("1,2") == first
    assert go("1,2,3") == [*first, ("sft", "sft-seed3"), ("export", "sft-seed3")]
