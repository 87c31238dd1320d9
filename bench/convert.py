"""Benchmark `swiftpipe convert` against a parse-only floor and ms-swift's own loader.

    python bench/convert.py [--rows 1000000] [--swift-rows 200000] [--length-rows 20000]
                            [--max-length 512] [--model DIR] [--keep DIR]

Generates N synthetic ShareGPT rows, then measures, each in its own child process:
  (a) floor    - read each line and json.loads it, nothing else;
  (b) convert  - `python -m swiftpipe convert IN -o OUT [--jobs J]` (whole process, start-up and
                 worker start-up included; by default one worker process per CPU);
  (c) ms-swift - `swift.dataset.load_dataset([IN])`: HF datasets JSON load + MessagesPreprocessor.
                 Timed inside the child around the call only (its ~10 s of imports excluded),
                 on the first --swift-rows rows when that is smaller than N. num_proc=1 and
                 load_from_cache_file=False are `swift sft`'s defaults (--dataset_num_proc 1).
Then token lengths, on the first --length-rows rows, with the tiny model's tokenizer and
--max-length (rows above it are rejected):
  (d) estimate - `swiftpipe convert --tokenizer M --max-length N --no-exact` (whole process);
  (e) exact    - the same with `--exact --template qwen3 --model-type qwen3`: the lengths of
                 ms-swift's template, by the strings it tokenises (swiftpipe/data/rows/chatml.py)
                 or, for rows that module does not follow, by the template itself, loaded
                 then (whole process, start-up and any template load included);
  (f) ms-swift - `load_dataset` + `EncodePreprocessor` (what `swift sft` maps over the rows),
                 timed around those two calls only.
Peak RSS is summed over the whole process tree: each process's own peak (VmHWM, polled from
/proc every 20 ms while it runs; for the child itself also its rusage from os.wait4), added
up. Peaks that happened at different moments are added as if simultaneous, and pages shared
between processes are counted in each, so the sum can only overstate the true peak.
Prints rows/s and peak RSS side by side with PASS/FAIL against the targets: (b) at least the
floor, (e) at least twice (f). The machine's load average is printed before and after each
part: figures taken beside other work are noisy, so rerun on a quiet machine to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

FLOOR = """
import json, sys, time
t = time.perf_counter(); n = 0
with open(sys.argv[1], "rb") as f:
    for line in f:
        json.loads(line.decode("utf-8")); n += 1
print(n, time.perf_counter() - t)
"""

SWIFT = """
import sys, time
from swift.dataset import load_dataset
t = time.perf_counter()
train, _ = load_dataset([sys.argv[1]], num_proc=1, load_from_cache_file=False)
print(len(train), time.perf_counter() - t)
"""

SWIFT_ENCODE = """
import sys, time
from pathlib import Path
from swift.dataset import load_dataset
from swift.dataset.utils import EncodePreprocessor
from swiftpipe.data.rows.exact import load_template
template = load_template(Path(sys.argv[2]), "qwen3", "qwen3")
t = time.perf_counter()
train, _ = load_dataset([sys.argv[1]], num_proc=1, load_from_cache_file=False)
encoded = EncodePreprocessor(template)(train, num_proc=1, load_from_cache_file=False)
print(len(encoded), time.perf_counter() - t)
"""

WORDS = [
    "the",
    "model",
    "data",
    "train",
    "answer",
    "question",
    "because",
    "river",
    "light",
    "number",
    "small",
    "large",
    "quick",
    "system",
    "value",
    "think",
    "step",
    "first",
    "second",
    "result",
    "table",
    "chair",
    "window",
    "music",
    "garden",
]


def generate(path: Path, rows: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as f:
        for i in range(rows):
            turns = []
            if i % 5 == 0:
                turns.append({"from": "system", "value": "You are a helpful assistant."})
            for t in range(rng.choice((1, 1, 2, 3))):
                for role in ("human", "gpt"):
                    n = rng.randint(8, 80)
                    turns.append({"from": role, "value": f"{i}-{t} " + " ".join(rng.choices(WORDS, k=n))})
            f.write(json.dumps({"conversations": turns}) + "\n")


def _count_lines(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(1 for _ in f)


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def _hwm_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _poll_tree(root: int, peaks: dict[int, int]) -> None:
    """Record the peak RSS so far of `root` and all its descendants."""
    todo = [root]
    while todo:
        pid = todo.pop()
        peaks[pid] = max(peaks.get(pid, 0), _hwm_kb(pid))
        todo += _children(pid)


def measure(cmd: list[str], env: dict[str, str] | None = None) -> tuple[str, float, float, int]:
    """Run `cmd`; return (stdout, wall seconds, summed peak RSS in MB, processes in the tree)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out_f, tempfile.TemporaryFile() as err_f:
        proc = subprocess.Popen(cmd, stdout=out_f, stderr=err_f, env=env)
        peaks: dict[int, int] = {}
        while True:
            _poll_tree(proc.pid, peaks)
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.02)
        wall = time.perf_counter() - start
        out_f.seek(0)
        err_f.seek(0)
        out, err = out_f.read().decode(), err_f.read().decode()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"{cmd[:4]} failed with exit code {code}:\n{err[-3000:]}")
    # wait4's figure is the larger of the child's and its largest child's peak: using it for
    # the child can only overstate.
    peaks[proc.pid] = max(peaks.get(proc.pid, 0), usage.ru_maxrss)
    return out, wall, sum(peaks.values()) / 1024, len([p for p in peaks.values() if p])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--swift-rows", type=int, help="run (c) on the first N rows only (default: all)")
    parser.add_argument("--jobs", type=int, help="swiftpipe convert --jobs (default: its own, one per CPU)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep the files")
    parser.add_argument("--length-rows", type=int, default=20_000, help="rows for (d)-(f) (default: 20000)")
    parser.add_argument("--max-length", type=int, default=512, help="--max-length for (d) and (e)")
    parser.add_argument("--model", type=Path, default=REPO / "models" / "tiny-qwen3", help="tokenizer + template")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="swiftpipe-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    data = work / "sharegpt.jsonl"
    if not data.exists() or _count_lines(data) != args.rows:
        generate(data, args.rows)
    print(f"input: {args.rows:,} rows, {data.stat().st_size / 1e6:,.0f} MB ({data})", flush=True)

    print(f"load before: {os.getloadavg()[0]:.2f} (1-min average, {os.cpu_count()} CPUs)", flush=True)
    out, _, floor_rss, _ = measure([sys.executable, "-c", FLOOR, str(data)])
    n, secs = out.split()
    floor = int(n) / float(secs)

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []
    _, wall, conv_rss, procs = measure(
        [
            sys.executable,
            "-m",
            "swiftpipe",
            "convert",
            str(data),
            "-o",
            str(work / "out.jsonl"),
            "--max-reject-ratio",
            "0",
            *jobs,
        ],
        env,
    )
    conv = args.rows / wall

    swift_rows = min(args.swift_rows or args.rows, args.rows)
    swift_in = _head(data, work, swift_rows, args.rows)
    cache = Path(tempfile.mkdtemp(prefix="cache-", dir=work))
    senv = {
        **os.environ,
        "HF_HOME": str(cache / "hf"),
        "MODELSCOPE_CACHE": str(cache / "ms"),
        "HF_DATASETS_OFFLINE": "1",
        "HF_HUB_OFFLINE": "1",
        "MODELSCOPE_OFFLINE": "1",
    }
    out, _, swift_rss, _ = measure([sys.executable, "-c", SWIFT, str(swift_in)], senv)
    n, secs = out.strip().splitlines()[-1].split()
    swift = int(n) / float(secs)

    report(floor, floor_rss, conv, conv_rss, swift, swift_rss, args.rows, swift_rows)
    print(f"(b) ran as {procs} process(es), RSS summed over them; load after: {os.getloadavg()[0]:.2f}")
    lengths(args, _head(data, work, min(args.length_rows, args.rows), args.rows), work, env, {**senv, **env})


def _head(data: Path, work: Path, rows: int, total: int) -> Path:
    """`data`, or a file of its first `rows` rows when that is fewer."""
    if rows >= total:
        return data
    head = work / f"sharegpt-head{rows}.jsonl"
    if not head.exists() or _count_lines(head) != rows:
        with open(data, "rb") as src, open(head, "wb") as dst:
            for _, line in zip(range(rows), src, strict=False):
                dst.write(line)
    return head


def lengths(args: argparse.Namespace, data: Path, work: Path, env: dict[str, str], senv: dict[str, str]) -> None:
    """(d) estimate, (e) exact lengths and (f) ms-swift's load_dataset + encode, side by side."""
    model = args.model
    if not (model / "config.json").is_file():
        sys.path.insert(0, str(REPO))
        from swiftpipe.msswift.tinymodel import build_tiny_model

        model = build_tiny_model(work / "tiny-qwen3")
    rows = _count_lines(data)
    print(f"\nload before token lengths: {os.getloadavg()[0]:.2f}", flush=True)
    base = [sys.executable, "-m", "swiftpipe", "convert", str(data), "--max-reject-ratio", "1",
            "--tokenizer", str(model), "--max-length", str(args.max_length)]  # fmt: skip
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []
    figures = []
    for name, extra in (
        ("(d) convert, estimated lengths", ["--no-exact"]),
        ("(e) convert, exact lengths", ["--exact", "--template", "qwen3", "--model-type", "qwen3"]),
    ):
        target = work / f"lengths-{extra[0].strip('-')}.jsonl"
        _, wall, rss, _ = measure([*base, "-o", str(target), *jobs, *extra], env)
        kept = _count_lines(target)
        figures.append((name, rows / wall, rss, kept))
    out, _, rss, _ = measure([sys.executable, "-c", SWIFT_ENCODE, str(data), str(model)], senv)
    n, secs = out.strip().splitlines()[-1].split()
    figures.append(("(f) ms-swift load_dataset+encode", int(n) / float(secs), rss, -1))
    print()
    print(f"token lengths on {rows:,} rows, max_length {args.max_length} ({model}):")
    print(f"{'measurement':<34} {'rows':>10} {'rows/s':>10} {'peak RSS MB':>12} {'kept':>8}")
    for name, rate, peak, kept in figures:
        shown = "-" if kept < 0 else f"{kept:,}"
        print(f"{name:<34} {rows:>10,} {rate:>10,.0f} {peak:>12,.0f} {shown:>8}")
    estimate, exact, swift = (f[1] for f in figures)
    print(f"(e) is {exact / swift:.2f}x (f) and {exact / estimate:.2f}x (d); (d) is {estimate / swift:.2f}x (f)")
    print(f"{'PASS' if exact >= 2 * swift else 'FAIL'}  (e) >= 2x (f) rows/s     ({exact / swift:.2f}x)")
    print(f"load after: {os.getloadavg()[0]:.2f}")


def report(
    floor: float,
    floor_rss: float,
    conv: float,
    conv_rss: float,
    swift: float,
    swift_rss: float,
    rows: int,
    swift_rows: int,
) -> None:
    print()
    print(f"{'measurement':<34} {'rows':>10} {'rows/s':>10} {'peak RSS MB':>12}")
    print(f"{'(a) floor: read + json.loads':<34} {rows:>10,} {floor:>10,.0f} {floor_rss:>12,.0f}")
    print(f"{'(b) swiftpipe convert':<34} {rows:>10,} {conv:>10,.0f} {conv_rss:>12,.0f}")
    print(f"{'(c) ms-swift load_dataset':<34} {swift_rows:>10,} {swift:>10,.0f} {swift_rss:>12,.0f}")
    if swift_rows < rows:
        print(f"    (c) ran on the first {swift_rows:,} rows (--swift-rows); rows/s is per row it processed")
    print()
    checks = [
        (f"(b) >= 1.0x floor rows/s   ({conv / floor:.2f}x)", conv >= floor),
        (f"(b) peak RSS < 200 MB      ({conv_rss:.0f} MB)", conv_rss < 200),
        (f"(b) >= 5x ms-swift rows/s  ({conv / swift:.2f}x)", conv >= 5 * swift),
    ]
    for text, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")


if __name__ == "__main__":
    main()
