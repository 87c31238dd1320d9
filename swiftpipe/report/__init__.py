"""The run report: <workdir>/report/index.html (self-contained) and report.md, with PNG charts.

`write_report` is called by the runner at the end of every `swiftpipe run` that
has a deploy or eval stage, and by `swiftpipe report`. Without matplotlib the
report is written without charts.
"""

from __future__ import annotations

from pathlib import Path

from swiftpipe.core.fsio import atomic_write_text
from swiftpipe.engine.manifest import Manifest
from swiftpipe.engine.pipeline import LoadedPipeline
from swiftpipe.report import markdown, plots, render
from swiftpipe.report.collect import collect


def write_report(pipeline: LoadedPipeline, manifest: Manifest) -> Path:
    """Write the report files and return the path of index.html."""
    out_dir = pipeline.workdir / "report"
    out_dir.mkdir(parents=True, exist_ok=True)
    data = collect(pipeline, manifest, out_dir)
    scores = plots.score_chart(data, out_dir / "scores.png")
    images = ([scores] if scores else []) + plots.loss_charts(data, out_dir)
    images += plots.sweep_charts(data.experiments, out_dir)
    atomic_write_text(out_dir / "report.md", markdown.markdown(data, images))
    index = out_dir / "index.html"
    atomic_write_text(index, render.html(data, images))
    return index
