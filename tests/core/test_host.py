"""A free port, and the GPU probe with a fake nvidia-smi on PATH."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from swiftpipe.core import host
from swiftpipe.core.host import Gpus


def test_free_port_can_be_bound() -> None:
    port = host.free_port()
    assert 1024 <= port <= 65535
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))
        assert sock.getsockname()[1] == port


@pytest.fixture
def fake_smi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """bin/nvidia-smi first on PATH; write its output to the returned file (and its exit code to .rc)."""
    (tmp_path / "bin").mkdir()
    smi = tmp_path / "bin" / "nvidia-smi"
    out = tmp_path / "smi.out"
    smi.write_text(f"#!{sys.executable}\nimport sys, pathlib\nout = pathlib.Path({str(out)!r})\n"
                   "sys.stdout.write(out.read_text())\nrc = pathlib.Path(f'{out}.rc')\n"
                   "sys.exit(int(rc.read_text()) if rc.exists() else 0)\n")
    smi.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    host.gpus.cache_clear()
    yield out
    host.gpus.cache_clear()


def test_gpus_counts_the_gpu_lines_of_nvidia_smi(fake_smi: Path) -> None:
    fake_smi.write_text("GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1)\n  MIG 1g.10gb Device 0\n"
                        "GPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-2)\n")
    assert host.gpus() == Gpus(2, "nvidia-smi -L lists 2")


def test_gpus_is_asked_once_per_process(fake_smi: Path) -> None:
    fake_smi.write_text("GPU 0: NVIDIA H100 (UUID: GPU-1)\n")
    assert host.gpus().count == 1
    fake_smi.write_text("GPU 0: a\nGPU 1: b\nGPU 2: c\n")
    assert host.gpus().count == 1


def test_a_failing_nvidia_smi_falls_back_to_the_device_file(fake_smi: Path) -> None:
    fake_smi.write_text("GPU 0: NVIDIA H100 (UUID: GPU-1)\n")
    Path(f"{fake_smi}.rc").write_text("9")
    want = (Gpus(1, "/dev/nvidia0 exists") if Path("/dev/nvidia0").exists()
            else Gpus(0, "nvidia-smi -L lists none and /dev/nvidia0 does not exist"))
    assert host.gpus() == want
