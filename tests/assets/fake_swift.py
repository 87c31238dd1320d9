"""A stand-in for the `swift` executable, for fault injection in tests.

It records its argv (one JSON line per call in $FAKE_SWIFT_LOG), writes the
folders real ms-swift 4.6 writes (run folder, checkpoints, logging.jsonl, merged
model), and fails on demand:

  FAKE_SWIFT_FAIL=sft|export   exit 1 after printing an error
  FAKE_SWIFT_CRASH_AFTER=N     (sft) write checkpoints up to step N, then exit 1
  FAKE_SWIFT_HANG=N            (sft) write checkpoints up to step N, then hang silently
                               until killed (a trainer stuck or between two log lines)
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path


def _arg(argv: list[str], flag: str) -> str | None:
    return argv[argv.index(flag) + 1] if flag in argv else None


def _checkpoint(run_dir: Path, step: int) -> Path:
    ckpt = run_dir / f"checkpoint-{step}"
    ckpt.mkdir(parents=True)
    (ckpt / "adapter_model.safetensors").write_bytes(b"weights" * step)
    (ckpt / "adapter_config.json").write_text("{}")
    state = {"global_step": step, "log_history": [{"loss": 2.0 / step, "step": step}]}
    (ckpt / "trainer_state.json").write_text(json.dumps(state))
    return ckpt


def sft(argv: list[str]) -> int:
    out = Path(_arg(argv, "--output_dir") or "output")
    out.mkdir(parents=True, exist_ok=True)
    n = len([p for p in out.glob("v*-*")])
    run_dir = out / f"v{n}-{time.strftime('%Y%m%d-%H%M%S')}"
    run_dir.mkdir()
    print(f"[INFO:swift] output_dir: {run_dir}", flush=True)
    max_steps = int(_arg(argv, "--max_steps") or 4)
    resume = _arg(argv, "--resume_from_checkpoint")
    start = int(Path(resume).name.split("-")[1]) if resume else 0
    crash = int(os.environ.get("FAKE_SWIFT_CRASH_AFTER", "0"))
    hang = int(os.environ.get("FAKE_SWIFT_HANG", "0"))
    for step in range(start + 2, max_steps + 1, 2):
        _checkpoint(run_dir, step)
        if crash and step >= crash:
            print("RuntimeError: simulated crash", flush=True)
            return 1
        if hang and step >= hang:
            while True:
                signal.pause()
    last = str(run_dir / f"checkpoint-{max_steps}")
    summary = {"last_model_checkpoint": last, "best_model_checkpoint": None, "global_step": max_steps,
               "log_history": [{"train_loss": 0.5, "step": max_steps}]}
    (run_dir / "logging.jsonl").write_text(json.dumps({"loss": 0.5}) + "\n" + json.dumps(summary) + "\n")
    print(f"[INFO:swift] last_model_checkpoint: {last}", flush=True)
    return 0


def export(argv: list[str]) -> int:
    out = Path(_arg(argv, "--output_dir") or "merged")
    out.mkdir(parents=True)
    for name in ("config.json", "model.safetensors", "args.json"):
        (out / name).write_text("{}")
    return 0


def main() -> int:
    argv = sys.argv[1:]
    log = os.environ.get("FAKE_SWIFT_LOG")
    if log:
        with open(log, "a") as fh:
            fh.write(json.dumps(argv) + "\n")
    command = argv[0] if argv else ""
    if os.environ.get("FAKE_SWIFT_FAIL") == command:
        print(f"ValueError: simulated failure of swift {command}", flush=True)
        return 1
    return {"sft": sft, "export": export}.get(command, lambda a: 2)(argv)


if __name__ == "__main__":
    sys.exit(main())
