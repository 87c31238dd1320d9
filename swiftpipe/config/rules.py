"""Checks that types alone cannot express: argument names, secrets, stage wiring."""

from __future__ import annotations

import re
from typing import Any

from swiftpipe.config.schema import Pipeline
from swiftpipe.config.validate import Problem

_ARG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")

# Arguments swiftpipe sets itself: a user value would silently fight the pipeline.
RESERVED: dict[str, dict[str, str]] = {
    "sft": {
        "model": "set the top-level 'model'",
        "model_type": "set the top-level 'model_type'",
        "template": "set the top-level 'template'",
        "dataset": "use the 'data' section or stages.sft.dataset",
        "val_dataset": "use the 'data' section or stages.sft.val_dataset",
        "output_dir": "swiftpipe writes under the workdir",
        "resume_from_checkpoint": "swiftpipe resumes interrupted runs itself (stages.sft.resume)",
    },
    "export": {
        "adapters": "use stages.export.checkpoint",
        "merge_lora": "the export stage always merges",
        "output_dir": "swiftpipe writes next to the checkpoint",
    },
    "deploy": {
        "model": "the deploy stage serves the merged model",
        "host": "use stages.deploy.host",
        "port": "use stages.deploy.port",
        "served_model_name": "use stages.deploy.served_model_name",
        "infer_backend": "use stages.deploy.backend",
        "api_key": "use stages.deploy.api_key_env",
    },
    "eval": {
        "model": "the eval stage uses the served model name",
        "api_url": "the eval stage uses the deployed server",
        "api_key": "use stages.deploy.api_key_env",
        "datasets": "use stages.eval.datasets",
        "dataset_args": "use stages.eval.datasets",
        "limit": "use stages.eval.limit",
        "generation_config": "use stages.eval.generation_config",
        "eval_batch_size": "use stages.eval.batch_size",
        "work_dir": "swiftpipe writes under the workdir",
    },
}

# ms-swift 3.x names that 4.x rejects or reinterprets (see the reference notes).
RENAMED = {
    "train_type": "renamed to 'tuner_type' in ms-swift 4",
    "custom_register_path": "renamed to 'external_plugins' in ms-swift 4",
    "metric": "renamed to 'eval_metric' in ms-swift 4 ('--metric' is now ambiguous)",
    "ckpt_dir": "removed in ms-swift 3; swiftpipe passes the checkpoint itself",
    "lora_modules": "removed in ms-swift 3; use 'adapters'",
    "config": "ms-swift 4 takes no --config; put the arguments under 'args'",
}

_SECRET = re.compile(r"(^|_)(token|api_key|key|secret|password)$", re.IGNORECASE)


def check_raw_secrets(raw: Any, path: str = "") -> list[Problem]:
    """Secrets may only arrive as ${VAR} references, never as literals in the file."""
    problems: list[Problem] = []
    if isinstance(raw, dict):
        for key, value in raw.items():
            sub = f"{path}.{key}" if path else str(key)
            if _SECRET.search(str(key)) and isinstance(value, str) and value and "${" not in value:
                problems.append(Problem(sub, _secret_message(str(key))))
            else:
                problems.extend(check_raw_secrets(value, sub))
    elif isinstance(raw, list):
        for i, value in enumerate(raw):
            problems.extend(check_raw_secrets(value, f"{path}[{i}]"))
    return problems


def _secret_message(key: str) -> str:
    return (
        "a secret must not be written in the pipeline file; "
        f"export it in the environment and write '{key}: ${{VAR}}', or use the stage's *_env option"
    )


def check_pipeline(p: Pipeline) -> list[Problem]:
    """Cross-field rules on an otherwise valid pipeline."""
    problems = _check_stage_args(p)
    sft = p.stages.sft
    if sft is not None and p.data is None and not sft.dataset:
        problems.append(
            Problem("stages.sft", "no training data; add a 'data' section or stages.sft.dataset")
        )
    if p.data is not None and not 0.0 <= p.data.val_ratio < 1.0:
        problems.append(Problem("data.val_ratio", f"expected 0 <= value < 1, got {p.data.val_ratio}"))
    if sft is not None and p.tracking.backend != "none" and "report_to" in sft.args:
        problems.append(Problem("stages.sft.args.report_to", "set by 'tracking'; remove it here"))
    deploy = p.stages.deploy
    if deploy is not None and not 1 <= deploy.port <= 65535:
        problems.append(Problem("stages.deploy.port", f"expected a port 1-65535, got {deploy.port}"))
    if p.stages.export is not None and sft is None and p.stages.export.checkpoint in ("last", "best"):
        problems.append(
            Problem(
                "stages.export.checkpoint",
                f"'{p.stages.export.checkpoint}' needs the sft stage; give a checkpoint path",
            )
        )
    return problems


def _check_stage_args(p: Pipeline) -> list[Problem]:
    problems = []
    for stage in ("sft", "export", "deploy", "eval"):
        cfg = getattr(p.stages, stage)
        if cfg is None:
            continue
        for name in cfg.args:
            path = f"stages.{stage}.args.{name}"
            problem = _arg_problem(stage, name)
            if problem:
                problems.append(Problem(path, problem))
    return problems


def _arg_problem(stage: str, name: str) -> str | None:
    if not _ARG_NAME.fullmatch(name):
        return "argument names are written without dashes, e.g. learning_rate"
    if name in RESERVED[stage]:
        return f"set by swiftpipe; {RESERVED[stage][name]}"
    if stage != "eval" and name in RENAMED:
        return RENAMED[name]
    return None
