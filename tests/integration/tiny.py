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


def write_sft_pipeline(folder: Path, model: Path, args: Mapping[str, object]) -> Path:
    """`folder/pipeline.yaml`: one sft stage named `it` on the tiny model, reading train.jsonl."""
    path = folder / "pipeline.yaml"
    path.write_text(f"""
name: it
model: {model}
model_type: qwen3
template: qwen3
stages:
  sft:
    dataset: [train.jsonl]
    args: {json.dumps(dict(args))}
""")
    return path


def swiftpipe(*args: str, cwd: Path, env: Mapping[str, str] | None = None,
              timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """`python -m swiftpipe ARGS` in `cwd`, output captured as text."""
    return subprocess.run([sys.executable, "-m", "swiftpipe", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=timeout)
