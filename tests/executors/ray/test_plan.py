"""What becomes a Ray job: grouping, submission ids, the command, the resources (no cluster needed)."""

from __future__ import annotations

import sys
from pathlib import Path

from swiftpipe.engine.manifest import Manifest
from swiftpipe.engine.pipeline import LoadedPipeline
from swiftpipe.engine.runner import Runner
from swiftpipe.engine.select import Selection, select
from swiftpipe.executors.ray import plan
from swiftpipe.executors.ray.plan import Job
from swiftpipe.loading import load_pipeline

DEMO = """
name: demo
model: m
executor: {type: ray}
data: {sources: [{path: d.jsonl}]}
stages:
  sft:
    launch: {nnodes: 2}
    ray: {num_cpus: 4, num_gpus: 8, resources: {big: 1}}
  export: {}
  deploy: {port: 8123, ray: {num_gpus: 1}}
  eval:
    datasets: {general_mcq: {local_path: x}}
"""


def demo(tmp_path: Path, text: str = DEMO) -> LoadedPipeline:
    (tmp_path / "m").mkdir(exist_ok=True)
    (tmp_path / "d.jsonl").write_text("{}\n")
    (tmp_path / "x").mkdir(exist_ok=True)
    path = tmp_path / "pipeline.yaml"
    path.write_text(text)
    return load_pipeline(path, ["stages.export.args.max_shard_size=1GB"], env={})


def jobs(loaded: LoadedPipeline) -> list[Job]:
    decisions = Runner(loaded, Manifest(str(loaded.source), str(loaded.workdir))).preflight(
        select(loaded.graph, Selection()), Selection(force=True))
    return plan.group(loaded, decisions)


def test_a_server_and_its_readers_share_a_job_and_other_stages_have_one_each(tmp_path: Path) -> None:
    found = jobs(demo(tmp_path))
    assert [(j.stages, j.nodes) for j in found] == [
        (("data",), 1), (("sft",), 2), (("export",), 1), (("deploy", "eval"), 1)]


def test_a_job_waits_for_the_stages_it_reads_outside_itself(tmp_path: Path) -> None:
    loaded = demo(tmp_path)
    data, sft, _, serve = jobs(loaded)
    assert (plan.upstream(loaded, data), plan.upstream(loaded, sft)) == (set(), {"data"})
    assert plan.upstream(loaded, serve) == {"data", "sft", "export"}


def test_the_submission_id_names_the_work_and_differs_by_fingerprint_workdir_and_attempt(tmp_path: Path) -> None:
    loaded = demo(tmp_path)
    sft = jobs(loaded)[1]
    first = plan.submission_id(loaded, sft, "fp1")
    assert first.startswith("swiftpipe-demo-sft-") and len(first) == len("swiftpipe-demo-sft-") + 12
    assert plan.submission_id(loaded, sft, "fp1") == first  # the next run finds it again
    assert plan.submission_id(loaded, sft, "fp1", attempt=2) == first + "-a2"
    assert plan.submission_id(loaded, sft, "fp2") != first
    other = tmp_path / "other"
    other.mkdir()
    assert plan.submission_id(demo(other), sft, "fp1") != first


def test_metadata_names_the_pipeline_stages_fingerprint_and_workdir(tmp_path: Path) -> None:
    loaded = demo(tmp_path)
    assert plan.metadata(loaded, jobs(loaded)[3], "abc") == {
        "swiftpipe_pipeline": "demo", "swiftpipe_stages": "deploy,eval", "swiftpipe_fingerprint": "abc",
        "swiftpipe_workdir": str(tmp_path / "runs" / "demo")}


def test_the_job_runs_swiftpipe_for_its_stages_with_this_interpreter_and_the_run_overrides(tmp_path: Path) -> None:
    loaded = demo(tmp_path)
    assert plan.entrypoint(loaded, jobs(loaded)[3]) == (
        f"cd {tmp_path} && exec {sys.executable} -m swiftpipe run {tmp_path / 'pipeline.yaml'} "
        "--set stages.export.args.max_shard_size=1GB --job deploy,eval")


def test_a_single_node_job_asks_for_its_stage_resources_and_a_multi_node_driver_for_none(tmp_path: Path) -> None:
    loaded = demo(tmp_path)
    data, sft, _, serve = jobs(loaded)
    assert plan.entry_resources(loaded, data) == (1, 0, {})
    assert plan.entry_resources(loaded, sft) == (0, 0, {})  # its placement group holds the nodes
    assert (plan.resources(loaded, sft).num_cpus, plan.resources(loaded, sft).resources) == (4, {"big": 1})
    assert plan.entry_resources(loaded, serve) == (1, 1, {})
