"""The SLURM executor: jobs, scripts, and a real run through a two-node cluster on this machine.

The cluster tests need root and slurm-wlm + munge; elsewhere they skip with one line, and with
SWIFTPIPE_REQUIRE_SLURM=1 (set by .ci/run) that skip is a failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from swiftpipe.core import host
from swiftpipe.engine.manifest import Manifest, load_manifest
from swiftpipe.engine.runner import Runner
from swiftpipe.engine.select import Selection, select
from swiftpipe.executors.slurm.coordinator import plan_jobs
from swiftpipe.executors.slurm.script import render
from swiftpipe.loading import load_pipeline
from tests.executors.slurm.cluster import Cluster, cluster, unavailable

REPO = Path(__file__).parents[3]


def pipeline_text(model: Path, *, sft_nodes: int = 2, max_steps: int = 6, extra: str = "") -> str:
    return f"""
name: slurmt
model: {model}
model_type: qwen3
template: qwen3
executor: {{type: slurm}}
data:
  sources: [{{path: {REPO / 'datasets' / 'support.dolly.jsonl'}}}]
stages:
  sft:
    launch: {{nnodes: {sft_nodes}}}
    args: {{tuner_type: lora, max_steps: {max_steps}, save_steps: 2, logging_steps: 1,
            per_device_train_batch_size: 1, max_length: 512, torch_dtype: float32, fp16: false, bf16: false,
            dataloader_num_workers: 0, report_to: none}}
  export: {{}}
  deploy: {{port: {{port}}, ready_timeout: 300}}
  eval:
    datasets: {{general_mcq: {{local_path: {REPO / 'datasets' / 'eval' / 'mcq'}, subset_list: [demo]}}}}
    limit: 4
    generation_config: {{temperature: 0.0, max_tokens: 8, timeout: 120}}
{extra}"""


def test_a_server_and_its_readers_share_a_job_and_scripts_say_what_they_run(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    path = tmp_path / "p.yaml"
    path.write_text(pipeline_text(tmp_path / "m").replace("{port}", "8123"))
    loaded = load_pipeline(path, env={})
    decisions = Runner(loaded, Manifest(str(path), str(loaded.workdir))).preflight(
        select(loaded.graph, Selection()), Selection(force=True))
    jobs = plan_jobs(loaded, decisions)
    assert [j.stages for j in jobs] == [("data",), ("sft",), ("export",), ("deploy", "eval")]
    script = render(loaded, jobs[1])
    assert "#SBATCH --nodes=2\n#SBATCH --ntasks-per-node=1\n" in script
    assert "#SBATCH --job-name=swiftpipe-slurmt-sft\n" in script
    assert script.rstrip().endswith(f"-m swiftpipe run {path} --job sft")


@pytest.fixture(scope="module")
def slurm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    why = unavailable()
    if why is not None:
        if os.environ.get("SWIFTPIPE_REQUIRE_SLURM") == "1":
            pytest.fail(f"SWIFTPIPE_REQUIRE_SLURM=1 but {why}")
        pytest.skip(why)
    with cluster(tmp_path_factory.mktemp("slurm")) as c:
        yield c


def swiftpipe(c: Cluster, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "swiftpipe", *args], capture_output=True, text=True,
                          timeout=timeout, env={**c.env, "PYTHONUNBUFFERED": "1"})


def no_jobs_left(c: Cluster) -> bool:
    return subprocess.run(["squeue", "-h"], env=c.env, capture_output=True, text=True).stdout.strip() == ""


@pytest.mark.integration
def test_the_pipeline_runs_through_a_two_node_cluster(slurm: Cluster, tmp_path: Path, tiny_model: Path) -> None:
    from swiftpipe.core.host import free_port

    path = tmp_path / "pipeline.yaml"
    # A local pipeline made to run on two nodes with the words every executor shares.
    text = pipeline_text(tiny_model, sft_nodes=1).replace("executor: {type: slurm}\n", "")
    path.write_text(text.replace("{port}", str(free_port())))
    overrides = ["--set", "executor.type=slurm", "--set", "stages.sft.launch.nnodes=2"]
    done = swiftpipe(slurm, "run", str(path), *overrides)
    assert done.returncode == 0, done.stderr[-4000:]
    manifest = load_manifest(tmp_path / "runs" / "slurmt")
    assert manifest is not None
    ids = {name: record.job.get("id") for name, record in manifest.stages.items()}
    assert all(ids[n] for n in ("data", "sft", "export", "deploy", "eval")), ids
    assert ids["deploy"] == ids["eval"] and len({ids["data"], ids["sft"], ids["export"], ids["eval"]}) == 4
    assert {n: str(r.status) for n, r in manifest.stages.items()} == {
        n: "succeeded" for n in ("data", "sft", "export", "deploy", "eval")}
    sft_log = (tmp_path / "runs" / "slurmt" / "logs" / "sft.log").read_text()
    assert "world_size: 2" in sft_log and "srun --nodes=2" in sft_log
    assert (tmp_path / "runs" / "slurmt" / "report" / "index.html").is_file()
    assert no_jobs_left(slurm)
    assert "Traceback" not in done.stderr, done.stderr[-4000:]  # servers stop cleanly
    again = swiftpipe(slurm, "run", str(path), *overrides)  # up to date: nothing is submitted
    assert again.returncode == 0 and "submitted" not in again.stderr


@pytest.mark.integration
def test_a_failing_stage_cancels_the_later_ones_and_names_itself(
    slurm: Cluster, tmp_path: Path, tiny_model: Path
) -> None:
    path = tmp_path / "pipeline.yaml"
    text = pipeline_text(tiny_model, sft_nodes=1, max_steps=2).replace("{port}", str(host.free_port()))
    path.write_text(text.replace("export: {}", "export: {args: {max_shard_size: not-a-size}}"))
    done = swiftpipe(slurm, "run", str(path))
    assert done.returncode == 1, done.stderr[-3000:]
    assert f"resume with:\n  swiftpipe run {path} --from export" in done.stderr
    manifest = load_manifest(tmp_path / "runs" / "slurmt")
    assert manifest is not None
    assert str(manifest.stages["export"].status) == "failed"
    assert manifest.stages["eval"].job["state"] == "CANCELLED"
    assert no_jobs_left(slurm)


@pytest.mark.integration
def test_a_cancelled_training_job_resumes_from_its_checkpoint(
    slurm: Cluster, tmp_path: Path, tiny_model: Path
) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text(pipeline_text(tiny_model, sft_nodes=1, max_steps=8).replace("{port}", str(host.free_port())))
    work = tmp_path / "runs" / "slurmt"
    run = subprocess.Popen([sys.executable, "-m", "swiftpipe", "run", str(path)], env=slurm.env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 600
        while not list((work / "sft").glob("v*/checkpoint-2/trainer_state.json")):
            assert run.poll() is None and time.monotonic() < deadline
            time.sleep(1)
        manifest = load_manifest(work)
        assert manifest is not None
        subprocess.run(["scancel", manifest.stages["sft"].job["id"]], env=slurm.env, check=True)
        _, err = run.communicate(timeout=300)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 1 and "--from sft" in err
    done = swiftpipe(slurm, "run", str(path))
    assert done.returncode == 0, done.stderr[-3000:]
    record = load_manifest(work).stages["sft"]  # type: ignore[union-attr]
    assert "--resume_from_checkpoint" in record.argv
    assert json.loads(Path(record.outputs["last_checkpoint"], "trainer_state.json").read_text())["global_step"] == 8
    assert no_jobs_left(slurm)
