"""One swift per node through srun: the wrapped command and the rendezvous it is given."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from swiftpipe.executors.slurm import launcher
from swiftpipe.executors.slurm.launcher import NODE_SCRIPT, SrunLauncher
from tests.executors.slurm.conftest import FakeSlurm

SWIFT = ["swift", "sft", "--max_steps", "5"]
SRUN = ["srun", "--nodes=2", "--ntasks-per-node=1", "--kill-on-bad-exit=1", "bash", "-c", NODE_SCRIPT,
        "swiftpipe-node", *SWIFT]


@pytest.fixture(autouse=True)
def fixed_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(launcher, "free_port", lambda: 29555)


def test_the_first_node_of_the_job_is_the_master(fake_slurm: FakeSlurm, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLURM_JOB_NODELIST", "gpu[07-08]")
    fake_slurm.answer("scontrol", "gpu07\ngpu08\n", when="hostnames")
    fake_slurm.answer("scontrol", "NodeName=gpu07 NodeAddr=10.1.0.7 NodeHostName=gpu07\n", when="node")
    argv, env = SrunLauncher(2).command(SWIFT, {"NPROC_PER_NODE": "4", "HF_HUB_OFFLINE": "1"})
    assert argv == SRUN
    assert env == {"NPROC_PER_NODE": "4", "HF_HUB_OFFLINE": "1", "NNODES": "2", "MASTER_ADDR": "10.1.0.7",
                   "MASTER_PORT": "29555"}
    assert fake_slurm.calls() == [["scontrol", "show", "hostnames", "gpu[07-08]"],
                                  ["scontrol", "-o", "show", "node", "gpu07"]]


def test_the_stage_env_nodelist_wins_over_this_process(fake_slurm: FakeSlurm, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLURM_JOB_NODELIST", "other[1-2]")
    fake_slurm.answer("scontrol", "n5\n", when="hostnames")
    fake_slurm.answer("scontrol", "NodeName=n5 NodeAddr=10.0.0.5\n", when="node")
    _, env = SrunLauncher(2).command(SWIFT, {"SLURM_JOB_NODELIST": "n[5-6]"})
    assert env["MASTER_ADDR"] == "10.0.0.5"
    assert fake_slurm.calls()[0] == ["scontrol", "show", "hostnames", "n[5-6]"]


def test_without_a_nodelist_the_master_is_this_machine(fake_slurm: FakeSlurm) -> None:
    argv, env = SrunLauncher(3).command(SWIFT, {})
    assert argv[:2] == ["srun", "--nodes=3"]
    assert env == {"NNODES": "3", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29555", "NPROC_PER_NODE": "1"}
    assert fake_slurm.calls() == []


def test_run_hands_the_wrapped_command_to_srun_and_returns_its_exit_code(
    fake_slurm: FakeSlurm, tmp_path: Path
) -> None:
    fake_slurm.answer("srun", "node output\n", rc=3)
    rc = SrunLauncher(2).run(SWIFT, dict(os.environ), tmp_path / "sft.log", echo=False)
    assert rc == 3
    assert fake_slurm.calls() == [SRUN]
    assert (tmp_path / "sft.log").read_text().endswith("node output\n")
