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
from swiftpipe.engine.launch import Launcher
from swiftpipe.engine.manifest import Manifest, StageRecord, load_manifest, save_manifest
from swiftpipe.engine.pipeline import LoadedPipeline
from swiftpipe.engine.runner import Runner
from swiftpipe.engine.select import Selection, select
from swiftpipe.engine.stage import RunOptions
from swiftpipe.engine.status import Status
from swiftpipe.executors.slurm import executor
from swiftpipe.executors.slurm.coordinator import plan_jobs
from swiftpipe.executors.slurm.executor import SlurmExecutor
from swiftpipe.executors.slurm.launcher import SrunLauncher
from swiftpipe.executors.slurm.script import render
from swiftpipe.loading import load_pipeline
from tests.executors.slurm.cluster import Cluster, cluster, unavailable
from tests.executors.slurm.conftest import FakeSlurm

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


def with_jobs(demo: LoadedPipeline) -> Manifest:
    """A manifest whose stages ran in jobs 12 (sft), 13 (export) and 14 (deploy and eval); data ran in none."""
    manifest = Manifest(str(demo.source), str(demo.workdir))
    manifest.stage("data")
    for stage, job_id, state in (("sft", "12", "RUNNING"), ("export", "13", "COMPLETED"),
                                 ("deploy", "14", "PENDING"), ("eval", "14", "PENDING")):
        first = "deploy" if job_id == "14" else stage
        manifest.stage(stage).job = {"id": job_id, "name": f"swiftpipe-demo-{first}", "state": state}
    return manifest


def test_live_lists_the_jobs_squeue_still_knows_by_their_first_stage(
    demo: LoadedPipeline, fake_slurm: FakeSlurm, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_slurm.answer("squeue", "12 RUNNING\n14 PENDING\n")
    assert SlurmExecutor().live(with_jobs(demo)) == {"sft": "job 12 RUNNING", "deploy": "job 14 PENDING"}
    assert fake_slurm.calls() == [["squeue", "-h", "-j", "12,13,14", "-o", "%i %T"]]
    monkeypatch.setenv("PATH", fake_slurm.only("sbatch", "scancel"))
    assert SlurmExecutor().live(with_jobs(demo)) == {}
    assert len(fake_slurm.calls()) == 1


def test_describe_shows_the_live_state_where_squeue_answers_else_the_recorded_one(
    demo: LoadedPipeline, fake_slurm: FakeSlurm, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_slurm.answer("squeue", "12 RUNNING\n14 RUNNING\n")
    assert SlurmExecutor().describe(with_jobs(demo)) == {
        "sft": "12 RUNNING", "export": "13 COMPLETED", "deploy": "14 RUNNING", "eval": "14 RUNNING"}
    monkeypatch.setenv("PATH", fake_slurm.only("sbatch", "scancel"))
    assert SlurmExecutor().describe(with_jobs(demo)) == {
        "sft": "12 RUNNING", "export": "13 COMPLETED", "deploy": "14 PENDING", "eval": "14 PENDING"}
    assert len(fake_slurm.calls()) == 1


def test_cancel_cancels_only_our_jobs_by_id_and_name(demo: LoadedPipeline, fake_slurm: FakeSlurm) -> None:
    manifest = with_jobs(demo)
    manifest.stage("data").job = {"id": "11", "name": "swiftpipe-demo-data", "state": "RUNNING"}
    manifest.stage("export").job["name"] = "export"  # recorded, but not a name swiftpipe gives
    # 11 now names someone else's job; 13 has the recorded name without our prefix.
    fake_slurm.answer("squeue", "11 someone-elses-job\n12 swiftpipe-demo-sft\n13 export\n14 swiftpipe-demo-deploy\n")
    assert SlurmExecutor().cancel(demo, manifest) == [
        "cancelled job 12 (swiftpipe-demo-sft)", "cancelled job 14 (swiftpipe-demo-deploy)"]
    assert fake_slurm.calls() == [["squeue", "-h", "-j", "11,12,13,14", "-o", "%i %j"], ["scancel", "12", "14"]]
    states = {n: r.job["state"] for n, r in manifest.stages.items()}
    assert (states["data"], states["sft"], states["export"]) == ("RUNNING", "CANCELLED", "COMPLETED")


def test_cancel_marks_every_stage_of_a_cancelled_job(demo: LoadedPipeline, fake_slurm: FakeSlurm) -> None:
    manifest = with_jobs(demo)
    fake_slurm.answer("squeue", "14 swiftpipe-demo-deploy\n")
    assert SlurmExecutor().cancel(demo, manifest) == ["cancelled job 14 (swiftpipe-demo-deploy)"]
    assert (manifest.stages["deploy"].job["state"], manifest.stages["eval"].job["state"]) == (
        "CANCELLED", "CANCELLED")


def test_cancel_without_squeue_cancels_nothing(
    demo: LoadedPipeline, fake_slurm: FakeSlurm, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", fake_slurm.only("sbatch", "scancel"))
    assert SlurmExecutor().cancel(demo, with_jobs(demo)) == []
    assert fake_slurm.calls() == []


def test_run_part_runs_its_stages_with_the_servers_they_read_and_srun_only_for_several_nodes(
    demo: LoadedPipeline, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    made: list[dict[str, object]] = []

    class Recorder:
        def __init__(self, loaded: LoadedPipeline, manifest: Manifest, options: RunOptions,
                     owned: set[str], launchers: dict[str, Launcher]) -> None:
            made.append({"manifest": manifest, "owned": owned, "launchers": launchers})

        def execute(self, names: list[str], selection: Selection, resume_hint: str) -> None:
            made[-1].update(names=names, selection=selection, hint=resume_hint)

    monkeypatch.setattr(executor, "Runner", Recorder)
    SlurmExecutor().run_part(demo, ["sft"], "swiftpipe run p.yaml")
    SlurmExecutor().run_part(demo, ["eval"], "swiftpipe run p.yaml")
    sft, evaluation = made
    assert (sft["names"], sft["owned"], sft["selection"], sft["hint"]) == (
        ["sft"], {"sft"}, Selection(), "swiftpipe run p.yaml")
    launchers = sft["launchers"]
    assert isinstance(launchers, dict) and list(launchers) == ["sft"]
    assert isinstance(launchers["sft"], SrunLauncher) and launchers["sft"].nodes == 2
    assert (evaluation["names"], evaluation["owned"], evaluation["launchers"]) == (["deploy", "eval"], {"eval"}, {})


def test_a_requeued_job_finds_its_running_records_interrupted(
    demo: LoadedPipeline, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[Manifest] = []

    class Recorder:
        def __init__(self, loaded: LoadedPipeline, manifest: Manifest, *args: object, **kwargs: object) -> None:
            seen.append(manifest)

        def execute(self, *args: object) -> None:
            pass

    manifest = Manifest(str(demo.source), str(demo.workdir))
    manifest.stages["sft"] = StageRecord(kind="sft", status=Status.RUNNING)
    manifest.stages["data"] = StageRecord(kind="data", status=Status.RUNNING)  # not this job's
    save_manifest(manifest, demo.workdir)
    monkeypatch.setattr(executor, "Runner", Recorder)
    SlurmExecutor().run_part(demo, ["sft"], "hint")
    (found,) = seen
    assert (found.stages["sft"].status, found.stages["sft"].message) == (
        Status.INTERRUPTED, "interrupted: its SLURM job was requeued")
    assert found.stages["data"].status == Status.RUNNING
    assert capsys.readouterr().err == (
        "note: sft: interrupted: its SLURM job was requeued; its attempt is recorded as interrupted\n")


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
