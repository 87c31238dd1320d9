"""`launch:` of a training stage: how many processes, on which machines and GPUs, DeepSpeed or not.

ms-swift launches itself: `swift pt|sft|rlhf` re-exec under torch.distributed.run when
NPROC_PER_NODE or NNODES is set. swiftpipe turns `launch:` into those variables and
`--deepspeed`, checks them against this machine before anything starts (a probe of the GPUs,
the CPU cores and the stage's Python), and states the world size and effective batch. The
rendezvous port and address, the node rank and the GPU ids do not change what is trained, so
they stay out of the fingerprint; the world size and the DeepSpeed config are in it.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swiftpipe.config.schema import ArgValue
from swiftpipe.core import host
from swiftpipe.core.errors import UserError
from swiftpipe.engine.kind import Problem
from swiftpipe.engine.launch import LaunchConfig
from swiftpipe.msswift import deepspeed as ds
from swiftpipe.msswift import plugins

# swift's own variables; a stage's env: must not set them beside launch:.
LAUNCH_ENV = {
    "NPROC_PER_NODE": "nproc_per_node", "NNODES": "nnodes", "NODE_RANK": "node_rank",
    "MASTER_ADDR": "master_addr", "MASTER_PORT": "master_port", "CUDA_VISIBLE_DEVICES": "devices",
}


@dataclass(frozen=True)
class Host:
    """What the launch checks depend on; `python` is the stage's interpreter."""

    gpus: int
    gpu_why: str
    cpus: int
    python: str
    deepspeed: str | None  # its version in that interpreter, None when not installed


@dataclass
class Launch:
    """What `launch:` adds to a stage's plan."""

    env: dict[str, str] = field(default_factory=dict)
    argv: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    inputs: dict[str, Any] = field(default_factory=dict)  # fingerprinted; empty for one process
    world_size: int = 1


def device_ids(devices: int | str | None) -> list[int] | None:
    """`0,1,2,3` (or a single 0) -> [0, 1, 2, 3]; None when not set; ValueError when malformed."""
    if devices is None:
        return None
    return [int(part) for part in str(devices).replace(" ", "").split(",")]


def check(cfg: LaunchConfig) -> list[Problem]:
    """The problems visible in the config alone (keys relative to the stage)."""
    problems: list[Problem] = []
    nproc = cfg.nproc_per_node
    if nproc != "auto" and (not isinstance(nproc, int) or nproc < 1):
        problems.append(Problem("launch.nproc_per_node", f"expected a number of processes or auto, got {nproc!r}"))
    if cfg.nnodes < 1:
        problems.append(Problem("launch.nnodes", f"expected 1 or more machines, got {cfg.nnodes}"))
    elif not 0 <= cfg.node_rank < cfg.nnodes:
        problems.append(Problem("launch.node_rank",
                                f"expected 0 to {cfg.nnodes - 1} (nnodes - 1), got {cfg.node_rank}"))
    port = cfg.master_port
    if port != "auto" and (not isinstance(port, int) or not 1 <= port <= 65535):
        problems.append(Problem("launch.master_port", f"expected a port 1-65535 or auto, got {port!r}"))
    try:
        device_ids(cfg.devices)
    except ValueError:
        problems.append(Problem("launch.devices", f"expected GPU ids like 0,1,2,3, got {cfg.devices!r}"))
    if cfg.deepspeed is not None and cfg.deepspeed not in ds.NAMES and not cfg.deepspeed.endswith(".json"):
        problems.append(Problem("launch.deepspeed", f"expected {ds.CHOICES} or a .json file, got {cfg.deepspeed!r}"))
    return problems


def check_env(env: dict[str, str]) -> list[Problem]:
    return [Problem(f"env.{key}", f"set by swiftpipe from launch:; use launch.{LAUNCH_ENV[key]}")
            for key in env if key in LAUNCH_ENV]


def is_default(cfg: LaunchConfig) -> bool:
    return cfg == LaunchConfig()


def probe(env: dict[str, str], cfg: LaunchConfig) -> Host:
    """Count the GPUs and CPU cores; ask the stage's Python for deepspeed only when it is needed."""
    from swiftpipe.serving import backends

    found = host.gpus()
    gpus, why = found.count, found.why
    python = backends.stage_python(env)
    version = ds.installed_version(python, env) if cfg.deepspeed is not None else None
    return Host(gpus, why, len(os.sched_getaffinity(0)), python, version)



def plan_launch(cfg: LaunchConfig, args: dict[str, ArgValue], env: dict[str, str], *, where: str,
                pipeline_dir: Path, stage_dir: Path) -> Launch:
    """`launch:` for a stage's plan; the machine is probed only when launch: is set."""
    if is_default(cfg):
        return Launch(notes=["world size 1", *filter(None, [effective_batch(args, 1)[1]])])
    return resolve(cfg, probe(env, cfg), args, where=where, pipeline_dir=pipeline_dir, stage_dir=stage_dir, env=env)


def resolve(cfg: LaunchConfig, host: Host, args: dict[str, ArgValue], *, where: str,
            pipeline_dir: Path, stage_dir: Path, env: dict[str, str]) -> Launch:
    """The variables, flags, notes and fingerprint inputs of `launch:` on `host`; UserError when it cannot work."""
    visible = _visible(cfg, host, where, env)
    nproc = _nproc(cfg, host, visible, where)
    launch = Launch(world_size=nproc * cfg.nnodes)
    on = "GPUs, nccl" if host.gpus else "the CPU, gloo"
    launch.notes.append(f"world size {launch.world_size}" if launch.world_size == 1 else
                        f"world size {launch.world_size} ({nproc} process(es) x {cfg.nnodes} machine(s), on {on})")
    if nproc > 1 or cfg.nnodes > 1:
        launch.env.update(_torchrun_env(cfg, nproc, launch))
    if launch.world_size > 1 and not host.gpus and cfg.deepspeed is None:
        launch.env["ACCELERATE_USE_CPU"] = "true"
        launch.notes.append("ACCELERATE_USE_CPU=true: without it, transformers takes every CPU process for rank 0, "
                            "so the ranks train unsynchronised and all write the same checkpoint")
    if cfg.node_rank > 0:
        launch.notes.append(f"machine {cfg.node_rank} of {cfg.nnodes}: only machine 0 writes the run folder and "
                            "checkpoints; run the stages after this one there")
    if cfg.devices is not None:
        launch.env["CUDA_VISIBLE_DEVICES"] = ",".join(map(str, visible))
    mine: list[str] = []  # swiftpipe's --external_plugins files
    if cfg.deepspeed is not None:
        choice = ds.choose(cfg.deepspeed, gpu=host.gpus > 0, version=host.deepspeed, python=host.python,
                           where=f"{where}.launch.deepspeed", pipeline_dir=pipeline_dir, stage_dir=stage_dir)
        launch.argv += ["--deepspeed", choice.flag]
        mine += [choice.plugin] if choice.plugin is not None else []
        launch.notes.append(choice.note)
        launch.inputs["deepspeed"] = choice.fingerprint
    if launch.world_size > 1:
        mine.append(_exit_plugin(launch, stage_dir))
    if mine:
        launch.argv += plugin_flag(args, *mine)
    note = effective_batch(args, launch.world_size)[1]
    if note:
        launch.notes.append(note)
    if launch.world_size > 1 or cfg.deepspeed is not None:
        launch.inputs.update(world_size=launch.world_size, nproc_per_node=nproc, nnodes=cfg.nnodes)
    return launch


def plugin_flag(args: dict[str, ArgValue], *files: str) -> list[str]:
    """`--external_plugins` with the user's own files first: swift keeps only the last such flag."""
    given = args.get("external_plugins")
    mine = [str(v) for v in given] if isinstance(given, list) else ([] if given is None else [str(given)])
    return ["--external_plugins", *mine, *files]


def _exit_plugin(launch: Launch, stage_dir: Path) -> str:
    """The plugin that destroys each rank's process group at exit (plugins/exit_cleanly.py says why)."""
    copy = plugins.planned(plugins.EXIT_CLEANLY, stage_dir)
    launch.inputs["exit_plugin"] = copy
    launch.notes.append(f"--external_plugins {copy['write_to']}: each rank destroys its process group at exit "
                        "(one left alive can abort a finished run)")
    return copy["write_to"]


def _visible(cfg: LaunchConfig, host: Host, where: str, env: dict[str, str]) -> list[int]:
    ids = device_ids(cfg.devices)
    if ids is not None and not host.gpus:
        raise UserError(f"{where}.launch.devices: {cfg.devices} names GPUs but this machine has none "
                        f"({host.gpu_why}), remove devices to train on the CPU or run on a GPU machine")
    if ids is not None:
        missing = [i for i in ids if i >= host.gpus]
        if missing:
            raise UserError(f"{where}.launch.devices: GPU {missing[0]} does not exist ({host.gpu_why}), "
                            f"use ids 0 to {host.gpus - 1}")
        return ids
    inherited = env.get("CUDA_VISIBLE_DEVICES")
    if host.gpus and inherited:
        return list(range(len(inherited.split(","))))
    return list(range(host.gpus))


def _nproc(cfg: LaunchConfig, host: Host, visible: list[int], where: str) -> int:
    key = f"{where}.launch.nproc_per_node"
    if cfg.nproc_per_node == "auto":
        return max(1, len(visible))
    nproc = int(cfg.nproc_per_node)
    if host.gpus and nproc > len(visible):
        raise UserError(f"{key}: {nproc} processes but {len(visible)} GPU(s) are visible ({host.gpu_why}), "
                        f"set nproc_per_node: auto or at most {len(visible)}")
    if not host.gpus and nproc > host.cpus:
        raise UserError(f"{key}: {nproc} processes but this machine has no GPU ({host.gpu_why}) and "
                        f"{host.cpus} CPU core(s), use at most {host.cpus} (gloo on the CPU) or a GPU machine")
    return nproc


def _torchrun_env(cfg: LaunchConfig, nproc: int, launch: Launch) -> dict[str, str]:
    env = {"NPROC_PER_NODE": str(nproc)}
    if cfg.nnodes > 1:
        env.update(NNODES=str(cfg.nnodes), NODE_RANK=str(cfg.node_rank))
    if cfg.master_addr is not None:
        env["MASTER_ADDR"] = cfg.master_addr
    if cfg.master_port == "auto":
        env["MASTER_PORT"] = str(host.free_port())
        launch.notes.append(f"master port {env['MASTER_PORT']} (auto: a free port; not part of the fingerprint)")
    else:
        env["MASTER_PORT"] = str(cfg.master_port)
    return env



def effective_batch(args: dict[str, ArgValue], world_size: int) -> tuple[int | None, str]:
    """per_device_train_batch_size x gradient_accumulation_steps x world size, with ms-swift's defaults."""
    try:
        per_device = int(str(args.get("per_device_train_batch_size", 1)))
        given = args.get("gradient_accumulation_steps")
        steps = int(str(given)) if given is not None else max(1, math.ceil(16 / per_device / world_size))
    except (ValueError, ZeroDivisionError):
        return None, ""
    why = "" if given is not None else f" (ms-swift's default: ceil(16 / {per_device} / {world_size}))"
    batch = per_device * steps * world_size
    return batch, (f"effective batch {batch} = per_device_train_batch_size {per_device} x "
                   f"gradient_accumulation_steps {steps}{why} x world size {world_size}")


def metrics(args: dict[str, ArgValue], world_size: int) -> dict[str, Any]:
    """The launch figures a finished training stage records."""
    return {"world_size": world_size, "effective_batch": effective_batch(args, world_size)[0]}
