"""Shared set-up for the deploy and eval stage tests: a venv of fakes and a pipeline."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from swiftpipe.core import host

ASSETS = Path(__file__).parent.parent / "assets"


def serve_venv(root: Path) -> Path:
    """bin/swift (fake deploy), bin/evalscope (fake eval), bin/python (this interpreter)."""
    bin_dir = root / "servevenv" / "bin"
    bin_dir.mkdir(parents=True)
    for name, script in (("swift", "fake_deploy.py"), ("evalscope", "fake_evalscope.py")):
        path = bin_dir / name
        path.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{ASSETS / script}" "$@"\n')
        path.chmod(0o755)
    os.symlink(sys.executable, bin_dir / "python")
    return bin_dir.parent


def write_pipeline(root: Path, *, eval_stage: bool = True, extra_deploy: str = "", extra_eval: str = "") -> Path:
    """A pipeline that serves the base model (no export) and evaluates the demo sets."""
    venv = serve_venv(root)
    (root / "model").mkdir()
    (root / "model" / "config.json").write_text("{}")
    (root / "data" / "mcq").mkdir(parents=True)
    (root / "data" / "mcq" / "demo_val.csv").write_text("id,question,A,B,answer\n1,q,a,b,A\n")
    (root / "data" / "qa").mkdir()
    (root / "data" / "qa" / "demo.jsonl").write_text(json.dumps({"query": "q", "response": "r"}) + "\n")
    text = f"""
name: t
model: model
stages:
  deploy:
    backend: transformers
    port: {host.free_port()}
    served_model_name: tiny
    ready_timeout: 30
    venv: {venv}
{extra_deploy}"""
    if eval_stage:
        text += f"""
  eval:
    venv: {venv}
    datasets:
      general_mcq: {{local_path: data/mcq, subset_list: [demo]}}
      general_qa: {{local_path: data/qa, subset_list: [demo]}}
    limit: 5
{extra_eval}"""
    path = root / "pipeline.yaml"
    path.write_text(text)
    return path
