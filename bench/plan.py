"""`swiftpipe plan` of a pipeline of N variants against one variant: the planning overhead per stage.

Each variant is sft -> export -> deploy -> eval from one data stage, with the base model's
evaluation shared (40 variants: 161 stages). Probes of the machine (GPUs, the serving Python's
lmdeploy, tool versions) are asked once per run whatever the number of stages, and each stage is
planned once, so N variants should cost far less than N times one. Prints the median wall time of
`swiftpipe plan` (a fresh process each time, as a user runs it) for 1 and N variants, side by side.

    .venv/bin/python bench/plan.py [--variants 40] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def pipeline(variants: int, model: Path) -> str:
    lines = [
        "name: planbench", f"model: {model}", "model_type: qwen3", "template: qwen3",
        "data:", f"  sources: [{{path: {REPO / 'datasets' / 'support.dolly.jsonl'}}}]", "stages:",
    ]
    for i in range(variants):
        lines += [
            f"  sft_{i}: {{kind: sft, from: data, args: {{tuner_type: lora, lora_rank: {4 + i}, max_steps: 5}}}}",
            f"  export_{i}: {{kind: export, from: sft_{i}}}",
            f"  deploy_{i}: {{kind: deploy, from: export_{i}, port: {9000 + i}}}",
            f"  eval_{i}: {{kind: eval, from: deploy_{i}, compare_base: true, "
            f"datasets: {{general_mcq: {{local_path: {REPO / 'datasets' / 'eval' / 'mcq'}, subset_list: [demo]}}}}}}",
        ]
    return "\n".join(lines) + "\n"


def plan_seconds(path: Path, repeat: int) -> tuple[float, int]:
    """The median wall time of `swiftpipe plan` and the number of stages it listed."""
    times, stages = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "swiftpipe", "plan", str(path)], capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            sys.exit(f"swiftpipe plan {path} failed:\n{done.stderr[-2000:]}")
        graph = done.stdout.split("graph:\n", 1)[-1].split("\n\n", 1)[0]
        stages = len(graph.splitlines())
    return statistics.median(times), stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--model", type=Path, default=REPO / "models" / "tiny-qwen3")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for n in (1, args.variants):
            path = Path(tmp) / f"p{n}.yaml"
            path.write_text(pipeline(n, args.model.resolve()))
            seconds, stages = plan_seconds(path, args.repeat)
            rows.append((n, stages, seconds))
    print(f"{'variants':>8}  {'stages':>6}  {'plan (s)':>8}  {'per stage (ms)':>14}")
    for n, stages, seconds in rows:
        print(f"{n:>8}  {stages:>6}  {seconds:>8.2f}  {1000 * seconds / max(stages, 1):>14.1f}")
    print(f"{args.variants} variants / 1 variant: {rows[1][2] / rows[0][2]:.2f}x the time (target: at most 2x)")


if __name__ == "__main__":
    main()
