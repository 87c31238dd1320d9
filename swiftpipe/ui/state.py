"""What the run view shows, read afresh from the workdir on every request.

The sections are the static report's own (report/collect.py, render.py, figures.py), so the page
and `report/index.html` never disagree; only the links point at the UI's /files/ route.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path
from typing import Any

from swiftpipe.core.errors import UserError
from swiftpipe.engine.manifest import Manifest, load_manifest
from swiftpipe.engine.pipeline import LoadedPipeline
from swiftpipe.report import render
from swiftpipe.report.collect import collect
from swiftpipe.report.figures import loss_figure, score_figure
from swiftpipe.report.model import ReportData
from swiftpipe.ui.files import OutsideWorkdir, inside, relative_href, tail_text

FILES = "/files/"


def read_manifest(workdir: Path) -> Manifest | None:
    """The manifest with the records jobs wrote since; `UserError` saying what is wrong with it."""
    if workdir.exists() and not workdir.is_dir():
        raise UserError(f"{workdir}: not a folder; the pipeline's workdir must be one")
    try:
        return load_manifest(workdir)
    except OSError as exc:
        raise UserError(f"{workdir}: unreadable ({exc.strerror or exc})") from None


def run_state(loaded: LoadedPipeline, command: str) -> dict[str, Any]:
    """The run view as JSON: `error` (a line) or `empty` (nothing ran yet), else sections and figures."""
    try:
        manifest = read_manifest(loaded.workdir)
    except UserError as exc:
        return {"error": str(exc)}
    if manifest is None:
        return {"empty": f"nothing has run in {loaded.workdir} yet; start it with: {command}"}
    data = collect(loaded, manifest, loaded.workdir)
    links = [(label, FILES + href) for label, href in data.links if not href.startswith("..")]
    links += [link for link in artifacts(manifest, loaded.workdir) if link not in links]
    return {"stages": [{"name": s.name, "kind": s.kind, "status": s.status, "attempts": s.attempts,
                        "duration_s": s.duration_s} for s in data.stages],
            "html": _sections(data, links), "figures": _figures(data),
            "logs": [n for n, r in manifest.stages.items() if r.log], "active": _active(manifest)}


def artifacts(manifest: Manifest, workdir: Path) -> list[tuple[str, str]]:
    """(label, /files/ address) of every output path a stage recorded that lies in the workdir."""
    found = []
    for name, record in manifest.stages.items():
        for key, value in record.outputs.items():
            if isinstance(value, str) and value.startswith("/") and Path(value).exists():
                href = relative_href(workdir, value)
                found += [(f"{name}: {key}", href)] if href else []
    return found


def _sections(data: ReportData, links: list[tuple[str, str]]) -> dict[str, str]:
    items = "".join(f'<li><a href="{escape(href)}">{escape(label)}</a></li>' for label, href in links)
    return {"stages": render.stages_html(data, FILES),
            "results": render.results_html(data.results),
            "evals": "".join(render.eval_html(data, t) for t in data.evals) + render.variants_html(data.variants),
            "infers": "".join(render.infer_html(r, FILES) for r in data.infers),
            "data": render.data_html(data),
            "files": f"<section><h2>Files</h2><ul class=links>{items}</ul></section>" if items else ""}


def _figures(data: ReportData) -> list[dict[str, Any]]:
    several = len(data.losses) > 1
    figures = [{"id": "loss-" + re.sub(r"[^A-Za-z0-9_-]+", "-", c.stage),
                "spec": loss_figure(c, f"Loss: {c.stage}" if several else "Loss")} for c in data.losses]
    scores = score_figure(data)
    return figures + ([{"id": "scores", "spec": scores}] if scores else [])


def _active(manifest: Manifest) -> str | None:
    """The stage whose log the page shows first: the running one, else the last that has a log."""
    with_log = [n for n, r in manifest.stages.items() if r.log]
    running = [n for n in with_log if str(manifest.stages[n].status) == "running"]
    chosen = running or with_log
    return chosen[-1] if chosen else None


def log_tail(workdir: Path, stage: str) -> str | None:
    """The end of `stage`'s log; None when the stage, its log, or a log inside the workdir is missing."""
    try:
        manifest = read_manifest(workdir)
    except UserError:
        return None
    record = manifest.stages.get(stage) if manifest else None
    if record is None or not record.log:
        return None
    try:
        path = inside(workdir, str(Path(record.log).resolve().relative_to(workdir.resolve())))
    except (ValueError, OutsideWorkdir):
        return None
    return tail_text(path)
