"""What does swiftpipe add on top of running the same swift commands by hand?

Builds the tiny model, then alternates, --repeat times:
  (a) by hand:   `swift sft ...` then `swift export ...` with exactly the argv and
                 environment swiftpipe recorded, output to a file;
  (b) swiftpipe: `swiftpipe run --force` of the same pipeline in a fresh workdir.
Prints the median wall time of each and the overhead. Target: (b) <= 1.05 x (a).

    .venv/bin/python bench/overhead.py [--repeat 3] [--steps 20]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROWS = [{"messages": [{"role": "user", "content": f"What is {i} plus {i}?"},
                      {"role": "assistant", "content": f"{i} plus {i} is {2 * i}."}]} for i in range(64)]


def pipeline_text(model: Path, steps: int) -> str:
    return f"""
name: bench
model: {model}
model_type: qwen3
template: qwen3
stages:
  sft:
    dataset: [train.jsonl]
    args: {{max_steps: {steps}, save_steps: {steps}, logging_steps: 5, torch_dtype: float32,
            fp16: false, bf16: false, report_to: none, dataloader_num_workers: 0}}
  export:
    checkpoint: last
"""


def timed(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    with open(cwd / "bench.log", "ab") as log:
        subprocess.run(argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, check=True)
    return time.perf_counter() - start


def swiftpipe_run(root: Path, i: int) -> tuple[float, dict[str, object]]:
    workdir = root / f"runs-{i}"
    argv = [sys.executable, "-m", "swiftpipe", "run", "pipeline.yaml", "--force", "--set", f"workdir={workdir}"]
    seconds = timed(argv, root)
    return seconds, json.loads((workdir / "manifest.json").read_text())


def by_hand(root: Path, manifest: dict[str, object], i: int) -> float:
    stages = manifest["stages"]  # type: ignore[index]
    total = 0.0
    out = root / f"hand-{i}"
    sft_argv = [a.replace(str(Path(manifest["workdir"]) / "sft"), str(out / "sft"))  # type: ignore[arg-type]
                for a in stages["sft"]["argv"]]
    env = {**os.environ, **stages["sft"]["env"]}
    total += timed(sft_argv, root, env)
    run_dir = sorted((out / "sft").glob("v*-*"))[-1]
    ckpt = sorted(run_dir.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))[-1]
    export_argv = [stages["export"]["argv"][0], "export", "--adapters", str(ckpt), "--merge_lora", "true",
                   "--output_dir", f"{ckpt}-merged"]
    total += timed(export_argv, root, env)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="swiftpipe-bench-"))
    from swiftpipe.msswift.tinymodel import build_tiny_model

    model = build_tiny_model(root / "tiny-qwen3")
    (root / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    (root / "pipeline.yaml").write_text(pipeline_text(model, args.steps))
    hand, piped = [], []
    for i in range(args.repeat):
        seconds, manifest = swiftpipe_run(root, i)
        piped.append(seconds)
        hand.append(by_hand(root, manifest, i))
        print(f"round {i + 1}: by hand {hand[-1]:6.2f} s   swiftpipe {piped[-1]:6.2f} s", flush=True)
    a, b = statistics.median(hand), statistics.median(piped)
    overhead = (b - a) / a * 100
    print(f"\n{'':24}{'median wall time':>18}")
    print(f"{'(a) swift by hand':24}{a:>16.2f} s")
    print(f"{'(b) swiftpipe run':24}{b:>16.2f} s")
    verdict = "PASS" if overhead <= 5 else "FAIL"
    print(f"overhead: {overhead:+.1f}%  (target <= +5%)  {verdict}")
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
