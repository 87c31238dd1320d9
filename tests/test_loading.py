"""load_pipeline: the executor's settings beside the graph, and every problem in one message."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from swiftpipe.core.errors import UserError
from swiftpipe.executors.local import LocalSettings
from swiftpipe.executors.slurm.config import SlurmResources, SlurmSettings
from swiftpipe.loading import executor_kind, load_pipeline

Write = Callable[[str], Path]

PIPELINE = """
name: g
model: m
executor: {executor}
data: {{sources: [{{path: d.jsonl}}]}}
stages:
  sft: {sft}
"""
SBATCH_RULE = "without spaces, quotes, '\\', '#', '$', '`', ';', '<', '>' or line breaks"


def error(path: Path) -> str:
    with pytest.raises(UserError) as info:
        load_pipeline(path, env={})
    return str(info.value)


def test_an_unknown_executor_type_lists_the_executors(write_pipeline: Write) -> None:
    path = write_pipeline(PIPELINE.format(executor="{type: k8s}", sft="{}"))
    assert error(path) == f"{path}:3 › executor.type: expected one of local, slurm, ray, got 'k8s'"


def test_settings_of_another_executor_are_accepted_but_unused_here(write_pipeline: Write) -> None:
    text = PIPELINE.format(executor="{type: local, partition: gpu, time: '04:00:00'}", sft="{slurm: {mem: 64G}}")
    loaded = load_pipeline(write_pipeline(text), env={})
    assert executor_kind(loaded).name == "local"
    assert loaded.executor == LocalSettings()
    assert loaded.graph["sft"].resources == {"slurm": SlurmResources(mem="64G")}


def test_the_same_file_under_slurm_uses_them(write_pipeline: Write) -> None:
    text = PIPELINE.format(executor="{type: slurm, partition: gpu, time: '04:00:00'}", sft="{}")
    loaded = load_pipeline(write_pipeline(text), env={})
    assert executor_kind(loaded).name == "slurm"
    assert loaded.executor == SlurmSettings(partition="gpu", time="04:00:00")


def test_without_executor_the_pipeline_runs_here(write_pipeline: Write) -> None:
    loaded = load_pipeline(write_pipeline("name: g\nmodel: m\nstages: {}\n"), env={})
    assert executor_kind(loaded).name == "local" and loaded.executor == LocalSettings()


def test_settings_of_another_executor_are_still_checked(write_pipeline: Write) -> None:
    path = write_pipeline(PIPELINE.format(executor="{type: local, partition: 'a b'}", sft="{}"))
    assert error(path) == (f"{path}:3 › executor.partition: expected one sbatch value {SBATCH_RULE}, got 'a b'")


def test_an_unknown_executor_key(write_pipeline: Write) -> None:
    path = write_pipeline(PIPELINE.format(executor="{type: slurm, partiton: gpu}", sft="{}"))
    assert error(path) == f"{path}:3 › executor.partiton: unknown key; did you mean 'partition'?"


def test_problems_of_the_file_the_executor_and_the_graph_come_in_one_message(write_pipeline: Write) -> None:
    text = PIPELINE.format(executor="{type: k8s}", sft="{from: dta, args: {hub_token: hf_abc}}")
    path = write_pipeline(text.replace("model: m\n", "model: m\nmodel: m2\n"))
    assert error(path).splitlines() == [
        f"{path}:3: duplicate key 'model' (first at line 2); YAML keeps only the last one",
        f"{path}:7 › stages.sft.args.hub_token: a secret must not be written in the pipeline file; export it in "
        "the environment and write 'hub_token: ${VAR}', or use the stage's *_env option",
        f"{path}:4 › executor.type: expected one of local, slurm, ray, got 'k8s'",
        f"{path}:7 › stages.sft.from: no stage named 'dta' to read from (stages: data)",
    ]


def test_the_executors_problems_come_with_the_graphs(write_pipeline: Write) -> None:
    path = write_pipeline("""
        name: g
        model: m
        data: {sources: [{path: d.jsonl}]}
        stages:
          sft: {launch: {nnodes: 2, master_port: 29500}}
          d1: {kind: deploy, port: 8001}
          d2: {kind: deploy, port: 8001}
        """)
    assert error(path).splitlines() == [
        f"{path}:7 › stages.d2.port: port 8001 is also used by stage d1; give each deploy stage its own port",
        f"{path}:5 › stages.sft.launch.master_addr: required with nnodes > 1; set it to the address of node 0",
    ]


def test_an_unknown_key_under_an_executor_without_settings_says_so(write_pipeline: Write) -> None:
    path = write_pipeline(PIPELINE.format(executor="{type: local, nodes: 2}", sft="{}"))
    assert error(path) == f"{path}:3 › executor.nodes: unknown key; nothing else is set here"
