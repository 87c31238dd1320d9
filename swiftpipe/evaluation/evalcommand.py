"""Build the `evalscope eval` command line from an eval stage's settings (no side effects).

Facts about evalscope 1.14.1 this relies on:
- `--api-key` defaults to 'EMPTY', and that default wins over EVALSCOPE_API_KEY; an
  *empty* `--api-key ''` makes the OpenAI client fall back to EVALSCOPE_API_KEY
  (models/openai_compatible.py). So the key travels in the environment only.
- `general_qa` scores BLEU through nltk's punkt_tab data, which is missing offline:
  every BLEU score is silently 0.0. Rouge works offline, so it is the default.
- the `remove_until` filter drops everything up to a delimiter and is a no-op when
  the delimiter is absent; with `</think>` it strips the empty reasoning block that
  qwen3-style templates put before every answer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from swiftpipe.core.argv import flags
from swiftpipe.core.errors import UserError
from swiftpipe.engine.pipeline import LoadedPipeline
from swiftpipe.evaluation.settings import EvalSettings

THINK_FILTER = {"remove_until": "</think>"}
BLEU_NOTICE = (
    "general_qa: BLEU needs nltk's punkt_tab data, which is missing offline, and then scores a silent "
    "0.0; Rouge is unaffected (install punkt_tab under ~/nltk_data to use BLEU)"
)


def dataset_args(pipeline: LoadedPipeline, cfg: EvalSettings, where: str) -> dict[str, dict[str, Any]]:
    """The stage's datasets with absolute local paths and swiftpipe's defaults filled in."""
    out: dict[str, dict[str, Any]] = {}
    for name, given in cfg.datasets.items():
        args = dict(given)
        if "local_path" in args:
            args["local_path"] = str(_local(pipeline, f"{where}.datasets.{name}", str(args["local_path"])))
        if name == "general_qa":
            args.setdefault("metric_list", ["Rouge"])
        args.setdefault("filters", dict(THINK_FILTER))
        out[name] = args
    return out


def _local(pipeline: LoadedPipeline, key: str, value: str) -> Path:
    path = pipeline.path(value)
    if not path.exists():
        raise UserError(
            f"{pipeline.display_name} › {key}.local_path: {value} does not exist "
            f"(looked for {path}); relative paths start at the folder of {pipeline.display_name}"
        )
    return path


def asks_bleu(args: dict[str, dict[str, Any]]) -> bool:
    metrics = args.get("general_qa", {}).get("metric_list") or []
    return any(str(m).lower() == "bleu" for m in metrics)


def generation_config(cfg: EvalSettings) -> dict[str, Any]:
    """The user's settings with temperature always present (evalscope then merges no default)."""
    return {"temperature": 0.0, **cfg.generation_config}


def eval_flags(args: dict[str, Any]) -> list[str]:
    """An eval stage's args as evalscope flags: dashes, and true/false as bare switches."""
    out: list[str] = []
    for name, value in args.items():
        if isinstance(value, bool):
            out += [f"--{name.replace('_', '-')}"] if value else []
        else:
            out += flags({name: value}, dash="-")
    return out


def eval_argv(
    evalscope: str,
    cfg: EvalSettings,
    datasets: dict[str, dict[str, Any]],
    *,
    api_url: str,
    model: str,
    work_dir: Path,
    keyed: bool,
) -> list[str]:
    """`evalscope eval` against an OpenAI-compatible server; never holds the API key."""
    argv = [
        evalscope, "eval", "--eval-type", "openai_api", "--api-url", api_url, "--model", model,
        "--datasets", *datasets,
        "--dataset-args", json.dumps(datasets, ensure_ascii=False, separators=(",", ":")),
        "--eval-batch-size", str(cfg.batch_size),
        "--generation-config", json.dumps(generation_config(cfg), separators=(",", ":")),
    ]
    if cfg.limit is not None:
        argv += ["--limit", str(cfg.limit)]
    argv += ["--work-dir", str(work_dir), "--no-timestamp"]
    if keyed:
        argv += ["--api-key", ""]  # empty on purpose: evalscope then reads EVALSCOPE_API_KEY
    if cfg.ignore_errors:
        argv.append("--ignore-errors")
    return argv + eval_flags(cfg.args)


def shaping(cfg: EvalSettings, datasets: dict[str, dict[str, Any]], *, model: str, keyed: bool) -> dict[str, Any]:
    """What shapes the scores of the run eval_argv writes, as data for its fingerprint: everything
    but where the server listens and where the reports go."""
    return {"datasets": datasets, "model": model, "batch_size": cfg.batch_size,
            "generation_config": generation_config(cfg), "limit": cfg.limit, "keyed": keyed,
            "ignore_errors": cfg.ignore_errors, "args": dict(cfg.args)}


def with_target(argv: list[str], *, api_url: str, model: str, work_dir: Path) -> list[str]:
    """The same command aimed at another server, model name and work dir (base vs fine-tuned)."""
    out = list(argv)
    for flag, value in (("--api-url", api_url), ("--model", model), ("--work-dir", str(work_dir))):
        out[out.index(flag) + 1] = value
    return out


def only(argv: list[str], names: list[str]) -> list[str]:
    """The same command for just these datasets (the rest of a failed run, or one dataset's key)."""
    start, end = argv.index("--datasets"), argv.index("--dataset-args")
    given = json.loads(argv[end + 1])
    kept = json.dumps({n: given[n] for n in names}, ensure_ascii=False, separators=(",", ":"))
    return [*argv[: start + 1], *names, "--dataset-args", kept, *argv[end + 2 :]]
