"""Choosing swift deploy's backend: what `auto` picks, and the exact message for one that cannot work."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from swiftpipe.core import host
from swiftpipe.core.errors import UserError
from swiftpipe.serving import backends
from swiftpipe.serving.backends import HostFacts

GPU_WHY = "nvidia-smi -L lists 1"
CPU_WHY = "nvidia-smi -L lists none and /dev/nvidia0 does not exist"
PY = "/venv/bin/python"


def facts(gpu: bool = True, lmdeploy: str | None = "0.11.1") -> HostFacts:
    return HostFacts(gpu, GPU_WHY if gpu else CPU_WHY, PY, lmdeploy)


def script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


@pytest.mark.parametrize(("version", "parsed"), [
    ("0.11.1", (0, 11, 1)), ("0.12.0rc1", (0, 12, 0)), ("0.10", (0, 10)), ("1", (1,)),
    ("0.11.1.post2", (0, 11, 1)), ("dev", ()), ("", ()),
])
def test_version_tuple(version: str, parsed: tuple[int, ...]) -> None:
    assert backends.version_tuple(version) == parsed


def too_new(version: str) -> str:
    return (f"lmdeploy {version} is installed in {PY}, but ms-swift 4.6 works only with lmdeploy <= 0.11.1 "
            "(0.12 removed lmdeploy.api.autoget_backend_config)")


@pytest.mark.parametrize("version", ["0.10.0", "0.11", "0.11.1", "0.11.1rc2"])
def test_lmdeploy_up_to_0_11_1_works(version: str) -> None:
    assert backends.lmdeploy_problem(facts(lmdeploy=version)) is None


@pytest.mark.parametrize("version", ["0.11.2", "0.12.0", "0.12.0rc1", "1.0"])
def test_lmdeploy_after_0_11_1_is_refused(version: str) -> None:
    assert backends.lmdeploy_problem(facts(lmdeploy=version)) == too_new(version)


def test_lmdeploy_problem_messages() -> None:
    assert backends.lmdeploy_problem(facts(lmdeploy=None)) == f"lmdeploy is not installed in {PY}"
    assert backends.lmdeploy_problem(facts(lmdeploy="0.12.0")) == too_new("0.12.0")


def test_auto_picks_transformers_without_a_gpu() -> None:
    assert backends.resolve("auto", facts(gpu=False)) == ("transformers", f"auto: no CUDA GPU ({CPU_WHY})")


def test_auto_picks_transformers_when_lmdeploy_cannot_serve() -> None:
    assert backends.resolve("auto", facts(lmdeploy=None)) == (
        "transformers", f"auto: GPU found but lmdeploy is not installed in {PY}")
    assert backends.resolve("auto", facts(lmdeploy="0.12.0")) == (
        "transformers", f"auto: GPU found but {too_new('0.12.0')}")


def test_auto_picks_a_working_lmdeploy_on_a_gpu() -> None:
    assert backends.resolve("auto", facts()) == ("lmdeploy", f"auto: {GPU_WHY} and lmdeploy 0.11.1 is installed")


@pytest.mark.parametrize("backend", ["lmdeploy", "vllm"])
def test_a_gpu_backend_without_a_gpu_is_refused(backend: str) -> None:
    with pytest.raises(UserError) as err:
        backends.resolve(backend, facts(gpu=False))
    assert str(err.value) == (f"stages.deploy.backend: {backend} needs a CUDA GPU ({CPU_WHY}); "
                              "use backend: transformers")


@pytest.mark.parametrize(("version", "problem"), [
    (None, f"lmdeploy is not installed in {PY}"), ("0.12.0", too_new("0.12.0")),
])
def test_a_configured_lmdeploy_that_cannot_serve_names_the_pin(version: str | None, problem: str) -> None:
    with pytest.raises(UserError) as err:
        backends.resolve("lmdeploy", facts(lmdeploy=version))
    assert str(err.value) == (
        f"stages.deploy.backend: {problem}; pip install 'lmdeploy>=0.10,<=0.11.1', or point stages.deploy.venv "
        "at a serving venv built from requirements/serve-lmdeploy.txt")


@pytest.mark.parametrize(("backend", "fact"), [
    ("lmdeploy", facts()), ("vllm", facts(lmdeploy=None)), ("transformers", facts(gpu=False)),
    ("transformers", facts()), ("pt", facts(gpu=False)),
])
def test_a_configured_backend_that_can_work_is_kept(backend: str, fact: HostFacts) -> None:
    assert backends.resolve(backend, fact) == (backend, "configured")


def test_stage_python_is_the_python_beside_swift(tmp_path: Path) -> None:
    venv_bin = tmp_path / "venv" / "bin"
    script(venv_bin / "swift", "exit 0")
    script(venv_bin / "python", "exit 0")
    other = tmp_path / "other"
    script(other / "python3", "exit 0")
    assert backends.stage_python({"PATH": f"{venv_bin}{os.pathsep}{other}"}) == str(venv_bin / "python")


def test_stage_python_without_a_python_beside_swift_is_python3_on_path(tmp_path: Path) -> None:
    script(tmp_path / "tools" / "swift", "exit 0")
    script(tmp_path / "py" / "python3", "exit 0")
    env = {"PATH": f"{tmp_path / 'tools'}{os.pathsep}{tmp_path / 'py'}"}
    assert backends.stage_python(env) == str(tmp_path / "py" / "python3")
    assert backends.stage_python({"PATH": str(tmp_path / "empty")}) == "python3"


def test_lmdeploy_version_asks_the_stage_python(tmp_path: Path) -> None:
    # Each interpreter path is new: the answer is cached per (python, env).
    answers = script(tmp_path / "a" / "python", "echo 0.11.1")
    nothing = script(tmp_path / "b" / "python", "echo")
    broken = script(tmp_path / "c" / "python", "echo 0.11.1; exit 1")
    env = (("PATH", os.defpath),)
    assert backends.lmdeploy_version(str(answers), env) == "0.11.1"
    assert backends.lmdeploy_version(str(nothing), env) is None
    assert backends.lmdeploy_version(str(broken), env) is None
    assert backends.lmdeploy_version(str(tmp_path / "missing" / "python"), env) is None


def test_lmdeploy_version_runs_the_probe_with_the_stage_env(tmp_path: Path) -> None:
    python = script(tmp_path / "bin" / "python", 'echo "$LMDEPLOY_FAKE"')
    assert backends.lmdeploy_version(str(python), (("LMDEPLOY_FAKE", "0.10.3"),)) == "0.10.3"
    # the probe itself is real Python: an interpreter without lmdeploy answers None
    assert backends.lmdeploy_version(sys.executable, (("PATH", os.defpath),)) is None


def test_probe_combines_the_gpu_and_the_stage_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host, "gpus", lambda: host.Gpus(0, CPU_WHY))
    venv_bin = tmp_path / "venv" / "bin"
    script(venv_bin / "swift", "exit 0")
    script(venv_bin / "python", "echo 0.11.0")
    found = backends.probe({"PATH": str(venv_bin)})
    assert found == HostFacts(False, CPU_WHY, str(venv_bin / "python"), "0.11.0")
    assert backends.resolve("auto", found) == ("transformers", f"auto: no CUDA GPU ({CPU_WHY})")
