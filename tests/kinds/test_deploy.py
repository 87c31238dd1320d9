"""The deploy stage: backend choice and argv, server kept or stopped, orphans, `swiftpipe stop`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swiftpipe.commands.run import run
from swiftpipe.commands.stop import stop
from swiftpipe.core import host, process
from swiftpipe.core.errors import UserError
from swiftpipe.engine.manifest import Manifest, load_manifest
from swiftpipe.engine.select import Selection
from swiftpipe.engine.status import Status
from swiftpipe.kinds.deploy import DeployStage
from swiftpipe.loading import load_pipeline
from swiftpipe.serving import backends, ports, serverrecord, swiftdeploy
from swiftpipe.serving.server import Server, ServerInfo
from tests.conftest import stage_context
from tests.kinds.servefakes import write_pipeline

GPU = backends.HostFacts(True, "nvidia-smi -L lists a GPU", "/venv/bin/python", "0.11.1")
NEW_LMDEPLOY = backends.HostFacts(True, "nvidia-smi -L lists a GPU", "/venv/bin/python", "0.18.0")


def manifest_of(pipeline: Path) -> Manifest:
    manifest = load_manifest(pipeline.parent / "runs" / "t")
    assert manifest is not None
    return manifest


def plan_argv(pipeline: Path, *overrides: str) -> list[str]:
    loaded = load_pipeline(pipeline, list(overrides))
    return [str(a) for a in DeployStage().plan(stage_context(loaded, "deploy")).argv]


def test_transformers_argv(tmp_path: Path) -> None:
    pipeline = write_pipeline(tmp_path, eval_stage=False)
    argv = plan_argv(pipeline, "stages.deploy.args.max_batch_size=4")
    port = argv[argv.index("--port") + 1]
    assert argv[1:] == ["deploy", "--model", str(tmp_path / "model"), "--infer_backend", "transformers",
                        "--host", "127.0.0.1", "--port", port, "--served_model_name", "tiny",
                        "--verbose", "false", "--max_batch_size", "4"]


@pytest.mark.parametrize("backend", ["lmdeploy", "vllm"])
def test_gpu_backend_argv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str) -> None:
    monkeypatch.setattr(backends, "probe", lambda env: GPU)
    argv = plan_argv(write_pipeline(tmp_path, eval_stage=False), f"stages.deploy.backend={backend}",
                     "stages.deploy.args.lmdeploy_session_len=8192")
    assert argv[argv.index("--infer_backend") + 1] == backend
    assert argv[-2:] == ["--lmdeploy_session_len", "8192"]


def test_auto_picks_lmdeploy_on_a_gpu_and_transformers_without(monkeypatch: pytest.MonkeyPatch) -> None:
    assert backends.resolve("auto", GPU) == ("lmdeploy", "auto: nvidia-smi -L lists a GPU and lmdeploy 0.11.1 "
                                                        "is installed")
    backend, why = backends.resolve("auto", NEW_LMDEPLOY)
    assert backend == "transformers" and "lmdeploy 0.18.0 is installed" in why
    cpu = backends.HostFacts(False, "nvidia-smi -L failed and /dev/nvidia0 does not exist", "py", None)
    assert backends.resolve("auto", cpu) == (
        "transformers", "auto: no CUDA GPU (nvidia-smi -L failed and /dev/nvidia0 does not exist)")


def test_lmdeploy_too_new_is_one_line_before_anything_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends, "probe", lambda env: NEW_LMDEPLOY)
    with pytest.raises(UserError) as err:
        plan_argv(write_pipeline(tmp_path, eval_stage=False), "stages.deploy.backend=lmdeploy")
    assert str(err.value) == (
        "stages.deploy.backend: lmdeploy 0.18.0 is installed in /venv/bin/python, but ms-swift 4.6 works only "
        "with lmdeploy <= 0.11.1 (0.12 removed lmdeploy.api.autoget_backend_config); "
        "pip install 'lmdeploy>=0.10,<=0.11.1', or point stages.deploy.venv at a serving venv built from "
        "requirements/serve-lmdeploy.txt"
    )


def test_lmdeploy_without_a_gpu_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host, "gpus", lambda: host.Gpus(0, "nvidia-smi -L failed"))
    with pytest.raises(UserError, match=r"^stages.deploy.backend: lmdeploy needs a CUDA GPU \(nvidia-smi -L failed\)"):
        plan_argv(write_pipeline(tmp_path, eval_stage=False), "stages.deploy.backend=lmdeploy")


def test_probe_reads_the_stage_pythons_lmdeploy_version(tmp_path: Path) -> None:
    pipeline = write_pipeline(tmp_path, eval_stage=False)
    env = process.child_env({"PATH": f"{tmp_path / 'servevenv' / 'bin'}:/usr/bin:/bin"})
    facts = backends.probe(env)
    assert facts.python == str(tmp_path / "servevenv" / "bin" / "python") and facts.lmdeploy is None
    assert pipeline.exists()


def test_until_deploy_keeps_the_server_and_stop_ends_it(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    pipeline = write_pipeline(tmp_path, eval_stage=False)
    assert run(pipeline, overrides=[], selection=Selection(until="deploy"), keep_serving=False) == 0
    info = ServerInfo.from_outputs(manifest_of(pipeline).stages["deploy"].outputs)
    assert info is not None and info.running and info.kept
    assert serverrecord.is_ours(info) and serverrecord.is_healthy(info)
    # up to date while it runs: the next run reuses it
    assert run(pipeline, overrides=[], selection=Selection(), keep_serving=False) == 0
    assert "deploy: skipped (up to date)" in capfd.readouterr().err
    assert stop(pipeline, overrides=[]) == 0
    assert "stopped the server at" in capfd.readouterr().err
    assert not manifest_of(pipeline).stages["deploy"].outputs["running"]
    assert process.group_members(info.pgid) == [] and not ports.listening("127.0.0.1", info.port)
    assert stop(pipeline, overrides=[]) == 0
    assert "no server is running for" in capfd.readouterr().err


def test_a_kept_server_on_the_port_is_named_with_how_to_stop_it(tmp_path: Path) -> None:
    pipeline = write_pipeline(tmp_path, eval_stage=False)
    assert run(pipeline, overrides=[], selection=Selection(until="deploy"), keep_serving=False) == 0
    try:
        with pytest.raises(UserError, match=r"stop it with: swiftpipe stop .*pipeline.yaml$"):
            run(pipeline, overrides=["stages.deploy.args.max_batch_size=2"], selection=Selection(),
                keep_serving=False)
    finally:
        stop(pipeline, overrides=[])


def test_a_server_left_by_a_dead_run_is_stopped_before_a_new_one(tmp_path: Path) -> None:
    pipeline = write_pipeline(tmp_path, eval_stage=False)
    loaded = load_pipeline(pipeline, [])
    manifest = Manifest(str(pipeline), str(loaded.workdir))
    plan = DeployStage().plan(stage_context(loaded, "deploy"))
    cfg = loaded.graph["deploy"].config
    spec = swiftdeploy.server_spec(plan.argv, process.child_env(plan.env), host=cfg.host, port=cfg.port,
                                   name="tiny", log=tmp_path / "orphan.log", ready_timeout=30, key=None,
                                   where="stages.deploy")
    orphan = Server(spec)
    info = orphan.start()  # started, recorded, never stopped: as if swiftpipe was killed
    record = manifest.stage("deploy")
    record.status, record.outputs = Status.RUNNING, info.to_outputs()
    serverrecord.reap_orphans(manifest, loaded.workdir)
    assert process.group_members(info.pgid) == []
    assert record.outputs["running"] is False
    orphan.proc = None  # already stopped through the record


def test_deploy_then_eval_stops_the_server_and_keeps_the_key_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "sk-pipeline-S3CRET-77"
    monkeypatch.setenv("SERVE_KEY", key)
    monkeypatch.setenv("FAKE_EVAL_LOG", str(tmp_path / "evalcalls.jsonl"))
    pipeline = write_pipeline(tmp_path, extra_deploy="    api_key_env: SERVE_KEY\n")
    assert run(pipeline, overrides=[], selection=Selection(), keep_serving=False) == 0
    manifest = manifest_of(pipeline)
    info = ServerInfo.from_outputs(manifest.stages["deploy"].outputs)
    assert info is not None and not info.running and not info.kept
    assert process.group_members(info.pgid) == [] and not ports.listening("127.0.0.1", info.port)
    call = json.loads((tmp_path / "evalcalls.jsonl").read_text().splitlines()[0])
    assert call["env_key"] and call["argv"][call["argv"].index("--api-key") + 1] == ""
    workdir = tmp_path / "runs" / "t"
    for path in [workdir / "manifest.json", *workdir.rglob("*.log"), *workdir.rglob("*.json"),
                 *workdir.rglob("*.html"), *workdir.rglob("*.md")]:
        assert key not in path.read_text(errors="replace"), path
    assert "api_key='***'" in (workdir / "logs" / "deploy.log").read_text()
