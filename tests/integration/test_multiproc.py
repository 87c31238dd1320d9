"""The real `swift sft` with two processes on the CPU (gloo), plain and with DeepSpeed ZeRO-2/ZeRO-3.

Each run is small (the tiny model, a few steps); two processes fit the two cores CI has.
The first DeepSpeed run on a machine compiles deepspeed's CPU communication op (cached after).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from swiftpipe.msswift.checkpoints import inspect, last_complete
from tests.conftest import _leftovers
from tests.integration.tiny import swiftpipe, write_train

pytestmark = pytest.mark.integration




def write_project(root: Path, model: Path, launch: str, *, max_steps: int = 4, export: bool = False) -> Path:
    write_train(root / "train.jsonl", 16)
    (root / "pipeline.yaml").write_text(f"""
name: mp
model: {model}
model_type: qwen3
template: qwen3
stages:
  sft:
    dataset: [train.jsonl]
    launch: {launch}
    args:
      max_steps: {max_steps}
      save_steps: 2
      logging_steps: 1
      torch_dtype: float32
      fp16: false
      bf16: false
      report_to: none
      dataloader_num_workers: 0
""" + ("  export:\n    checkpoint: last\n" if export else ""))
    return root


def sft_record(project: Path) -> dict[str, Any]:
    manifest = json.loads((project / "runs" / "mp" / "manifest.json").read_text())
    record: dict[str, Any] = manifest["stages"]["sft"]
    return record


def sft_log(project: Path) -> str:
    return (project / "runs" / "mp" / "logs" / "sft.log").read_text(errors="replace")


def test_two_processes_train_export_and_skip_like_one(tmp_path: Path, tiny_model: Path) -> None:
    project = write_project(tmp_path, tiny_model, "{nproc_per_node: 2}", export=True)
    plan = swiftpipe("plan", "pipeline.yaml", cwd=project)
    assert "  world size 2 (2 process(es) x 1 machine(s), on the CPU, gloo)" in plan.stdout
    assert ("  effective batch 16 = per_device_train_batch_size 1 x gradient_accumulation_steps 8 "
            "(ms-swift's default: ceil(16 / 1 / 2)) x world size 2") in plan.stdout

    first = swiftpipe("run", "pipeline.yaml", cwd=project)
    assert first.returncode == 0, first.stderr[-3000:]
    sft = sft_record(project)
    assert sft["env"]["NPROC_PER_NODE"] == "2" and sft["env"]["MASTER_PORT"].isdigit()
    assert (sft["metrics"]["world_size"], sft["metrics"]["effective_batch"]) == (2, 16)
    log = sft_log(project)
    assert "world_size: 2, local_world_size: 2" in log  # swift's own line, from a rank
    assert "Setting args.gradient_accumulation_steps: 8" in log
    run_dir = Path(sft["outputs"]["run_dir"])
    assert run_dir.parent == project / "runs" / "mp" / "sft" and run_dir.name.startswith("v0-")
    assert sft["outputs"]["last_checkpoint"] == str(run_dir / "checkpoint-4")
    manifest = json.loads((project / "runs" / "mp" / "manifest.json").read_text())
    export = manifest["stages"]["export"]
    assert export["outputs"]["checkpoint"] == str(run_dir / "checkpoint-4")
    assert (Path(export["outputs"]["merged_dir"]) / "model.safetensors").is_file()

    again = swiftpipe("run", "pipeline.yaml", cwd=project)  # a new free port does not change the fingerprint
    assert again.returncode == 0, again.stderr[-3000:]
    assert "sft: skipped (up to date)" in again.stderr and "export: skipped (up to date)" in again.stderr


def test_zero3_trains_on_the_cpu_with_two_processes(tmp_path: Path, tiny_model: Path) -> None:
    project = write_project(tmp_path, tiny_model, "{nproc_per_node: 2, deepspeed: zero3}")
    done = swiftpipe("run", "pipeline.yaml", cwd=project)
    sft = sft_record(project)
    written = project / "runs" / "mp" / "sft" / "deepspeed-zero3.json"
    assert sft["argv"][-2:] == ["--deepspeed", str(written)]
    config = json.loads(written.read_text())
    assert "train_batch_size" not in config and config["zero_optimization"]["stage"] == 3
    assert "world_size: 2, local_world_size: 2" in sft_log(project)
    last = inspect(Path(sft["outputs"]["run_dir"]) / "checkpoint-4")
    shards = sorted(p.name for p in (last.path / "global_step4").glob("*optim_states.pt"))
    assert shards == [f"zero_pp_rank_{r}_mp_rank_00_optim_states.pt" for r in (0, 1)]
    assert not (last.path / "optimizer.pt").exists() and last.zero
    if last.complete:
        assert done.returncode == 0, done.stderr[-3000:]
        assert sft["outputs"]["last_checkpoint"] == str(last.path)
    else:
        # ms-swift 4.6 + deepspeed 0.19.8 on a CPU sometimes save ZeRO-3 LoRA weights as empty
        # tensors; swiftpipe must then refuse the checkpoint instead of handing it to export.
        assert last.problem is not None and "empty tensor(s) in adapter_model.safetensors" in last.problem
        assert done.returncode == 1 and sft["status"] == "failed"
        assert sft["message"] == f"{sft['outputs']['run_dir']}: swift sft reported no complete last checkpoint"


def wait_for_complete(proc: subprocess.Popen[bytes], folder: Path, pattern: str, timeout: float) -> bool:
    """Poll (briefly) until a checkpoint `folder`/`pattern` is complete, or the process ends."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if any(inspect(c).complete for c in folder.glob(pattern)):
            return True
        time.sleep(0.05)
    return False


def gone(marker: str, timeout: float) -> list[tuple[int, str]]:
    """Poll until no process mentions `marker` (torchrun's workers stop a moment after swiftpipe)."""
    deadline = time.monotonic() + timeout
    while (left := _leftovers(marker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def test_zero2_resumes_from_its_zero_checkpoint_after_an_interruption(tmp_path: Path, tiny_model: Path) -> None:
    project = write_project(tmp_path, tiny_model, "{nproc_per_node: 2, deepspeed: zero2}", max_steps=6)
    with (tmp_path / "first.log").open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "swiftpipe", "run", "pipeline.yaml"], cwd=project,
                                stdout=out, stderr=subprocess.STDOUT)
        try:
            # The injected failure: stop swiftpipe (as Ctrl-C would) once checkpoint-2 is whole.
            seen = wait_for_complete(proc, project / "runs" / "mp" / "sft", "v0-*/checkpoint-2", 600)
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert seen, (tmp_path / "first.log").read_text(errors="replace")[-3000:]
    assert proc.returncode != 0
    assert gone(str(tmp_path), 60) == []  # the torchrun workers (own sessions) go with swiftpipe
    first = sft_record(project)
    assert first["status"] == "interrupted"
    ckpt, _ = last_complete(Path(first["outputs"]["run_dir"]))
    assert ckpt is not None and ckpt.zero and 2 <= ckpt.step < 6

    plan = swiftpipe("plan", "pipeline.yaml", cwd=project)
    assert f"  resumes the interrupted run from {ckpt.path} (step {ckpt.step})" in plan.stdout
    second = swiftpipe("run", "pipeline.yaml", cwd=project)
    assert second.returncode == 0, second.stderr[-3000:]
    sft = sft_record(project)
    assert sft["argv"][-2:] == ["--resume_from_checkpoint", str(ckpt.path)]
    assert "train_batch_size" not in json.loads((project / "runs" / "mp" / "sft" / "deepspeed-zero2.json").read_text())
    last = inspect(Path(sft["outputs"]["last_checkpoint"]))
    assert (last.step, last.complete, last.zero) == (6, True, True)
    assert sft["metrics"]["global_step"] == 6
    assert _leftovers(str(tmp_path)) == []
