"""`executor: {type: ray, ...}`: its settings and what it refuses, with the exact messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from swiftpipe.core.errors import UserError
from swiftpipe.engine.lock import MARKER
from swiftpipe.executors import EXECUTORS
from swiftpipe.executors.ray.config import RayResources, RaySettings
from swiftpipe.executors.ray.executor import check_shared
from swiftpipe.loading import load_pipeline
from tests.executors.ray.cluster import need_ray
from tests.executors.ray.test_plan import DEMO, demo


def test_ray_declares_its_settings_and_stage_key() -> None:
    ray = EXECUTORS.get("ray")
    assert (ray.name, ray.stage_key, ray.settings, ray.resources) == ("ray", "ray", RaySettings, RayResources)


def test_the_settings_default_to_the_cluster_found_here(tmp_path: Path) -> None:
    loaded = demo(tmp_path)
    assert loaded.executor == RaySettings(address="auto", runtime_env={})


def test_an_address_ray_cannot_read_is_refused(tmp_path: Path) -> None:
    demo(tmp_path)
    with pytest.raises(UserError) as err:
        load_pipeline(tmp_path / "pipeline.yaml", ["executor.address=head:8265"], env={})
    assert str(err.value).endswith(
        "executor.address: expected auto, http://HOST:8265 or ray://HOST:10001, got 'head:8265'")


def test_a_multi_node_launch_naming_its_own_rendezvous_is_refused(tmp_path: Path) -> None:
    demo(tmp_path)
    with pytest.raises(UserError) as err:
        load_pipeline(tmp_path / "pipeline.yaml", ["stages.sft.launch.master_addr=10.0.0.1"], env={})
    assert str(err.value).endswith("stages.sft.launch.master_addr: executor ray places the nodes and picks "
                                   "node 0's address itself; remove it")


def test_a_job_on_a_node_without_the_workdir_says_it_needs_shared_storage(tmp_path: Path) -> None:
    import socket

    loaded = demo(tmp_path, DEMO)
    with pytest.raises(UserError) as err:
        check_shared(loaded)
    assert str(err.value) == (
        f"{loaded.workdir}: not found on Ray node {socket.gethostname()}; executor ray needs the workdir on "
        "storage every node shares (NFS, a mounted volume); set workdir: to such a path")
    loaded.workdir.mkdir(parents=True)
    (loaded.workdir / MARKER).write_text("")
    check_shared(loaded)


def test_stop_and_status_ask_no_cluster_when_nothing_went_to_ray(tmp_path: Path) -> None:
    from swiftpipe.engine.manifest import Manifest
    from swiftpipe.executors.ray.executor import RayExecutor

    loaded = demo(tmp_path, DEMO.replace("executor: {type: ray}", "executor: {type: ray, address: http://127.0.0.1:9}"))
    manifest = Manifest(str(loaded.source), str(loaded.workdir))
    manifest.stage("data")
    assert (RayExecutor().cancel(loaded, manifest), RayExecutor().describe(manifest), RayExecutor().live(manifest)) == (
        [], {}, {})


def test_an_address_where_no_cluster_answers_is_one_line_saying_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    from swiftpipe.executors.ray.client import RayJobs

    need_ray()
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.delenv("RAY_API_SERVER_ADDRESS", raising=False)
    with pytest.raises(UserError) as err:
        RayJobs("http://127.0.0.1:9")
    assert str(err.value) == (
        "executor.address: cannot reach Ray's job API at http://127.0.0.1:9 (Failed to connect to Ray at address: "
        "http://127.0.0.1:9.); start a cluster (ray start --head) or set executor.address")
