"""Keep what a failed evaluation finished: on the next attempt, a dataset whose settings did
not change is not evaluated again; its evalscope files are copied from the earlier work dir.

evalscope's own `--use-cache DIR` is not used for this: it refuses the whole run when one
benchmark's identity changed (fixing the failed dataset's few_shot_num is such a change), and
the identity includes `--api-url`, whose port changes whenever swiftpipe starts a server on a
free port (base-eval). Each dataset's key here is its own single-dataset command line (server
URL left out), what is served, its data digest and the evalscope version.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from swiftpipe.engine.stage import StageContext
from swiftpipe.engine.status import Status

NOT_IN_KEY = ("shaping", "data", "base")  # base: the base model's scores do not shape these


def dataset_keys(inputs: dict[str, Any], names: list[str]) -> dict[str, str]:
    """A digest per dataset of everything that shapes its scores, from a plan's inputs (whose
    `shaping` is evalcommand.shaping: the run's settings with every dataset's arguments)."""
    shared = {k: v for k, v in inputs.items() if k not in NOT_IN_KEY}
    shaping = dict(inputs.get("shaping") or {})
    every = shaping.get("datasets") or {}
    keys = {}
    for name in names:
        payload = {"shaping": {**shaping, "datasets": {name: every.get(name)}},
                   "data": (inputs.get("data") or {}).get(name), **shared}
        text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
        keys[name] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return keys


def last_attempt_failed(ctx: StageContext) -> bool:
    attempts = ctx.record.attempts if ctx.record is not None else []
    return len(attempts) >= 2 and attempts[-2].status == Status.FAILED


def reusable(ctx: StageContext, keys: dict[str, str], aside: Path | None) -> dict[str, Path]:
    """Datasets the failed last attempt finished with the same key: name -> its old work dir."""
    previous = ctx.previous
    if aside is None or not last_attempt_failed(ctx) or not previous.get("work_dir"):
        return {}
    try:
        old = aside / Path(previous["work_dir"]).relative_to(ctx.stage_dir)
    except ValueError:
        return {}
    done = previous.get("dataset_keys") or {}
    return {n: old for n, key in keys.items() if done.get(n) == key and any(old.glob(f"reports/*/{n}.json"))}


def carry(names: dict[str, Path], work_dir: Path) -> None:
    """Copy each dataset's report, predictions and reviews into the new work dir."""
    for name, old in names.items():
        patterns = (f"reports/*/{name}.json", f"predictions/*/{name}_*.jsonl", f"reviews/*/{name}_*.jsonl")
        for pattern in patterns:
            for path in old.glob(pattern):
                target = work_dir / path.relative_to(old)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
