"""`launch:` on training stages: swift's launch variables, --deepspeed, the checks before anything starts."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from swiftpipe.core.errors import UserError
from swiftpipe.engine.fingerprint import fingerprint
from swiftpipe.engine.launch import LaunchConfig
from swiftpipe.kinds import launching
from swiftpipe.kinds.launching import Host, resolve
from swiftpipe.kinds.sft import SftStage
from swiftpipe.loading import load_pipeline
from swiftpipe.msswift import deepspeed, plugins
from tests.conftest import stage_context

CPU = Host(gpus=0, gpu_why="nvidia-smi -L lists none", cpus=2, python="/venv/bin/python", deepspeed="0.19.8")
GPUS = Host(gpus=2, gpu_why="nvidia-smi -L lists 2", cpus=32, python="/venv/bin/python", deepspeed="0.19.8")


def go(cfg: LaunchConfig, host: Host, tmp_path: Path, args: dict[str, Any] | None = None,
       env: dict[str, str] | None = None) -> launching.Launch:
    return resolve(cfg, host, args or {}, where="stages.sft", pipeline_dir=tmp_path, stage_dir=tmp_path / "sft",
                   env=env or {})


def refused(cfg: LaunchConfig, host: Host, tmp_path: Path) -> str:
    with pytest.raises(UserError) as info:
        go(cfg, host, tmp_path)
    return str(info.value)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_two_processes_with_zero3_on_the_cpu(tmp_path: Path) -> None:
    launch = go(LaunchConfig(nproc_per_node=2, deepspeed="zero3"), CPU, tmp_path)
    plugin = tmp_path / "sft" / "swift-plugins" / "deepspeed_cpu_world.py"
    exit_plugin = tmp_path / "sft" / "swift-plugins" / "exit_cleanly.py"
    assert launch.argv == ["--deepspeed", "zero3", "--external_plugins", str(plugin), str(exit_plugin)]
    assert launch.env == {"NPROC_PER_NODE": "2", "MASTER_PORT": launch.env["MASTER_PORT"]}
    assert 1024 <= int(launch.env["MASTER_PORT"]) <= 65535
    assert launch.notes == [
        "world size 2 (2 process(es) x 1 machine(s), on the CPU, gloo)",
        f"master port {launch.env['MASTER_PORT']} (auto: a free port; not part of the fingerprint)",
        f"deepspeed: zero3 (ms-swift's config) on the CPU (deepspeed 0.19.8), with --external_plugins {plugin}: "
        "accelerate's world size under DeepSpeed without a GPU",
        f"--external_plugins {exit_plugin}: each rank destroys its process group at exit "
        "(one left alive can abort a finished run)",
        "effective batch 16 = per_device_train_batch_size 1 x gradient_accumulation_steps 8 "
        "(ms-swift's default: ceil(16 / 1 / 2)) x world size 2",
    ]
    assert launch.inputs == {
        "deepspeed": {"name": "zero3", "write_to": str(plugin), "plugin_sha256": sha256(deepspeed.PLUGIN)},
        "exit_plugin": {"write_to": str(exit_plugin), "plugin_sha256": sha256(plugins.EXIT_CLEANLY)},
        "world_size": 2, "nproc_per_node": 2, "nnodes": 1}
    assert not plugin.parent.exists()  # written when the stage runs, not by plan
    deepspeed.write_config(launch.inputs["deepspeed"])
    assert plugin.read_text() == deepspeed.PLUGIN.read_text()
    assert [p.name for p in plugin.parent.iterdir()] == [plugin.name]
    plugins.write(launch.inputs["exit_plugin"])
    assert exit_plugin.read_bytes() == plugins.EXIT_CLEANLY.read_bytes()


def test_cpu_processes_without_deepspeed_are_told_they_share_one_training(tmp_path: Path) -> None:
    cpu = go(LaunchConfig(nproc_per_node=2), CPU, tmp_path)
    assert cpu.env == {"NPROC_PER_NODE": "2", "MASTER_PORT": cpu.env["MASTER_PORT"], "ACCELERATE_USE_CPU": "true"}
    assert ("ACCELERATE_USE_CPU=true: without it, transformers takes every CPU process for rank 0, so the ranks "
            "train unsynchronised and all write the same checkpoint") in cpu.notes
    for cfg, host in ((LaunchConfig(nproc_per_node=2), GPUS), (LaunchConfig(nproc_per_node=2, deepspeed="zero2"), CPU),
                      (LaunchConfig(), CPU)):
        assert "ACCELERATE_USE_CPU" not in go(cfg, host, tmp_path).env


def test_every_launch_of_more_than_one_process_destroys_its_group_at_exit(tmp_path: Path) -> None:
    exit_plugin = str(tmp_path / "sft" / "swift-plugins" / "exit_cleanly.py")
    for cfg, host in ((LaunchConfig(nproc_per_node=2), CPU), (LaunchConfig(nproc_per_node=2), GPUS),
                      (LaunchConfig(nnodes=2, node_rank=1, master_addr="10.0.0.1", master_port=29500), GPUS)):
        launch = go(cfg, host, tmp_path, args={"external_plugins": "mine.py"})
        assert launch.argv == ["--external_plugins", "mine.py", exit_plugin]
        assert launch.inputs["exit_plugin"]["write_to"] == exit_plugin
    one = go(LaunchConfig(nproc_per_node=1, deepspeed="zero2"), GPUS, tmp_path)
    assert one.argv == ["--deepspeed", "zero2"] and "exit_plugin" not in one.inputs


def test_the_users_own_plugins_stay_beside_the_cpu_plugin(tmp_path: Path) -> None:
    plugin = str(tmp_path / "sft" / "swift-plugins" / "deepspeed_cpu_world.py")
    for given, mine in ((["a.py", "b.py"], ["a.py", "b.py"]), ("a.py", ["a.py"])):
        launch = go(LaunchConfig(deepspeed="zero2"), CPU, tmp_path, args={"external_plugins": given})
        assert launch.argv == ["--deepspeed", "zero2", "--external_plugins", *mine, plugin]


def test_a_four_gpu_zero3_stage_on_a_cpu_machine_is_refused(tmp_path: Path) -> None:
    cfg = LaunchConfig(nproc_per_node=4, devices="0,1,2,3", deepspeed="zero3")
    assert refused(cfg, CPU, tmp_path) == (
        "stages.sft.launch.devices: 0,1,2,3 names GPUs but this machine has none (nvidia-smi -L lists none), "
        "remove devices to train on the CPU or run on a GPU machine")


def test_more_processes_than_cpu_cores_without_a_gpu(tmp_path: Path) -> None:
    assert refused(LaunchConfig(nproc_per_node=4), CPU, tmp_path) == (
        "stages.sft.launch.nproc_per_node: 4 processes but this machine has no GPU (nvidia-smi -L lists none) "
        "and 2 CPU core(s), use at most 2 (gloo on the CPU) or a GPU machine")


def test_more_processes_than_visible_gpus(tmp_path: Path) -> None:
    assert refused(LaunchConfig(nproc_per_node=4), GPUS, tmp_path) == (
        "stages.sft.launch.nproc_per_node: 4 processes but 2 GPU(s) are visible (nvidia-smi -L lists 2), "
        "set nproc_per_node: auto or at most 2")
    assert refused(LaunchConfig(nproc_per_node=2, devices="1"), GPUS, tmp_path).startswith(
        "stages.sft.launch.nproc_per_node: 2 processes but 1 GPU(s) are visible")
    assert refused(LaunchConfig(devices="0,2"), GPUS, tmp_path) == (
        "stages.sft.launch.devices: GPU 2 does not exist (nvidia-smi -L lists 2), use ids 0 to 1")


def test_auto_is_one_process_per_visible_gpu_and_names_pass_through(tmp_path: Path) -> None:
    launch = go(LaunchConfig(nproc_per_node="auto", devices="0,1", deepspeed="zero3", master_port=29511), GPUS,
                tmp_path, args={"per_device_train_batch_size": 4, "gradient_accumulation_steps": 2})
    assert launch.env == {"NPROC_PER_NODE": "2", "MASTER_PORT": "29511", "CUDA_VISIBLE_DEVICES": "0,1"}
    exit_plugin = tmp_path / "sft" / "swift-plugins" / "exit_cleanly.py"
    assert launch.argv == ["--deepspeed", "zero3", "--external_plugins", str(exit_plugin)]
    assert launch.inputs == {"deepspeed": {"name": "zero3"}, "world_size": 2, "nproc_per_node": 2, "nnodes": 1,
                             "exit_plugin": {"write_to": str(exit_plugin),
                                             "plugin_sha256": sha256(plugins.EXIT_CLEANLY)}}
    assert launch.notes[-1] == ("effective batch 16 = per_device_train_batch_size 4 x gradient_accumulation_steps 2"
                                " x world size 2")
    assert go(LaunchConfig(nproc_per_node="auto"), CPU, tmp_path).env == {}


def test_two_machines(tmp_path: Path) -> None:
    cfg = LaunchConfig(nproc_per_node=2, nnodes=2, node_rank=1, master_addr="10.0.0.1", master_port=29500)
    launch = go(cfg, GPUS, tmp_path)
    assert launch.env == {"NPROC_PER_NODE": "2", "NNODES": "2", "NODE_RANK": "1", "MASTER_ADDR": "10.0.0.1",
                          "MASTER_PORT": "29500"}
    assert launch.notes[:2] == [
        "world size 4 (2 process(es) x 2 machine(s), on GPUs, nccl)",
        "machine 1 of 2: only machine 0 writes the run folder and checkpoints; run the stages after this one there"]
    assert launch.inputs == {"world_size": 4, "nproc_per_node": 2, "nnodes": 2,
                             "exit_plugin": {"write_to": str(tmp_path / "sft" / "swift-plugins" / "exit_cleanly.py"),
                                             "plugin_sha256": sha256(plugins.EXIT_CLEANLY)}}


def test_deepspeed_must_be_importable_in_the_stage_python(tmp_path: Path) -> None:
    host = Host(gpus=0, gpu_why="-", cpus=2, python="/other/bin/python", deepspeed=None)
    assert refused(LaunchConfig(deepspeed="zero2"), host, tmp_path) == (
        "stages.sft.launch.deepspeed: deepspeed is not installed in /other/bin/python, "
        "pip install 'deepspeed==0.19.8' there (or pip install -e '.[train]')")


def test_offload_needs_a_gpu(tmp_path: Path) -> None:
    assert refused(LaunchConfig(deepspeed="zero3_offload"), CPU, tmp_path) == (
        "stages.sft.launch.deepspeed: zero3_offload offloads GPU memory to the CPU but this machine has no GPU, "
        "use zero3")


def test_a_deepspeed_json_file(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"zero_optimization": {"stage": 2,}}')
    assert refused(LaunchConfig(deepspeed="bad.json"), CPU, tmp_path) == (
        f"stages.sft.launch.deepspeed: {tmp_path / 'bad.json'} does not parse as JSON (Expecting property name "
        "enclosed in double quotes: line 1 column 35 (char 34)), fix the file or use zero2 or zero3")
    assert refused(LaunchConfig(deepspeed="none.json"), CPU, tmp_path) == (
        f"stages.sft.launch.deepspeed: {tmp_path / 'none.json'}: no such file")
    (tmp_path / "ok.json").write_text('{"train_batch_size": "auto", "zero_optimization": {"stage": 2}}')
    launch = go(LaunchConfig(nproc_per_node=2, deepspeed="ok.json"), CPU, tmp_path)
    plugin = tmp_path / "sft" / "swift-plugins" / "deepspeed_cpu_world.py"
    exit_plugin = str(tmp_path / "sft" / "swift-plugins" / "exit_cleanly.py")
    assert launch.argv == ["--deepspeed", str(tmp_path / "ok.json"), "--external_plugins", str(plugin), exit_plugin]
    assert launch.notes[2] == (f"deepspeed: {tmp_path / 'ok.json'} on the CPU (deepspeed 0.19.8), with "
                               f"--external_plugins {plugin}: accelerate's world size under DeepSpeed without a GPU")
    assert set(launch.inputs["deepspeed"]) == {"path", "sha256", "write_to", "plugin_sha256"}
    on_gpus = go(LaunchConfig(nproc_per_node=2, deepspeed="ok.json"), GPUS, tmp_path)
    assert on_gpus.argv == ["--deepspeed", str(tmp_path / "ok.json"), "--external_plugins", exit_plugin]
    assert set(on_gpus.inputs["deepspeed"]) == {"path", "sha256"}


def test_metrics_of_a_finished_stage() -> None:
    assert launching.metrics({}, 1) == {"world_size": 1, "effective_batch": 16}
    assert launching.metrics({"per_device_train_batch_size": 2}, 2) == {
        "world_size": 2, "effective_batch": 16}


# --- through pipeline.yaml and the sft stage's plan ---------------------------------------------


@pytest.fixture
def pipeline(tmp_path: Path, write_pipeline: Callable[[str], Path]) -> Path:
    (tmp_path / "train.jsonl").write_text('{"messages": [{"role": "user", "content": "hi"}]}\n')
    (tmp_path / "model").mkdir()
    return write_pipeline("""
        name: t
        model: model
        stages:
          sft:
            dataset: [train.jsonl]
            launch: {nproc_per_node: 2, deepspeed: zero2}
            args: {max_steps: 4}
        """)


def sft_plan(pipeline: Path, monkeypatch: pytest.MonkeyPatch, *overrides: str) -> Any:
    monkeypatch.setattr(launching, "probe", lambda env, cfg: CPU)
    loaded = load_pipeline(pipeline, list(overrides))
    return SftStage().plan(stage_context(loaded, "sft"))


def test_the_port_is_not_part_of_the_fingerprint(pipeline: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = sft_plan(pipeline, monkeypatch)
    second = sft_plan(pipeline, monkeypatch, "stages.sft.launch.master_port=29533")
    assert second.env["MASTER_PORT"] == "29533" and first.env["MASTER_PORT"] != "29533"
    assert first.env["NPROC_PER_NODE"] == "2"
    plugins_dir = pipeline.parent / "runs" / "t" / "sft" / "swift-plugins"
    assert first.argv[-5:] == ["--deepspeed", "zero2", "--external_plugins",
                               str(plugins_dir / "deepspeed_cpu_world.py"), str(plugins_dir / "exit_cleanly.py")]
    assert fingerprint(first.inputs) == fingerprint(second.inputs)
    one = sft_plan(pipeline, monkeypatch, "stages.sft.launch.nproc_per_node=1")
    assert fingerprint(one.inputs) != fingerprint(first.inputs)


def test_one_process_keeps_the_old_fingerprint_inputs(pipeline: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (pipeline.parent / "pipeline.yaml").write_text(pipeline.read_text().replace(
        "    launch: {nproc_per_node: 2, deepspeed: zero2}\n", ""))
    plan = sft_plan(pipeline, monkeypatch)
    assert "launch" not in plan.inputs and "NPROC_PER_NODE" not in plan.env
    assert plan.notes == ["world size 1", "effective batch 16 = per_device_train_batch_size 1 x "
                          "gradient_accumulation_steps 16 (ms-swift's default: ceil(16 / 1 / 1)) x world size 1"]


def config_error(pipeline: Path, *overrides: str) -> str:
    with pytest.raises(UserError) as info:
        load_pipeline(pipeline, list(overrides))
    return str(info.value)


def test_config_problems_are_found_before_anything_starts(pipeline: Path) -> None:
    assert config_error(pipeline, "stages.sft.launch.nnodes=2") == "\n".join([
        f"{pipeline}:6 › stages.sft.launch.master_addr: required with nnodes > 1; set it to the address of node 0",
        f"{pipeline}:6 › stages.sft.launch.master_port: auto picks a free port on one machine only; with nnodes > 1 "
        "set the port every node uses, e.g. 29500",
    ])
    assert config_error(pipeline, "stages.sft.launch.deepspeed=zero4").endswith(
        "stages.sft.launch.deepspeed: expected zero2, zero3, zero2_offload, zero3_offload or a .json file, "
        "got 'zero4'")
    assert config_error(pipeline, "stages.sft.env.NPROC_PER_NODE='4'").endswith(
        "stages.sft.env.NPROC_PER_NODE: set by swiftpipe from launch:; use launch.nproc_per_node")
    assert config_error(pipeline, "stages.sft.args.deepspeed=zero2").endswith(
        "stages.sft.args.deepspeed: set by swiftpipe; use launch.deepspeed (zero2, zero3, ... or a JSON file)")
