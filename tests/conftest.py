from __future__ import annotations

import contextlib
import os
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ASSETS = Path(__file__).parent / "assets"
REPO = Path(__file__).parent.parent


@pytest.fixture
def write_pipeline(tmp_path: Path) -> Callable[[str], Path]:
    """Write a pipeline.yaml (dedented) into tmp_path and return its path."""

    def write(text: str, name: str = "pipeline.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip())
        return path

    return write


@pytest.fixture
def fake_venv(tmp_path: Path) -> Path:
    """A directory with bin/swift running tests/assets/fake_swift.py (use as a stage venv)."""
    venv = tmp_path / "fakevenv"
    (venv / "bin").mkdir(parents=True)
    script = venv / "bin" / "swift"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{ASSETS / "fake_swift.py"}" "$@"\n')
    script.chmod(0o755)
    return venv


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real tiny Qwen3 model, built once per test session (about 10 s)."""
    from swiftpipe.msswift.tinymodel import build_tiny_model, is_current

    prebuilt = REPO / "models" / "tiny-qwen3"
    if is_current(prebuilt):
        return prebuilt
    return build_tiny_model(tmp_path_factory.mktemp("model") / "tiny-qwen3")


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("SWIFTPIPE_"):
            monkeypatch.delenv(key)


def _leftovers(marker: str) -> list[tuple[int, str]]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmdline and state != "Z":
            found.append((int(proc.name), cmdline.strip()))
    return found


@pytest.fixture(scope="session", autouse=True)
def no_process_outlives_the_tests(tmp_path_factory: pytest.TempPathFactory) -> object:
    """Every server or child a test starts must be gone when the session ends."""
    marker = str(tmp_path_factory.getbasetemp())
    yield
    left = _leftovers(marker)
    for pid, _ in left:
        with contextlib.suppress(OSError):
            os.killpg(os.getpgid(pid), 9)
    assert not left, f"processes outlived the tests: {left}"


def stage_context(pipeline: Any, name: str, outputs: dict[str, dict[str, Any]] | None = None) -> Any:
    """A StageContext for stage `name` of a loaded pipeline; `outputs` are other stages' outputs."""
    from swiftpipe.engine.stage import StageContext

    known = outputs or {}
    return StageContext(pipeline, pipeline.graph[name], known.get)
