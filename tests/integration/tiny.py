"""What the integration tests share: training rows the tiny model can take, and the CLI as a child."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def arithmetic_rows(n: int = 16) -> list[dict[str, object]]:
    return [
        {"messages": [{"role": "user", "content": f"What is {i} plus {i}?"},
                      {"role": "assistant", "content": f"{i} plus {i} is {2 * i}."}]}
        for i in range(n)
    ]


def write_train(path: Path, n: int = 16) -> Path:
    """`n` rows of ms-swift JSONL at `path`."""
    path.write_text("".join(json.dumps(r) + "\n" for r in arithmetic_rows(n)))
    return path


# What every training run on the CPU sets: full precision, no workers, no tracker, a log per step.
CPU_ARGS: dict[str, object] = {"logging_steps": 1, "torch_dtype": "float32", "fp16": False, "bf16": False,
                               "report_to": "none", "dataloader_num_workers": 0}


def write_sft_pipeline(folder: Path, model: Path, args: Mapping[str, object], *, more: str = "") -> Path:
    """`folder/pipeline.yaml`: a pipeline named `it` on the tiny model whose sft stage reads
    train.jsonl with CPU_ARGS and `args` over them; `more` is YAML for the stages after it."""
    path = folder / "pipeline.yaml"
    path.write_text(f"""
name: it
model: {model}
model_type: qwen3
template: qwen3
stages:
  sft:
    dataset: [train.jsonl]
    args: {json.dumps({**CPU_ARGS, **args})}
""" + more)
    return path


def swiftpipe(*args: str, cwd: Path, env: Mapping[str, str] | None = None,
              timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """`python -m swiftpipe ARGS` in `cwd`, output captured as text."""
    return subprocess.run([sys.executable, "-m", "swiftpipe", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=timeout)
