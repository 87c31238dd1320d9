"""Choose and check the inference backend of `swift deploy`.

`auto` picks lmdeploy when there is a CUDA GPU and a *working* lmdeploy in the
stage's Python, else transformers (the only backend that runs on a CPU).
ms-swift 4.6 imports `lmdeploy.api.autoget_backend_config`, which lmdeploy 0.12
removed, so `swift deploy --infer_backend lmdeploy` fails at import with
lmdeploy >= 0.12; swiftpipe says so before starting anything.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from swiftpipe.core import host
from swiftpipe.core.errors import UserError

LMDEPLOY_MAX = (0, 11, 1)
LMDEPLOY_PIN = "pip install 'lmdeploy>=0.10,<=0.11.1'"
GPU_BACKENDS = ("lmdeploy", "vllm")

_VERSION_PROBE = (
    "import importlib.metadata as m\n"
    "try:\n    print(m.version('lmdeploy'))\n"
    "except m.PackageNotFoundError:\n    print('')\n"
)


@dataclass(frozen=True)
class HostFacts:
    """What the backend choice depends on."""

    gpu: bool
    gpu_why: str  # how the GPU was (not) found, for messages
    python: str  # the stage's interpreter
    lmdeploy: str | None  # installed version in that interpreter


def version_tuple(version: str) -> tuple[int, ...]:
    """`0.11.1` -> (0, 11, 1); `0.12.0rc1` -> (0, 12, 0); pre-release tags are ignored."""
    match = re.match(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?", version)
    return tuple(int(g) for g in match.groups() if g is not None) if match else ()


def stage_python(env: Mapping[str, str]) -> str:
    """The Python that runs `swift` for this stage (a stage venv comes first on PATH)."""
    swift = shutil.which("swift", path=env.get("PATH", os.defpath))
    if swift is not None and (Path(swift).parent / "python").exists():
        return str(Path(swift).parent / "python")
    return shutil.which("python3", path=env.get("PATH", os.defpath)) or "python3"


def probe(env: Mapping[str, str]) -> HostFacts:
    """Look for a CUDA GPU and ask the stage's Python which lmdeploy it has."""
    found = host.gpus()
    gpu, why = found.count > 0, found.why
    python = stage_python(env)
    return HostFacts(gpu, why, python, lmdeploy_version(python, tuple(sorted(env.items()))))


@functools.cache
def lmdeploy_version(python: str, env: tuple[tuple[str, str], ...]) -> str | None:
    """The lmdeploy `python` imports with `env`, or None; asked once per run (each deploy stage's
    plan asks, and the answer cannot change while swiftpipe runs)."""
    try:
        done = subprocess.run([python, "-c", _VERSION_PROBE], env=dict(env), capture_output=True, text=True,
                              timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (done.stdout.strip() or None) if done.returncode == 0 else None



def lmdeploy_problem(facts: HostFacts) -> str | None:
    """Why lmdeploy cannot serve with ms-swift 4.6 here, or None when it can."""
    if facts.lmdeploy is None:
        return f"lmdeploy is not installed in {facts.python}"
    if version_tuple(facts.lmdeploy) > LMDEPLOY_MAX:
        return (
            f"lmdeploy {facts.lmdeploy} is installed in {facts.python}, but ms-swift 4.6 works only with "
            "lmdeploy <= 0.11.1 (0.12 removed lmdeploy.api.autoget_backend_config)"
        )
    return None


def resolve(requested: str, facts: HostFacts) -> tuple[str, str]:
    """The backend to use and why; raise UserError for a backend that cannot work here."""
    where = "stages.deploy.backend"
    if requested == "auto":
        if not facts.gpu:
            return "transformers", f"auto: no CUDA GPU ({facts.gpu_why})"
        problem = lmdeploy_problem(facts)
        if problem:
            return "transformers", f"auto: GPU found but {problem}"
        return "lmdeploy", f"auto: {facts.gpu_why} and lmdeploy {facts.lmdeploy} is installed"
    if requested in GPU_BACKENDS and not facts.gpu:
        raise UserError(f"{where}: {requested} needs a CUDA GPU ({facts.gpu_why}); use backend: transformers")
    if requested == "lmdeploy":
        problem = lmdeploy_problem(facts)
        if problem:
            raise UserError(
                f"{where}: {problem}; {LMDEPLOY_PIN}, or point stages.deploy.venv at a serving "
                "venv built from requirements/serve-lmdeploy.txt"
            )
    return requested, "configured"
