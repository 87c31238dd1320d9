"""The calls swiftpipe makes to SLURM, against fake tools that record them and print canned output."""

from __future__ import annotations

import pytest

from swiftpipe.core.errors import UserError
from swiftpipe.executors.slurm import jobs
from tests.executors.slurm.conftest import FakeSlurm


def test_submit_without_dependencies(fake_slurm: FakeSlurm) -> None:
    fake_slurm.answer("sbatch", "4711\n")
    assert jobs.submit("/w/slurm/sft.sbatch") == "4711"
    assert fake_slurm.calls() == [["sbatch", "--parsable", "/w/slurm/sft.sbatch"]]


def test_submit_chains_afterok_and_drops_the_cluster_name(fake_slurm: FakeSlurm) -> None:
    fake_slurm.answer("sbatch", "4713;cluster-a\n")
    assert jobs.submit("/w/slurm/export.sbatch", ["4711", "4712"]) == "4713"
    assert fake_slurm.calls() == [["sbatch", "--parsable", "--dependency=afterok:4711:4712",
                                   "--kill-on-invalid-dep=yes", "/w/slurm/export.sbatch"]]


def test_a_refused_submission_says_what_sbatch_said(fake_slurm: FakeSlurm) -> None:
    fake_slurm.answer("sbatch", "", stderr="sbatch: error: invalid partition specified: gpu\n", rc=1)
    with pytest.raises(UserError) as info:
        jobs.submit("/w/slurm/sft.sbatch")
    assert str(info.value) == "sbatch /w/slurm/sft.sbatch: sbatch: error: invalid partition specified: gpu"


def test_active_keeps_only_the_jobs_asked_for(fake_slurm: FakeSlurm) -> None:
    fake_slurm.answer("squeue", "12 RUNNING\n13 PENDING\n99 RUNNING\nnot a job line\n")
    assert jobs.active(["12", "13", ""]) == {"12": "RUNNING", "13": "PENDING"}
    assert fake_slurm.calls() == [["squeue", "-h", "-j", "12,13", "-o", "%i %T"]]


def test_nothing_asked_calls_nothing(fake_slurm: FakeSlurm) -> None:
    assert jobs.active([""]) == {} and jobs.names([]) == {}
    jobs.cancel(["", ""])
    assert fake_slurm.calls() == []


def test_names_reads_job_names_with_spaces_kept(fake_slurm: FakeSlurm) -> None:
    fake_slurm.answer("squeue", "12 swiftpipe-demo-sft\n13 someone's job\n14\n")
    assert jobs.names(["12", "13", "14"]) == {"12": "swiftpipe-demo-sft", "13": "someone's job"}
    assert fake_slurm.calls() == [["squeue", "-h", "-j", "12,13,14", "-o", "%i %j"]]


def test_cancel_names_each_job(fake_slurm: FakeSlurm) -> None:
    jobs.cancel(["12", "", "14"])
    assert fake_slurm.calls() == [["scancel", "12", "14"]]


def test_node_address_reads_nodeaddr_and_falls_back_to_the_name(fake_slurm: FakeSlurm) -> None:
    fake_slurm.answer("scontrol", "NodeName=n1 Arch=x86_64 NodeAddr=10.0.0.5 NodeHostName=h1\n", when="n1")
    fake_slurm.answer("scontrol", "NodeName=n2 Arch=x86_64\n")
    assert jobs.node_address("n1") == "10.0.0.5"
    assert jobs.node_address("n2") == "n2"
    assert fake_slurm.calls() == [["scontrol", "-o", "show", "node", "n1"], ["scontrol", "-o", "show", "node", "n2"]]


def test_first_node_expands_the_nodelist(fake_slurm: FakeSlurm) -> None:
    fake_slurm.answer("scontrol", "n1\nn2\n", when="n[1-2]")
    assert jobs.first_node("n[1-2]") == "n1"
    assert jobs.first_node("n[3-4]") == "n[3-4]"  # scontrol printed nothing
    assert fake_slurm.calls() == [["scontrol", "show", "hostnames", "n[1-2]"],
                                  ["scontrol", "show", "hostnames", "n[3-4]"]]


def test_check_tools_names_what_is_missing(fake_slurm: FakeSlurm, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", fake_slurm.only("sbatch", "squeue"))
    with pytest.raises(UserError) as info:
        jobs.check_tools("executor")
    assert str(info.value) == ("executor: executor slurm needs scancel, scontrol on PATH; run where SLURM is "
                               "installed or set executor.type: local")
    monkeypatch.setenv("PATH", fake_slurm.only("scancel", "scontrol"))
    jobs.check_tools("executor")
