"""`swiftpipe exps list|show|diff`: the experiments recorded under a pipeline's workdir."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from swiftpipe.core.errors import UserError
from swiftpipe.engine.experiments import Experiment, experiments_dir, list_experiments, shown, where_now
from swiftpipe.engine.manifest import load_manifest
from swiftpipe.engine.prune import Prune, apply_prune, human, plan_prune
from swiftpipe.loading import load_pipeline

FIXED = ("id", "name", "when", "status")
_MISSING = object()


def exps_list(pipeline: Path, *, overrides: list[str], fmt: str = "table", sort: str | None = None,
              ascending: bool = False) -> int:
    """One row per experiment: id, name, when, status, the parameters that differ, the metrics."""
    loaded = load_pipeline(pipeline, overrides)
    found = list_experiments(loaded.workdir)
    if not found:
        click.echo(f"no experiments in {experiments_dir(loaded.workdir)} yet")
        return 0
    params = changed_params(found)
    metrics = list(dict.fromkeys(key for e in found for key in e.metrics()))
    if sort is not None:
        found = _sorted(found, sort, metrics, ascending)
    click.echo(_render(fmt, found, params, metrics), nl=False)
    return 0


def _render(fmt: str, found: list[Experiment], params: list[str], metrics: list[str]) -> str:
    if fmt == "json":
        return json.dumps([_json(e, params, metrics) for e in found], indent=2, default=str) + "\n"
    rows = [_row(e, params, metrics) for e in found]
    if fmt == "csv":
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([[*FIXED, *params, *metrics],
                                                       *([_csv(v) for v in row] for row in rows)])
        return out.getvalue()
    return _table([(*FIXED, *params, *metrics), *([_cell(v) for v in row] for row in rows)]) + "\n"


def _json(e: Experiment, params: list[str], metrics: list[str]) -> dict[str, Any]:
    scores = e.metrics()
    return {"id": e.id, "name": e.name, "started": e.started, "ended": e.ended, "status": e.outcome,
            "params": {k: e.config.get(k) for k in params}, "metrics": {k: scores.get(k) for k in metrics}}


def exps_show(exp_id: str, pipeline: Path, *, overrides: list[str]) -> int:
    """Everything about one experiment, with the paths of its files."""
    loaded = load_pipeline(pipeline, overrides)
    e = where_now(find(exp_id, loaded.workdir, loaded.display_name), loaded.workdir)
    click.echo(f"experiment {e.id}" + (f" ({e.name})" if e.name else ""))
    lines = [("status", e.outcome), ("started", e.started), ("ended", e.ended), ("pipeline", e.pipeline),
             ("profile", e.profile or "-"), ("--set", " ".join(e.overrides) or "-"),
             ("git", f"{e.git_commit or '-'}{' (dirty)' if e.git_dirty else ''}"),
             ("record", str(experiments_dir(loaded.workdir) / f"{e.id}.json"))]
    click.echo(_table([(f"  {k}", v) for k, v in lines]))
    for name, run in e.stages.items():
        took = "-" if run.duration_s is None else f"{run.duration_s:.1f} s"
        click.echo(f"\nstage {name} ({run.kind}): {run.status}, {took}, fingerprint {run.fingerprint or '-'}")
        if run.outputs.get("winner"):
            click.echo(f"  {_chose(run.outputs)}")
        for key, value in {**run.metrics, **run.outputs}.items():
            click.echo(f"  {key}: {_cell(value)}")
    click.echo("\nconfiguration:")
    for key, value in e.config.items():
        click.echo(f"  {key}: {_cell(value)}")
    return 0


def _chose(picked: dict[str, Any]) -> str:
    """A select stage's pick in words: which candidate, on what, by how much over which."""
    variant = f" (variant {picked['variant']})" if picked.get("variant") else ""
    best = "highest" if picked.get("mode") == "max" else "lowest"
    line = (f"chose {picked['winner']}{variant}: {picked.get('metric')} {_cell(picked.get('value'))}, the {best} "
            f"of {len(picked.get('candidates') or {})}")
    if picked.get("runner_up"):
        line += f", {_cell(picked.get('margin'))} ahead of {picked['runner_up']}"
    return f"{line}; model {picked.get('model_dir')}"


def exps_diff(a: str, b: str, pipeline: Path, *, overrides: list[str]) -> int:
    """The parameters that changed from A to B (old -> new) and each metric's change."""
    loaded = load_pipeline(pipeline, overrides)
    old, new = (find(i, loaded.workdir, loaded.display_name) for i in (a, b))
    params = changed_params([old, new])
    click.echo(f"parameters ({old.id} -> {new.id}):" if params else "parameters: none changed")
    for key in params:
        click.echo(f"  {key}: {_cell(old.config.get(key, _MISSING))} -> {_cell(new.config.get(key, _MISSING))}")
    before, after = old.metrics(), new.metrics()
    keys = list(dict.fromkeys([*before, *after]))
    click.echo("metrics:" if keys else "metrics: none")
    for key in keys:
        x, y = before.get(key, _MISSING), after.get(key, _MISSING)
        click.echo(f"  {key}: {_cell(x)} -> {_cell(y)}{_delta(x, y)}")
    return 0


def exps_rm(ids: Sequence[str], pipeline: Path, *, overrides: list[str], yes: bool = False,
            interactive: bool = False) -> int:
    """Remove experiments: their records and the files only they use; says what it frees.

    Without `yes` it asks first, which needs a terminal (`interactive`)."""
    loaded = load_pipeline(pipeline, overrides)
    removed = {e.id: e for e in (find(i, loaded.workdir, loaded.display_name) for i in ids)}
    kept = [e for e in list_experiments(loaded.workdir) if e.id not in removed]
    prune = plan_prune(loaded.workdir, list(removed.values()), kept, load_manifest(loaded.workdir))
    if not yes and not interactive:
        raise UserError("exps rm: no terminal to confirm on; add --yes to remove without asking")
    _describe(prune)
    if not yes and not click.confirm(f"remove {_count(len(removed), 'experiment')}?", default=False):
        click.echo("nothing removed")
        return 1
    apply_prune(loaded.workdir, prune)
    click.echo(f"removed {_count(len(removed), 'experiment')} and {_count(len(prune.paths), 'path')}; "
               f"freed {human(prune.freed)}")
    return 0


def _describe(prune: Prune) -> None:
    click.echo(f"experiments: {' '.join(e.id for e in prune.removed)}")
    rows = [(f"  {human(n)}", str(p)) for p, n in prune.paths.items()]
    click.echo("files only they use:" if rows else "files only they use: none")
    if rows:
        click.echo(_table([(size.rjust(max(len(r[0]) for r in rows)), path) for size, path in rows]))
    for path, why in prune.kept.items():
        click.echo(f"kept {path}: {why}")


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def find(exp_id: str, workdir: Path, display_name: str) -> Experiment:
    """The experiment `exp_id` of `workdir`; a UserError naming the fix when there is none."""
    for e in list_experiments(workdir):
        if e.id == exp_id:
            return e
    raise UserError(f"{exp_id}: no such experiment in {experiments_dir(workdir)}; "
                    f"list them with: swiftpipe exps list {display_name}")


def changed_params(found: Sequence[Experiment]) -> list[str]:
    """The config keys whose values are not the same in every experiment (a missing key counts as a value)."""
    keys = dict.fromkeys(key for e in found for key in e.config)
    return [k for k in keys if len({json.dumps(e.config.get(k, "<missing>"), default=str) for e in found}) > 1]


def _sorted(found: list[Experiment], metric: str, known: list[str], ascending: bool) -> list[Experiment]:
    if metric not in known:
        raise UserError(f"--sort {metric}: no such metric in these experiments; "
                        f"choose one of {', '.join(known) or '(none)'}")
    have = [e for e in found if isinstance(e.metrics().get(metric), int | float)]
    have.sort(key=lambda e: e.metrics()[metric], reverse=not ascending)
    return have + [e for e in found if e not in have]  # those without it last, oldest first


def _row(e: Experiment, params: list[str], metrics: list[str]) -> list[Any]:
    when = e.started[:16].replace("T", " ")
    scores = e.metrics()
    return [e.id, e.name or _MISSING, when, e.outcome, *(e.config.get(k, _MISSING) for k in params),
            *(scores.get(k, _MISSING) for k in metrics)]


def _cell(value: Any) -> str:
    return shown(None if value is _MISSING else value)


def _csv(value: Any) -> str:
    if value is _MISSING or value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _delta(x: Any, y: Any) -> str:
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (x, y))
    return f" ({y - x:+.4g})" if numbers else ""


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows)
