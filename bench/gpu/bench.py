"""GPU check (issue 9): gpt-oss-20b cookbook sft memory, two variants, plus tiny deploy + eval.

Method: a randomly initialised GptOss model with gpt-oss-20b's dimensions (hidden 2880, 32
experts, top-4, 64 query / 8 key-value heads of 64, vocabulary 201088, sliding/full attention
alternating) is built on the machine at two depths (2 and 4 decoder layers). `swift sft` runs
the recipe's exact sft arguments on it (LoRA q_proj/v_proj, bf16, tf32, adamw_torch_fused,
gradient checkpointing, max_length 2048, the recipe's per-device batch and accumulation) for a
few steps on rows cut to exactly max_length tokens, while the GPU's used memory is sampled every 0.2 s
(nvidia-smi). Peak(L) = a + b*L is fitted through the two depths and extrapolated to L = 24.
The weights are bf16 (the checkpoint's MXFP4 experts are dequantised to bf16 for training, see
the reference notes), so the per-layer cost includes the experts. Only the tokenizer differs
(a small BPE; the rows are sized in its tokens), which changes neither shapes nor memory.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
RECIPES = REPO / "swiftpipe" / "recipes"
VARIANTS = ("gpt-oss-20b-cookbook", "gpt-oss-20b-cookbook-80gb")
DEPTHS = (2, 4)
REAL_LAYERS = 24
HARMONY = ["<|start|>", "<|message|>", "<|end|>", "<|channel|>", "<|return|>", "<|call|>", "<|constrain|>"]
FULL = dict(hidden_size=2880, intermediate_size=2880, num_local_experts=32, num_experts_per_tok=4,
            num_attention_heads=64, num_key_value_heads=8, head_dim=64, vocab_size=201088, sliding_window=128)
TINY = dict(hidden_size=64, intermediate_size=64, num_local_experts=4, num_experts_per_tok=2,
            num_attention_heads=4, num_key_value_heads=2, head_dim=16, vocab_size=1024, sliding_window=16)
# What a CPU rehearsal cannot do (no CUDA): everything else is the recipe's.
CPU_ARGS = {"bf16": False, "tf32": False, "optim": "adamw_torch", "torch_dtype": "float32",
            "max_length": 512, "per_device_train_batch_size": 1, "gradient_accumulation_steps": 1}


def build_model(out: Path, layers: int, dims: dict[str, int], device: str) -> Path:
    """A random GptOss model of `layers` decoder layers, saved with a small tokenizer."""
    import torch
    from transformers import GptOssConfig, GptOssForCausalLM, PreTrainedTokenizerFast

    from swiftpipe.msswift.tinymodel import SPECIAL_TOKENS, train_bpe

    out.mkdir(parents=True, exist_ok=True)
    corpus = [" ".join(f"word{i} token{i * 7 % 97} reasoning analysis final answer" for i in range(200))] * 4
    tok = PreTrainedTokenizerFast(tokenizer_object=train_bpe(corpus, 400), eos_token="<|return|>",
                                  pad_token="<|endoftext|>")
    tok.add_special_tokens({"additional_special_tokens": [t for t in HARMONY if t != "<|return|>"]})
    tok.add_tokens([t for t in SPECIAL_TOKENS if t not in tok.get_vocab()], special_tokens=True)
    tok.save_pretrained(out)
    types = ["sliding_attention" if i % 2 == 0 else "full_attention" for i in range(layers)]
    config = GptOssConfig(num_hidden_layers=layers, layer_types=types, max_position_embeddings=4096,
                          eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
                          tie_word_embeddings=False, **dims)
    torch.manual_seed(0)
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    with torch.device(device):
        model = GptOssForCausalLM(config).to(dtype)
    model.save_pretrained(out, safe_serialization=True)
    del model
    if device == "cuda":
        torch.cuda.empty_cache()
    return out


def write_rows(model_dir: Path, out: Path, max_length: int, rows: int) -> Path:
    """Rows of messages longer than max_length: swift cuts each to exactly max_length tokens.

    (`--truncation_strategy right`, set in sft_args, so every row costs what a full row costs.)"""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    unit = "word12 token3 analysis final answer "
    per = max(1, len(tok(unit)["input_ids"]))
    n = int(max_length * 1.5) // per
    lines = []
    for i in range(rows):
        lines.append(json.dumps({"messages": [
            {"role": "system", "content": "reasoning language: English"},
            {"role": "user", "content": f"question {i}: " + unit * (n // 4)},
            {"role": "assistant", "content": unit * (n - n // 4)},
        ]}))
    out.write_text("\n".join(lines) + "\n")
    return out


def sft_args(variant: str, tiny: bool) -> dict[str, Any]:
    stage = yaml.safe_load((RECIPES / f"{variant}.yaml").read_text())["stages"]["sft"]
    args: dict[str, Any] = dict(stage["args"])
    args.pop("num_train_epochs", None)
    args.update({"max_steps": 1 if tiny else 4, "save_strategy": "no", "logging_steps": 1,
                 "report_to": "none", "dataloader_num_workers": 0, "truncation_strategy": "right"})
    if tiny:
        args.update(CPU_ARGS)
    return args


def flags(args: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for k, v in args.items():
        vals = v if isinstance(v, list) else [v]
        out += [f"--{k}", *[str(x).lower() if isinstance(x, bool) else str(x) for x in vals]]
    return out


class PeakSampler(threading.Thread):
    """The GPU's used memory, sampled with nvidia-smi until stopped; `peak` in MiB."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            out = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits", "-i", "0"],
                                 capture_output=True, text=True).stdout.strip()
            if out:
                self.peak = max(self.peak, int(out.splitlines()[0]))
            self.stopped.wait(0.2)


def run_sft(model_dir: Path, data: Path, args: dict[str, Any], out: Path, gpu: bool, log: Path) -> dict[str, Any]:
    swift = str(Path(sys.executable).parent / "swift")
    cmd = [swift, "sft", "--model", str(model_dir), "--model_type", "gpt_oss", "--template", "gpt_oss",
           "--dataset", str(data), "--output_dir", str(out), "--check_model", "false", *flags(args)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "MODELSCOPE_OFFLINE": "1"}
    sampler = PeakSampler() if gpu else None
    if sampler:
        sampler.start()
    start = time.monotonic()
    with log.open("w") as fh:
        rc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env).returncode
    seconds = time.monotonic() - start
    if sampler:
        sampler.stopped.set()
        sampler.join()
    return {"rc": rc, "seconds": round(seconds, 1), "peak_mib": sampler.peak if sampler else None, "log": str(log)}


def extrapolate(points: dict[int, int]) -> tuple[float, float, float]:
    (l1, p1), (l2, p2) = sorted(points.items())
    per_layer = (p2 - p1) / (l2 - l1)
    base = p1 - per_layer * l1
    return base, per_layer, base + per_layer * REAL_LAYERS


def tiny_pipeline(work: Path, tiny: bool) -> dict[str, Any]:
    """The demo pipeline with the transformers backend: deploy + eval figures (on a CPU: 10 steps, 4 rows)."""
    wd = work / "demo"
    shutil.rmtree(wd, ignore_errors=True)  # a fresh run: stages left up to date would time nothing
    cmd = [str(Path(sys.executable).parent / "swiftpipe"), "run", str(REPO / "pipeline.yaml"),
           "--set", f"workdir={wd}", "--set", "stages.deploy.backend=transformers"]
    if tiny:  # the same stages, cut to what a shared CPU does in a few minutes
        cmd += ["--set", "stages.sft.args.max_steps=10", "--set", "stages.eval.limit=4"]
    start = time.monotonic()
    rc = subprocess.run(cmd, stdout=(work / "demo.log").open("w"), stderr=subprocess.STDOUT).returncode
    result: dict[str, Any] = {"rc": rc, "seconds": round(time.monotonic() - start, 1)}
    manifest = wd / "manifest.json"
    if manifest.is_file():
        stages = json.loads(manifest.read_text())["stages"]
        result["stages"] = {k: (v.get("status"), v.get("duration_s")) for k, v in stages.items()}
    compare = wd / "eval" / "compare.md"
    result["compare"] = compare.read_text() if compare.is_file() else None
    return result


def machine() -> str:
    gpu = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
                         capture_output=True, text=True).stdout.strip() if shutil.which("nvidia-smi") else ""
    return f"{platform.node()} ({platform.machine()}, {os.cpu_count()} CPUs; GPU: {gpu or 'none'})"


def write_results(results: dict[str, Any], tiny: bool) -> Path:
    now = datetime.datetime.now(datetime.timezone.utc)
    lines = [f"# GPU check results ({'CPU rehearsal, tiny dimensions' if tiny else 'gpt-oss-20b dimensions'})", "",
             f"- date: {now:%Y-%m-%d %H:%M UTC}", f"- machine: {machine()}", "",
             "| variant | layers | rc | seconds | peak MiB |", "|---|---|---|---|---|"]
    for variant, runs in results["sft"].items():
        for layers, r in sorted(runs.items()):
            lines.append(f"| {variant} | {layers} | {r['rc']} | {r['seconds']} | {r['peak_mib'] or '-'} |")
    if results.get("extrapolated"):
        lines += ["", "Extrapolated to 24 layers (peak = a + b x layers):", ""]
    for variant, (base, per, full) in results.get("extrapolated", {}).items():
        lines.append(f"- {variant}: a = {base:.0f} MiB, b = {per:.0f} MiB/layer, 24 layers = {full / 1024:.1f} GiB")
    demo = results.get("demo")
    if demo:
        where = "the CPU (10 sft steps, 4 eval rows)" if tiny else "the GPU"
        lines += ["", f"Tiny pipeline on {where}, transformers backend: rc {demo['rc']}, {demo['seconds']} s", ""]
        lines += [f"- {k}: {v[0]} in {v[1]} s" for k, v in demo.get("stages", {}).items()]
        if demo.get("compare"):
            lines += ["", demo["compare"]]
    path = Path(__file__).parent / ("RESULTS.tiny.md" if tiny else "RESULTS.md")
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="CPU rehearsal: tiny dimensions, one step")
    parser.add_argument("--dry-run", action="store_true", help="print what would run; build nothing")
    parser.add_argument("--work", type=Path, default=Path("/tmp/swiftpipe-gpu-bench"))
    parser.add_argument("--skip-demo", action="store_true", help="skip the tiny pipeline's deploy + eval")
    opts = parser.parse_args()
    gpu = not opts.tiny
    dims = TINY if opts.tiny else FULL
    if opts.dry_run:
        for v in VARIANTS:
            print(f"{v}: swift sft {' '.join(flags(sft_args(v, opts.tiny)))}  at layers {DEPTHS}")
        print(f"model dims: {dims}; demo: {'skipped' if opts.skip_demo else 'swiftpipe run pipeline.yaml'}")
        return 0
    opts.work.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"sft": {}, "extrapolated": {}}
    for layers in DEPTHS:
        model = build_model(opts.work / f"gpt-oss-{layers}l", layers, dims, "cuda" if gpu else "cpu")
        for v in VARIANTS:
            args = sft_args(v, opts.tiny)
            rows = args["per_device_train_batch_size"] * args["gradient_accumulation_steps"] * 5
            data = write_rows(model, opts.work / f"rows-{layers}-{v}.jsonl", int(args["max_length"]), rows)
            print(f"== {v}, {layers} layers", flush=True)
            r = run_sft(model, data, args, opts.work / f"out-{v}-{layers}", gpu, opts.work / f"sft-{v}-{layers}.log")
            print(json.dumps(r), flush=True)
            results["sft"].setdefault(v, {})[layers] = r
        shutil.rmtree(model)
    for v, runs in results["sft"].items():
        if all(r["peak_mib"] for r in runs.values()):
            results["extrapolated"][v] = extrapolate({k: r["peak_mib"] for k, r in runs.items()})
    if not opts.skip_demo:
        print("== demo pipeline (deploy + eval, transformers backend)", flush=True)
        results["demo"] = tiny_pipeline(opts.work, opts.tiny)
        print(json.dumps({k: v for k, v in results["demo"].items() if k != "compare"}), flush=True)
    print(f"wrote {write_results(results, opts.tiny)}")
    codes = [r["rc"] for runs in results["sft"].values() for r in runs.values()]
    return 0 if all(rc == 0 for rc in [*codes, results.get("demo", {}).get("rc", 0)]) else 1


if __name__ == "__main__":
    sys.exit(main())
