"""DeepSpeed for ms-swift: which config `--deepspeed` gets, on a GPU machine and on a CPU.

`--deepspeed zero2|zero3|...` picks a JSON shipped inside ms-swift (swift/config/); a path
passes the user's own. On a machine without a GPU deepspeed runs with its CPU accelerator and
gloo, where accelerate records a world of one process on every rank (plugins/deepspeed_cpu_world.py
says why and how to reproduce it): `train_batch_size: auto` filled for one process, evaluation's
gather failing, every rank saving as the main one (ZeRO-3 LoRA weights saved as empty tensors).
So on a CPU swiftpipe also passes that plugin as `--external_plugins`, copied under the stage
folder when the stage runs (the run's args.json names it, and export reads it back from there).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swiftpipe.core.errors import UserError
from swiftpipe.msswift import plugins

NAMES = ("zero2", "zero3", "zero2_offload", "zero3_offload")
CHOICES = "zero2, zero3, zero2_offload, zero3_offload"
PIN = "deepspeed==0.19.8"
PLUGIN = plugins.DEEPSPEED_CPU_WORLD

_VERSION_PROBE = (
    "import importlib.metadata as m, importlib.util as u\n"
    "try:\n    print(m.version('deepspeed') if u.find_spec('deepspeed') else '')\n"
    "except m.PackageNotFoundError:\n    print('')\n"
)


@dataclass(frozen=True)
class Choice:
    flag: str  # the value of --deepspeed
    note: str
    fingerprint: dict[str, Any]  # what the config is; `write_to` names the plugin copy a CPU run gets
    plugin: str | None = None  # the --external_plugins file of a CPU run


def installed_version(python: str, env: dict[str, str]) -> str | None:
    """The deepspeed version importable by `python`, or None."""
    try:
        done = subprocess.run([python, "-c", _VERSION_PROBE], env=env, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (done.stdout.strip() or None) if done.returncode == 0 else None


def choose(value: str, *, gpu: bool, version: str | None, python: str, where: str, pipeline_dir: Path,
           stage_dir: Path) -> Choice:
    """The config for `launch.deepspeed: value`; UserError when it cannot work here."""
    if version is None:
        raise UserError(f"{where}: deepspeed is not installed in {python}, "
                        f"pip install '{PIN}' there (or pip install -e '.[train]')")
    if value in NAMES:
        if gpu:
            return Choice(value, f"deepspeed: {value} (ms-swift's config, deepspeed {version})", {"name": value})
        if value.endswith("_offload"):
            raise UserError(f"{where}: {value} offloads GPU memory to the CPU but this machine has no GPU, "
                            f"use {value.removesuffix('_offload')}")
        return _on_cpu(value, f"{value} (ms-swift's config)", {"name": value}, version, stage_dir)
    path = Path(value) if Path(value).is_absolute() else (pipeline_dir / value)
    read_json(path, where)
    from swiftpipe.engine.fingerprint import file_digest

    fingerprint = {"path": str(path), "sha256": file_digest(path)}
    if gpu:
        return Choice(str(path), f"deepspeed: {path} (deepspeed {version})", fingerprint)
    return _on_cpu(str(path), str(path), fingerprint, version, stage_dir)


def _on_cpu(flag: str, what: str, fingerprint: dict[str, Any], version: str, stage_dir: Path) -> Choice:
    """A CPU run: the config as chosen, plus the plugin that gives accelerate the real world size."""
    copy = plugins.planned(PLUGIN, stage_dir)
    note = (f"deepspeed: {what} on the CPU (deepspeed {version}), with --external_plugins {copy['write_to']}: "
            "accelerate's world size under DeepSpeed without a GPU")
    return Choice(flag, note, {**fingerprint, **copy}, copy["write_to"])


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
    """Copy the CPU plugin where the plan said (atomically), when it chose one; else do nothing."""
    plugins.write(fingerprint)
