"""DeepSpeed for ms-swift: which config `--deepspeed` gets, on a GPU machine and on a CPU.

`--deepspeed zero2|zero3|...` picks a JSON shipped inside ms-swift (swift/config/). On a
machine without a GPU deepspeed runs with its CPU accelerator and gloo, but transformers fills
the shipped config's `"train_batch_size": "auto"` with a world size of 1 there, and the engine
refuses to start (`train_batch_size is not equal to micro_batch_per_gpu * gradient_acc_step *
world_size`). Without `train_batch_size` (deepspeed derives it) ZeRO-2 and ZeRO-3 train, so on
a CPU swiftpipe passes its own copy of the shipped config minus that key, written under the
stage folder when the stage runs.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swiftpipe.errors import UserError

NAMES = ("zero2", "zero3", "zero2_offload", "zero3_offload")
CHOICES = "zero2, zero3, zero2_offload, zero3_offload"
PIN = "deepspeed==0.19.8"

_VERSION_PROBE = (
    "import importlib.metadata as m, importlib.util as u\n"
    "try:\n    print(m.version('deepspeed') if u.find_spec('deepspeed') else '')\n"
    "except m.PackageNotFoundError:\n    print('')\n"
)


@dataclass(frozen=True)
class Choice:
    flag: str  # the value of --deepspeed
    note: str
    fingerprint: dict[str, Any]  # what the config is; `write_to` + `config` when swiftpipe writes it


def installed_version(python: str, env: dict[str, str]) -> str | None:
    """The deepspeed version importable by `python`, or None."""
    try:
        done = subprocess.run([python, "-c", _VERSION_PROBE], env=env, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (done.stdout.strip() or None) if done.returncode == 0 else None


def shipped_config(name: str) -> dict[str, Any]:
    """ms-swift's own `<name>.json`, read without importing swift."""
    import importlib.util

    spec = importlib.util.find_spec("swift")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        path = Path(folder) / "config" / f"{name}.json"
        if path.is_file():
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return data
    raise UserError(f"deepspeed {name}: ms-swift's config/{name}.json not found, "
                    "install ms-swift (pip install -e '.[train]')")


def cpu_config(name: str) -> dict[str, Any]:
    """The shipped config without `train_batch_size` (see the module docstring)."""
    config = shipped_config(name)
    config.pop("train_batch_size", None)
    return config


def choose(value: str, *, gpu: bool, world_size: int, version: str | None, python: str, where: str,
           pipeline_dir: Path, stage_dir: Path) -> Choice:
    """The config for `launch.deepspeed: value`; UserError when it cannot work here."""
    if version is None:
        raise UserError(f"{where}: deepspeed is not installed in {python}, "
                        f"pip install '{PIN}' there (or pip install -e '.[train]')")
    if value in NAMES:
        return _named(value, gpu=gpu, version=version, stage_dir=stage_dir, where=where)
    path = Path(value) if Path(value).is_absolute() else (pipeline_dir / value)
    config = read_json(path, where)
    if not gpu and world_size > 1 and config.get("train_batch_size") == "auto":
        raise UserError(f"{where}: {path}: train_batch_size 'auto' fails on a CPU (transformers fills it with "
                        "world size 1), remove train_batch_size from the file")
    from swiftpipe.engine.fingerprint import file_digest

    return Choice(str(path), f"deepspeed: {path} (deepspeed {version})",
                  {"path": str(path), "sha256": file_digest(path)})


def _named(name: str, *, gpu: bool, version: str, stage_dir: Path, where: str) -> Choice:
    if gpu:
        return Choice(name, f"deepspeed: {name} (ms-swift's config, deepspeed {version})", {"name": name})
    if name.endswith("_offload"):
        raise UserError(f"{where}: {name} offloads GPU memory to the CPU but this machine has no GPU, "
                        f"use {name.removesuffix('_offload')}")
    path = stage_dir / f"deepspeed-{name}.json"
    # Seen with ms-swift 4.6, deepspeed 0.19.8, LoRA: checkpoints.py skips such saves as incomplete.
    warning = ("; ZeRO-3 on a CPU sometimes saves LoRA weights as empty tensors, and such checkpoints "
               "are skipped" if name == "zero3" else "")
    return Choice(str(path), f"deepspeed: {name} on the CPU (deepspeed {version}): ms-swift's {name}.json "
                             f"without train_batch_size, written to {path}{warning}",
                  {"name": name, "write_to": str(path), "config": cpu_config(name)})


def read_json(path: Path, where: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{where}: {path}: no such file") from None
    except (OSError, ValueError) as exc:
        raise UserError(f"{where}: {path} does not parse as JSON ({exc}), fix the file or use zero2 or zero3") from None
    if not isinstance(data, dict):
        raise UserError(f"{where}: {path} is not a JSON object, fix the file or use zero2 or zero3")
    return data


def write_config(fingerprint: dict[str, Any]) -> None:
    """Write the config a CPU run uses (atomically), when the plan chose one of swiftpipe's own."""
    target = fingerprint.get("write_to")
    if not target:
        return
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        json.dump(fingerprint["config"], f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
