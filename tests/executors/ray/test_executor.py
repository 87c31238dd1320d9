"""The Ray executor against a real two-node Ray cluster on this machine (cluster.py).

Where ray is not installed the cluster tests skip with one line; with SWIFTPIPE_REQUIRE_RAY=1
(set by .ci/run after installing the `ray` extra) that skip is a failure. One cluster serves the
module; each test uses its own workdir and finds its jobs by the workdir in their metadata.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from swiftpipe.engine.manifest import load_manifest
from tests.executors.ray.cluster import Cluster, cluster, need_ray

REPO = Path(__file__).parents[3]
ARGS = ("tuner_type: lora, save_steps: 2, logging_steps: 1, per_device_train_batch_size: 1, max_length: 512, "
        "torch_dtype: float32, fp16: false, bf16: false, dataloader_num_workers: 0, report_to: none")


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[Cluster]:
    need_ray()
    root = Path(tempfile.mkdtemp(prefix="sp-ray-", dir="/tmp"))  # Ray's socket paths must stay short
    try:
        with cluster(root) as c:
            yield c
    finally:
        shutil.rmtree(root, ignore_errors=True)


DOLLY = REPO / "datasets" / "support.dolly.jsonl"


def write(folder: Path, model: Path, *, max_steps: int, source: Path = DOLLY) -> Path:
    """data -> sft on the tiny model (a local pipeline: the tests switch it to Ray with --set)."""
    path = folder / "pipeline.yaml"
    path.write_text(f"""
name: rayt
model: {model}
model_type: qwen3
template: qwen3
data:
  sources: [{{path: {source}}}]
stages:
  sft:
    args: {{max_steps: {max_steps}, {ARGS}}}
""")
    return path


def swiftpipe(c: Cluster, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "swiftpipe", *args], capture_output=True, text=True,
                          timeout=timeout, env=c.env)


def ours(c: Cluster, work: Path) -> dict[str, str]:
    """submission id -> status of the jobs of `work`."""
    return {str(j["id"]): str(j["status"]) for j in c.jobs()
            if j["metadata"].get("swiftpipe_workdir") == str(work)}


def until(what: Callable[[], bool], timeout: float = 300, alive: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert alive is None or alive.poll() is None, "the run ended early"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.5)


def text(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


@pytest.mark.integration
def test_stages_run_as_jobs_on_two_nodes_and_a_killed_submitter_is_reattached(
    ray_cluster: Cluster, tmp_path: Path, tiny_model: Path
) -> None:
    path = write(tmp_path, tiny_model, max_steps=8)
    overrides = ["--set", "executor.type=ray", "--set", "stages.sft.launch.nnodes=2"]
    work, log = tmp_path / "runs" / "rayt", tmp_path / "runs" / "rayt" / "logs" / "sft.log"
    with (tmp_path / "first.err").open("wb") as err:
        first = subprocess.Popen([sys.executable, "-m", "swiftpipe", "run", str(path), *overrides],
                                 env=ray_cluster.env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        until(lambda: "Train:" in text(log), alive=first)
        first.send_signal(signal.SIGKILL)  # the submitter dies; its jobs live in Ray
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    (sft_id,) = [i for i in ours(ray_cluster, work) if "-sft-" in i]
    assert ours(ray_cluster, work)[sft_id] == "RUNNING"
    again = swiftpipe(ray_cluster, "run", str(path), *overrides)
    assert again.returncode == 0, again.stderr[-4000:]
    assert f"sft: reattached to Ray job {sft_id} (RUNNING); following its log" in again.stderr
    assert "submitted as Ray job" not in again.stderr  # no second training
    jobs = ours(ray_cluster, work)
    assert sorted(s.split("-")[2] for s in jobs) == ["data", "sft"] and set(jobs.values()) == {"SUCCEEDED"}
    manifest = load_manifest(work)
    assert manifest is not None
    assert {n: (str(r.status), r.job["state"]) for n, r in manifest.stages.items()} == {
        "data": ("succeeded", "SUCCEEDED"), "sft": ("succeeded", "SUCCEEDED")}
    assert manifest.stages["sft"].job["id"] == sft_id
    sft_log = text(log)
    assert "world_size: 2" in sft_log
    nodes = {line.split(" on Ray node ")[1].split()[0] for line in sft_log.splitlines()
             if line.startswith("ray: node rank ")}
    assert len(nodes) == 2, sft_log[:2000]
    third = swiftpipe(ray_cluster, "run", str(path), *overrides)  # up to date: nothing is submitted
    assert third.returncode == 0 and "submitted" not in third.stderr and "reattached" not in third.stderr
    assert ours(ray_cluster, work) == jobs


@pytest.mark.integration
def test_a_failing_stage_exits_1_naming_itself_and_nothing_after_it_is_submitted(
    ray_cluster: Cluster, tmp_path: Path, tiny_model: Path
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('not json\n{"broken": \n')  # read only when the data stage runs, in its job
    path = write(tmp_path, tiny_model, max_steps=2, source=bad)
    done = swiftpipe(ray_cluster, "run", str(path), "--set", "executor.type=ray")
    assert done.returncode == 1, done.stderr[-3000:]
    assert "; not submitted after it: sft; fix the cause, then resume with:\n" in done.stderr
    assert done.stderr.rstrip().endswith(f"swiftpipe run {path} --set executor.type=ray --from data")
    work = tmp_path / "runs" / "rayt"
    assert [(s.split("-")[2], state) for s, state in ours(ray_cluster, work).items()] == [("data", "FAILED")]
    manifest = load_manifest(work)
    assert manifest is not None
    assert (str(manifest.stages["data"].status), manifest.stages["data"].job["state"]) == ("failed", "FAILED")
    assert manifest.stages["sft"].job == {}


@pytest.mark.integration
def test_detach_returns_status_shows_live_jobs_and_stop_stops_ours_only(
    ray_cluster: Cluster, tmp_path: Path, tiny_model: Path
) -> None:
    from ray.job_submission import JobSubmissionClient

    path = write(tmp_path, tiny_model, max_steps=500)
    work, args = tmp_path / "runs" / "rayt", (str(path), "--set", "executor.type=ray")
    theirs = JobSubmissionClient(ray_cluster.address).submit_job(entrypoint="sleep 300", entrypoint_num_cpus=0)
    try:
        first = swiftpipe(ray_cluster, "run", *args, "--detach")
        assert first.returncode == 0, first.stderr[-3000:]
        assert "; sft wait for them: the next swiftpipe run submits them" in first.stderr
        until(lambda: set(ours(ray_cluster, work).values()) == {"SUCCEEDED"})
        second = swiftpipe(ray_cluster, "run", *args, "--detach")  # data is done: sft is submitted
        assert second.returncode == 0 and "sft: submitted as Ray job" in second.stderr, second.stderr[-3000:]
        (sft_id,) = [i for i in ours(ray_cluster, work) if "-sft-" in i]
        until(lambda: ours(ray_cluster, work)[sft_id] == "RUNNING")
        status = swiftpipe(ray_cluster, "status", *args)
        assert f"{sft_id} RUNNING" in status.stdout, status.stdout
        stop = swiftpipe(ray_cluster, "stop", *args)
        assert stop.returncode == 0 and f"stopped Ray job {sft_id} (RUNNING)" in stop.stderr, stop.stderr
        until(lambda: ours(ray_cluster, work)[sft_id] == "STOPPED", timeout=60)
        assert JobSubmissionClient(ray_cluster.address).get_job_status(theirs).value == "RUNNING"
    finally:
        JobSubmissionClient(ray_cluster.address).stop_job(theirs)


@pytest.mark.integration
def test_ctrl_c_stops_the_jobs_of_this_run_and_says_where_to_resume(
    ray_cluster: Cluster, tmp_path: Path, tiny_model: Path
) -> None:
    path = write(tmp_path, tiny_model, max_steps=500)
    work = tmp_path / "runs" / "rayt"
    with (tmp_path / "run.err").open("wb") as err:
        run = subprocess.Popen([sys.executable, "-m", "swiftpipe", "run", str(path), "--set", "executor.type=ray"],
                               env=ray_cluster.env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        until(lambda: '"status": "running"' in text(work / "records" / "sft.json"), alive=run)  # its job began it
        run.send_signal(signal.SIGINT)
        assert run.wait(timeout=60) == 130
    finally:
        if run.poll() is None:
            run.kill()
    (sft_id,) = [i for i in ours(ray_cluster, work) if "-sft-" in i]
    assert f"stopped the Ray jobs of this run: {sft_id}\n" in text(tmp_path / "run.err")
    assert f"resume with:\n  swiftpipe run {path} --set executor.type=ray\n" in text(tmp_path / "run.err")
    assert ours(ray_cluster, work)[sft_id] == "STOPPED"
    manifest = load_manifest(work)
    assert manifest is not None
    assert (str(manifest.stages["sft"].status), manifest.stages["sft"].job["state"]) == ("interrupted", "STOPPED")
