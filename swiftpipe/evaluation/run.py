"""Run `evalscope eval` once and read its report files; shared by the eval and base-eval kinds.

Scores are read from evalscope's report files, never from its console. A run whose
requests failed or whose report is incomplete fails the stage (unless `ignore_errors:
true`): a zero from a dead server is not a result.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from swiftpipe import console
from swiftpipe.engine.fingerprint import dir_digest, file_digest
from swiftpipe.engine.stage import StageContext
from swiftpipe.errors import StageFailed
from swiftpipe.evaluation.evalreport import DatasetReport, problems, read_reports
from swiftpipe.evaluation.settings import EvalSettings


def evaluate(
    ctx: StageContext, settings: EvalSettings, argv: list[str], env: dict[str, str], work_dir: Path
) -> dict[str, DatasetReport]:
    """Run one evalscope command through the stage's launcher; its reports by dataset."""
    rc = ctx.launcher.run(argv, env, ctx.log_path(), echo=ctx.options.echo)
    try:
        reports = read_reports(work_dir)
    except (OSError, ValueError) as exc:
        raise StageFailed(f"cannot read evalscope's reports in {work_dir}: {exc}", rc) from None
    found = ([f"evalscope exited with code {rc}"] if rc != 0 else []) + problems(reports, list(settings.datasets))
    if found and not settings.ignore_errors:
        raise StageFailed("; ".join(found) + f" (set {ctx.where}.ignore_errors: true to accept this)", rc)
    for problem in found:
        console.notice(f"{problem} (ignored: {ctx.where}.ignore_errors is true)")
    return reports


def score_outputs(reports: dict[str, DatasetReport], work_dir: Path) -> dict[str, Any]:
    return {
        "scores": {n: r.scores for n, r in reports.items()},
        "primary": {n: {"metric": r.primary, "score": r.primary_score} for n, r in reports.items()},
        "reports": [r.path for r in reports.values()],
        "work_dir": str(work_dir),
    }


def data_digests(datasets: dict[str, Any]) -> dict[str, Any]:
    """Digests of the local benchmark files: changing them changes the scores."""
    out = {}
    for name, args in datasets.items():
        if "local_path" in args:
            path = Path(args["local_path"])
            out[name] = dir_digest(path) if path.is_dir() else file_digest(path)
    return out


def move_aside(path: Path) -> None:
    """Earlier results are kept: evalscope would mix old reports with new ones."""
    if path.exists():
        aside = path.with_name(f"{path.name}.stale-{time.strftime('%Y%m%d-%H%M%S')}")
        console.notice(f"moving the earlier {path.name}/ aside to {aside.name}/")
        os.replace(path, aside)
