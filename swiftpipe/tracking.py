"""Experiment tracking with SwanLab: training curves via ms-swift, eval scores by swiftpipe.

The token only ever travels in the SWANLAB_API_KEY environment variable, which
children inherit (or which a training stage's `swanlab_token` argument is routed to,
swiftpipe/msswift/secrets.py); it is never an argument. ms-swift logs training itself
(`--report_to swanlab`); `evalscope eval` has no tracker, so after eval swiftpipe
logs the scores into the same project and experiment. Both write their local
files under <workdir>/swanlog (SWANLAB_LOGDIR), which is also how the eval step
finds the training run's id: it resumes that id (`resume="allow"`). In cloud mode
that appends to the very same experiment; in local mode swanlab 0.10 writes a
second run folder carrying the same id and name. Within `swiftpipe run`, both runs carry the
experiment's id (as their group and a tag) and its `--name` (a tag), so SwanLab's runs and the rows
of `swiftpipe exps` match.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from swiftpipe.core import console, process
from swiftpipe.core.fsio import atomic_write_text
from swiftpipe.engine.experiments import announced
from swiftpipe.engine.stage import StageContext
from swiftpipe.msswift import secrets

# Runs in a child, so swanlab's console capture and threads never touch swiftpipe.
_LOG_SCRIPT = """
import json, sys
import swanlab
p = json.load(open(sys.argv[1], encoding="utf-8"))
kw = dict(project=p["project"], name=p["experiment"], mode=p["mode"], log_dir=p["log_dir"], **p["labels"])
if p["id"]:
    kw.update(id=p["id"], resume="allow")
swanlab.init(**kw)
swanlab.log(p["metrics"])
swanlab.finish()
"""
_RUN_DIR = re.compile(r"run-\d{8}_\d{6}-(.+)$")


def enabled(ctx: StageContext) -> bool:
    t = ctx.config.tracking
    return t.backend == "swanlab"


def experiment(ctx: StageContext) -> str:
    return ctx.config.tracking.experiment or ctx.config.name


def log_dir(ctx: StageContext) -> Path:
    return ctx.workdir / "swanlog"


def yields_to_tracking(report_to: object) -> bool:
    """True for a training stage's `args.report_to` that tracking may take over.

    null drops the flag; `none` turns off ms-swift's own reporters (its default is tensorboard,
    which the demo turns off): with a tracker on, the tracker is the one reporter. Any other
    value would compete with the tracker's `--report_to`, and the config rules refuse it.
    """
    return report_to is None or report_to == "none" or report_to == ["none"]


def training_args(ctx: StageContext, args: Mapping[str, Any]) -> dict[str, Any]:
    """A training stage's `args` less the `report_to` that the tracker's own flags replace."""
    if not enabled(ctx) or not yields_to_tracking(args.get("report_to")):
        return dict(args)
    return {name: value for name, value in args.items() if name != "report_to"}


def swanlab_sft_args(ctx: StageContext) -> list[str]:
    """The `swift sft` flags that report training to SwanLab ([] when tracking is off)."""
    t = ctx.config.tracking
    if not enabled(ctx):
        return []
    return [
        "--report_to", "swanlab", "--swanlab_project", t.project,
        "--swanlab_exp_name", experiment(ctx), "--swanlab_mode", t.mode,
    ]


def swanlab_env(ctx: StageContext) -> dict[str, str]:
    """Environment for the sft child: where SwanLab writes its local files, and the experiment's labels."""
    return {"SWANLAB_LOGDIR": str(log_dir(ctx)), **experiment_env()} if enabled(ctx) else {}


def experiment_labels() -> dict[str, Any]:
    """What marks a SwanLab run as part of this swiftpipe experiment, so runs and `exps` rows match:
    its group is the experiment id, its tags the id and the `--name`, its description both.
    Empty outside `swiftpipe run` (which announces the id, swiftpipe/engine/experiments.py)."""
    exp_id, name = announced()
    if exp_id is None:
        return {}
    named = name.replace(",", " ") if name else None  # SWANLAB_TAGS is comma-separated
    return {"group": exp_id, "tags": [f"swiftpipe:{exp_id}", *([f"name:{named}"] if named else [])],
            "description": f"swiftpipe experiment {exp_id}" + (f" ({name})" if name else "")}


def experiment_env() -> dict[str, str]:
    """The labels as the environment SwanLab reads when its caller (ms-swift's callback) sets none."""
    labels = experiment_labels()
    if not labels:
        return {}
    return {"SWANLAB_GROUP": labels["group"], "SWANLAB_TAGS": ",".join(labels["tags"]),
            "SWANLAB_DESCRIPTION": labels["description"]}


def training_run_id(ctx: StageContext) -> str | None:
    """The id of the newest SwanLab run under <workdir>/swanlog (the training run's id)."""
    runs = sorted(log_dir(ctx).glob("run-*"), key=lambda p: p.name)
    for run in reversed(runs):
        match = _RUN_DIR.match(run.name)
        if match:
            return match.group(1)
    return None


def metric_name(*parts: str) -> str:
    """SwanLab keys allow letters, digits, '_', '-', '/' only, and no '/' at the ends."""
    return "/".join(re.sub(r"[^A-Za-z0-9_-]+", "_", p).strip("_") for p in parts)


def log_eval(ctx: StageContext, scores: dict[str, float | None]) -> None:
    """Send eval scores (`dataset` or `base/dataset` -> score) to the sft run's experiment.

    A failure to log is a notice, not an error: the scores are in the manifest anyway.
    """
    metrics = {metric_name("eval", *k.split("/")): v for k, v in scores.items() if v is not None}
    if not enabled(ctx) or not metrics:
        return
    run_id = training_run_id(ctx)
    if run_id is None:
        console.notice(f"no SwanLab training run under {log_dir(ctx)}; eval scores go to a new run "
                       f"named '{experiment(ctx)}'")
    t = ctx.config.tracking
    payload = {"project": t.project, "experiment": experiment(ctx), "mode": t.mode,
               "log_dir": str(log_dir(ctx)), "id": run_id, "metrics": metrics, "labels": experiment_labels()}
    path = ctx.stage_dir / "tracking.json"
    atomic_write_text(path, json.dumps(payload, indent=2) + "\n")
    python = _python(ctx)
    log = ctx.log_path(".tracking")
    rc = ctx.launcher.run([python, "-c", _LOG_SCRIPT, str(path)], process.child_env(_env(ctx)), log, echo=False)
    if rc != 0:
        console.notice(f"could not log eval scores to SwanLab (exit code {rc}); see {log}")
    else:
        console.info(f"eval scores logged to SwanLab project '{t.project}', experiment '{experiment(ctx)}'")


def _training(ctx: StageContext) -> Any:
    """The config of the pipeline's first training stage, whose run the scores join."""
    graph = ctx.pipeline.graph
    return next((n.config for n in graph if graph.kind(n.name).trains), None)


def _env(ctx: StageContext) -> dict[str, str | None]:
    """The training stage's environment, with the key its `swanlab_token` argument routes."""
    train = _training(ctx)
    if train is None:
        return ctx.env({}, None)
    return ctx.env({**train.env, **secrets.routed_env(train.args)}, train.venv)


def _python(ctx: StageContext) -> str:
    """The training stage's Python (it has swanlab for --report_to), else swiftpipe's own."""
    train = _training(ctx)
    if train is not None and train.venv is not None:
        return str(ctx.pipeline.path(train.venv) / "bin" / "python")
    return sys.executable
