"""Run `evalscope eval` once and read its report files; shared by the eval and base-eval kinds.

Scores are read from evalscope's report files, never from its console. A run whose
requests failed or whose report is incomplete fails the stage (unless `ignore_errors:
true`): a zero from a dead server is not a result. When one dataset fails, the scores of
those that finished are kept in the manifest and shown, the failed one is named with its
error and a hint, and the next attempt evaluates only what did not finish (reuse.py).
"""

from __future__ import annotations

import shutil
from collections import deque
from pathlib import Path
from typing import Any

from swiftpipe.core import console, fsio
from swiftpipe.core.errors import StageFailed
from swiftpipe.engine.fingerprint import dir_digest, file_digest
from swiftpipe.engine.stage import StageContext
from swiftpipe.evaluation import failure, reuse
from swiftpipe.evaluation.benchmarks import Conversion, convert
from swiftpipe.evaluation.context import overflow
from swiftpipe.evaluation.evalcommand import generation_config, only
from swiftpipe.evaluation.evalreport import DatasetReport, dataset_problems, problems, read_reports
from swiftpipe.evaluation.settings import EvalSettings

TAIL_LINES = 400  # evalscope's traceback ends its output; the error is its last line
DATASETS_CACHE = ".datasets-cache"  # under the stage folder: see datasets_cache()


def evaluate(
    ctx: StageContext, settings: EvalSettings, argv: list[str], env: dict[str, str], work_dir: Path,
    keys: dict[str, str] | None = None, aside: Path | None = None,
) -> dict[str, DatasetReport]:
    """Run one evalscope command through the stage's launcher; its reports by dataset.

    `keys` identify each dataset's settings; with `aside` (the earlier attempt's folder) a
    failed attempt's finished datasets with unchanged keys are carried over, not re-run."""
    expected, keys = list(settings.datasets), keys or {}
    kept = reuse.reusable(ctx, keys, aside)
    reuse.carry(kept, work_dir)
    todo = [n for n in expected if n not in kept]
    if kept:
        rest = f"; evaluating {', '.join(todo)}" if todo else ""
        console.info(f"kept from the failed last attempt (same settings): {', '.join(kept)}{rest}")
    lines: deque[str] = deque(maxlen=TAIL_LINES)
    rc = _launch(ctx, only(argv, todo) if kept else argv, env, lines) if todo else 0
    try:
        reports = read_reports(work_dir)
    except (OSError, ValueError) as exc:
        raise StageFailed(f"cannot read evalscope's reports in {work_dir}: {exc}", rc) from None
    issues = dataset_problems(reports, expected)
    if rc == 0 and not any(issues.values()):
        return reports
    if settings.ignore_errors:
        for problem in ([f"evalscope exited with code {rc}"] if rc else []) + problems(reports, expected):
            console.notice(f"{problem} (ignored: {ctx.where}.ignore_errors is true)")
        return reports
    finished = [n for n in expected if not issues[n]]
    keep_finished(ctx, {n: reports[n] for n in finished}, work_dir, keys)
    failed, not_run = failure.failures(list(lines), expected, issues, rc)
    ctx.report_output("failed", {**{f.dataset: f.error for f in failed}, **{n: "not run" for n in not_run}})
    if failed:
        raise StageFailed(failure.message(failed, not_run, finished, ctx.where), rc)
    error = fsio.error_line(list(lines))
    raise StageFailed(f"evalscope exited with code {rc} after every dataset reported"
                      f"{': ' + error if error else ''} (set {ctx.where}.ignore_errors: true to accept this)", rc)


def _launch(ctx: StageContext, argv: list[str], env: dict[str, str], lines: deque[str]) -> int:
    cache = datasets_cache(ctx.stage_dir)
    try:
        return ctx.launcher.run(argv, {**env, "HF_DATASETS_CACHE": str(cache)}, ctx.log_path(),
                                echo=ctx.options.echo, on_line=lines.append)
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def datasets_cache(stage_dir: Path) -> Path:
    """The `datasets` cache evalscope gets: the stage's own, new on every attempt.

    evalscope loads a local benchmark folder (CMMLU, C-Eval, any HF-layout local_path) with
    `datasets.load_dataset`, whose cache entry is named after the folder and its file list,
    not its content: every converted `cmmlu/` folder maps to one entry, and the first one a
    machine loads is what all later ones score. The stage folder is moved aside before each
    attempt, so a cache inside it cannot hold another folder's, run's or workdir's rows; the
    user's own cache is neither read nor written. It is removed once evalscope is done."""
    return stage_dir / DATASETS_CACHE


def keep_finished(ctx: StageContext, reports: dict[str, DatasetReport], work_dir: Path, keys: dict[str, str]) -> None:
    """Record and show the scores of the datasets that finished before the stage fails."""
    for key, value in score_outputs(reports, work_dir, keys).items():
        ctx.report_output(key, value)
    for name, report in reports.items():
        score = "n/a" if report.primary_score is None else f"{report.primary_score:.4f}"
        console.info(f"{name}: {report.primary} {score} (finished; kept in the manifest)")


def score_outputs(reports: dict[str, DatasetReport], work_dir: Path, keys: dict[str, str] | None = None) -> dict[
        str, Any]:
    return {
        "scores": {n: r.scores for n, r in reports.items()},
        "primary": {n: {"metric": r.primary, "score": r.primary_score} for n, r in reports.items()},
        "subsets": {n: r.subsets for n, r in reports.items() if r.subsets},
        "reports": [r.path for r in reports.values()],
        "work_dir": str(work_dir),
        "dataset_keys": {n: k for n, k in (keys or {}).items() if n in reports},
    }


def data_digests(datasets: dict[str, Any]) -> dict[str, Any]:
    """Digests of the local benchmark files: changing them changes the scores."""
    out = {}
    for name, args in datasets.items():
        if "local_path" in args:
            path = Path(args["local_path"])
            out[name] = dir_digest(path) if path.is_dir() else file_digest(path)
    return out


def move_aside(path: Path) -> Path | None:
    """Earlier results are kept: evalscope would mix old reports with new ones; where they went."""
    aside = fsio.move_aside(path)
    if aside is not None:
        console.notice(f"moved the earlier {path.name}/ aside to {aside.name}/")
    return aside


def prepared(ctx: StageContext, conversions: list[Conversion]) -> dict[str, Any]:
    """Convert the CSV folders the plan found (after the stage folder was moved aside); what
    was done, also recorded at once so that a failed attempt keeps it."""
    if not conversions:
        return {}
    for conversion in conversions:
        files = convert(conversion.bench, conversion.target)
        console.info(f"{conversion.dataset}: wrote {len(files)} files for evalscope into {conversion.target}")
    done = {"benchmarks": {c.dataset: c.outputs() for c in conversions}}
    ctx.report_output("benchmarks", done["benchmarks"])
    return done


def fits(ctx: StageContext, settings: EvalSettings, conversions: list[Conversion], model_dir: Path) -> None:
    """A notice when a converted benchmark's longest prompt will not fit the served model."""
    max_tokens = int(generation_config(settings).get("max_tokens") or 0)
    for note in overflow(conversions, settings.datasets, max_tokens, model_dir, ctx.where):
        console.notice(note)
