"""Facts about this machine that several layers ask for: a free port, and its NVIDIA GPUs.

The GPU probe runs `nvidia-smi -L` once per process (plan and run ask for every stage; the
answer does not change within one run). Tests that fake a GPU clear it with `gpus.cache_clear()`.
"""

from __future__ import annotations

import functools
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody uses right now, chosen by the kernel."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
    return port


@dataclass(frozen=True)
class Gpus:
    """How many CUDA GPUs this machine shows, and how that was found out (for plan notes)."""

    count: int
    why: str


@functools.cache
def gpus() -> Gpus:
    """`nvidia-smi -L`'s GPU lines; with no usable nvidia-smi, /dev/nvidia0 counts as one GPU."""
    smi = shutil.which("nvidia-smi")
    if smi is not None:
        try:
            done = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=30)
            found = [line for line in done.stdout.splitlines() if line.startswith("GPU ")]
            if done.returncode == 0 and found:
                return Gpus(len(found), f"nvidia-smi -L lists {len(found)}")
        except (OSError, subprocess.TimeoutExpired):
            pass
    if Path("/dev/nvidia0").exists():
        return Gpus(1, "/dev/nvidia0 exists")
    return Gpus(0, "nvidia-smi -L lists none and /dev/nvidia0 does not exist")
