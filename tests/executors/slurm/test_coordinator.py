"""Planning and submitting jobs: which stages share a job, how large it is, what it depends on."""

from __future__ import annotations

import pytest

from swiftpipe.engine.decide import Decision
from swiftpipe.engine.manifest import Manifest, load_manifest
from swiftpipe.engine.pipeline import LoadedPipeline
from swiftpipe.engine.stage import StagePlan
from swiftpipe.executors.slurm import coordinator
from swiftpipe.executors.slurm.config import SlurmResources
from swiftpipe.executors.slurm.coordinator import plan_jobs, submit_all
from swiftpipe.executors.slurm.script import Job
from tests.executors.slurm.conftest import FakeSlurm

SFT = SlurmResources(gpus_per_node=8, mem="64G")


def decisions(loaded: LoadedPipeline, *skipped: str) -> list[Decision]:
    return [Decision(n, n not in skipped, "up to date" if n in skipped else "never ran", StagePlan([]))
            for n in loaded.graph.names]


def test_each_stage_is_a_job_and_a_server_shares_one_with_its_readers(demo: LoadedPipeline) -> None:
    assert plan_jobs(demo, decisions(demo)) == [
        Job("data", ("data",), SlurmResources(), 1),
        Job("sft", ("sft",), SFT, 2),
        Job("export", ("export",), SlurmResources(), 1),
        Job("deploy", ("deploy", "eval"), SlurmResources(mem="16G"), 1),
    ]


def test_up_to_date_stages_get_no_job_nor_does_a_server_nothing_running_reads(demo: LoadedPipeline) -> None:
    assert [j.stages for j in plan_jobs(demo, decisions(demo, "data", "eval"))] == [("sft",), ("export",)]


def test_a_job_is_as_large_as_its_largest_stage_and_takes_its_settings(demo: LoadedPipeline) -> None:
    assert coordinator.nodes(demo, "sft") == 2 and coordinator.nodes(demo, "data") == 1
    assert coordinator._job(demo, "data", ["data", "sft"]) == Job("data", ("data", "sft"), SFT, 2)
    # Of stages as large as each other, the first that says `slurm:` gives it.
    assert coordinator._job(demo, "export", ["export", "eval", "deploy"]) == Job(
        "export", ("export", "eval", "deploy"), SlurmResources(time="00:10:00"), 1)
    assert coordinator._job(demo, "data", ["data", "export"]).resources == SlurmResources()


def test_submit_all_chains_each_job_after_the_jobs_of_its_ancestors(
    demo: LoadedPipeline, fake_slurm: FakeSlurm, capsys: pytest.CaptureFixture[str]
) -> None:
    scripts = demo.workdir / "slurm"
    for i, name in enumerate(("data", "sft", "export", "deploy"), 101):
        fake_slurm.answer("sbatch", f"{i}\n", when=str(scripts / f"{name}.sbatch"))
    manifest = Manifest(str(demo.source), str(demo.workdir))
    ids = submit_all(demo, manifest, plan_jobs(demo, decisions(demo)))
    assert ids == {"data": "101", "sft": "102", "export": "103", "deploy": "104", "eval": "104"}
    after = ["--kill-on-invalid-dep=yes"]
    assert fake_slurm.calls() == [
        ["sbatch", "--parsable", str(scripts / "data.sbatch")],
        ["sbatch", "--parsable", "--dependency=afterok:101", *after, str(scripts / "sft.sbatch")],
        ["sbatch", "--parsable", "--dependency=afterok:101:102", *after, str(scripts / "export.sbatch")],
        ["sbatch", "--parsable", "--dependency=afterok:101:102:103", *after, str(scripts / "deploy.sbatch")],
    ]
    assert "#SBATCH --job-name=swiftpipe-demo-deploy\n" in (scripts / "deploy.sbatch").read_text()
    saved = load_manifest(demo.workdir)
    assert saved is not None
    assert saved.stages["eval"].job == {"id": "104", "name": "swiftpipe-demo-deploy",
                                        "script": str(scripts / "deploy.sbatch"), "state": "PENDING"}
    err = capsys.readouterr().err
    assert f"==> sft: submitted as job 102 after job 101 ({scripts / 'sft.sbatch'})\n" in err
    assert f"==> deploy, eval: submitted as job 104 after job 101, 102, 103 ({scripts / 'deploy.sbatch'})\n" in err
