"""The real `swift sft` and `swift export` on the tiny model, through `swiftpipe run`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.integration.tiny import swiftpipe, write_sft_pipeline, write_train

pytestmark = pytest.mark.integration




@pytest.fixture
def project(tmp_path: Path, tiny_model: Path) -> Path:
    write_train(tmp_path / "train.jsonl", 16)
    write_sft_pipeline(tmp_path, tiny_model, {"max_steps": 4, "save_steps": 2},
                       more="  export:\n    checkpoint: last\n")
    return tmp_path


def test_real_sft_and_export_then_resume(project: Path) -> None:
    first = swiftpipe("run", "pipeline.yaml", cwd=project)
    assert first.returncode == 0, first.stderr[-3000:]
    manifest = json.loads((project / "runs" / "it" / "manifest.json").read_text())
    sft, export = manifest["stages"]["sft"], manifest["stages"]["export"]
    run_dir = Path(sft["outputs"]["run_dir"])
    assert run_dir.parent == project / "runs" / "it" / "sft" and run_dir.name.startswith("v0-")
    assert export["outputs"]["checkpoint"] == str(run_dir / "checkpoint-4")
    merged = Path(export["outputs"]["model_dir"])
    assert (merged / "model.safetensors").is_file() and (merged / "args.json").is_file()
    assert manifest["tool_versions"]["ms-swift"].startswith("4.")
    assert sft["env"]["HF_HUB_OFFLINE"] == "1" and "--check_model" in sft["argv"]

    again = swiftpipe("run", "pipeline.yaml", cwd=project)
    assert again.returncode == 0
    assert "sft: skipped (up to date)" in again.stderr and "export: skipped (up to date)" in again.stderr

    shutil.rmtree(merged)
    third = swiftpipe("run", "pipeline.yaml", cwd=project)
    assert "sft: skipped (up to date)" in third.stderr
    assert "export: running" in third.stderr and merged.is_dir()

    listing = swiftpipe("checkpoints", "runs/it", cwd=project)
    assert "checkpoint-4" in listing.stdout and "complete  <- last" in listing.stdout
