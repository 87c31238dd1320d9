"""The report as one self-contained HTML page (inline CSS, images embedded, no scripts)."""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from swiftpipe.report.exptable import ExpTable, cell
from swiftpipe.report.fmt import dur, num, pretty_metric, reads
from swiftpipe.report.markdown import RESULTS_HEAD, data_text, eval_heading, infer_heading, result_cells
from swiftpipe.report.model import EvalTable, InferSummary, ReportData, ResultRow, ScoreRow, VariantTable
from swiftpipe.report.stagegraph import tree_lines

__all__ = ["data_html", "eval_html", "experiments_html", "html", "infer_html", "pretty_metric", "results_html",
           "stages_html", "variants_html"]

CSS = """
:root { --ink:#1f2937; --muted:#6b7280; --line:#e5e7eb; --bg:#f8fafc; --card:#fff; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font:15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif; }
main { max-width: 1040px; margin: 0 auto; padding: 32px 24px 48px; }
header h1 { margin:0 0 4px; font-size:26px; letter-spacing:-0.01em; }
header p { margin:0; color:var(--muted); font-size:13px; }
section { background:var(--card); border:1px solid var(--line); border-radius:12px;
  padding:20px 22px; margin-top:20px; box-shadow:0 1px 2px rgba(0,0,0,.03); }
h2 { font-size:16px; margin:0 0 14px; }
table { width:100%; border-collapse:collapse; font-size:14px; }
th { text-align:left; color:var(--muted); font-weight:600; font-size:12px; text-transform:uppercase;
  letter-spacing:.04em; border-bottom:1px solid var(--line); padding:6px 10px; }
td { border-bottom:1px solid var(--line); padding:8px 10px; vertical-align:top; }
tr:last-child td { border-bottom:none; }
td.num { text-align:right; font-variant-numeric: tabular-nums; }
.pill { display:inline-block; padding:1px 10px; border-radius:999px; font-size:12px; font-weight:600; }
.succeeded { background:#d1fae5; color:#065f46; } .skipped { background:#e0e7ff; color:#3730a3; }
.failed, .crashed { background:#fee2e2; color:#991b1b; } .interrupted { background:#fef3c7; color:#92400e; }
.running, .pending { background:#f3f4f6; color:#374151; }
.up { color:#047857; font-weight:600; } .down { color:#b91c1c; font-weight:600; }
.charts { display:grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap:16px; }
.charts img { width:100%; border:1px solid var(--line); border-radius:8px; }
.flag { background:#fffbeb; border:1px solid #fcd34d; color:#92400e; border-radius:8px;
  padding:10px 14px; margin-top:12px; font-size:14px; }
.meta { display:flex; flex-wrap:wrap; gap:8px 24px; color:var(--muted); font-size:13px; }
.meta b { color:var(--ink); font-weight:600; }
a { color:#2563eb; text-decoration:none; } a:hover { text-decoration:underline; }
.msg { color:var(--muted); font-size:12px; }
ul.links { margin:0; padding-left:18px; }
pre.graph { margin:14px 0 0; padding:12px 14px; background:var(--bg); border-radius:8px; font-size:13px; }
td.text { white-space:pre-wrap; word-break:break-word; }
h3 { font-size:14px; margin:18px 0 8px; }
.wide { overflow-x:auto; }
"""


def _img(path: Path) -> str:
    encoded = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{escape(path.stem)}" src="data:image/png;base64,{encoded}">'


def _delta_cell(row: ScoreRow) -> str:
    delta = row.delta
    css = "" if delta is None or abs(delta) < 1e-9 else (' class="num up"' if delta > 0 else ' class="num down"')
    return f"<td{css or ' class=num'}>{num(delta, True)}</td>"


def _metric(key: str) -> str:
    return f"<td title='{escape(key)}'>{escape(pretty_metric(key))}</td>"


def stages_html(data: ReportData, link: str = "") -> str:
    """The stages table and graph; `link` goes before each log's path (the UI serves files under /files/)."""
    rows = []
    for s in data.stages:
        log = f'<a href="{escape(link + s.log)}">log</a>' if s.log else ""
        msg = f'<div class="msg">{escape(s.message)}</div>' if s.message else ""
        rows.append(
            f"<tr><td><b>{escape(s.name)}</b>{msg}</td><td>{escape(s.kind)}</td><td>{escape(reads(s) or '–')}</td>"
            f"<td><span class='pill {escape(s.status)}'>{escape(s.status)}</span></td>"
            f"<td>{escape(s.started or '–')}</td><td class=num>{dur(s.duration_s)}</td>"
            f"<td class=num>{s.attempts}</td><td>{log}</td></tr>"
        )
    head = ("<tr><th>stage</th><th>kind</th><th>reads from</th><th>status</th><th>started</th>"
            "<th>duration</th><th>attempts</th><th></th></tr>")
    graph = ""
    if any(s.upstream for s in data.stages):
        graph = f"<pre class=graph>{escape(chr(10).join(tree_lines(data.stages)))}</pre>"
    return f"<section><h2>Stages</h2><table>{head}{''.join(rows)}</table>{graph}</section>"


def data_html(data: ReportData) -> str:
    if not data.data:
        return ""
    return f"<section><h2>Data</h2>{''.join(f'<p>{escape(data_text(d))}</p>' for d in data.data)}</section>"


def _scores_html(rows_in: list[ScoreRow], compared: bool, second: str = "metric") -> str:
    head = f"<tr><th>dataset</th><th>{second}</th>" + (
        "<th>base</th><th>fine-tuned</th><th>delta</th>" if compared else "<th>score</th>"
    ) + "</tr>"
    rows = []
    for r in rows_in:
        label = _metric(r.metric) if second == "metric" else f"<td>{escape(r.metric)}</td>"
        cells = f"<td><b>{escape(r.dataset)}</b></td>{label}"
        if compared:
            cells += f"<td class=num>{num(r.base)}</td><td class=num>{num(r.finetuned)}</td>{_delta_cell(r)}"
        else:
            cells += f"<td class=num>{num(r.finetuned)}</td>"
        rows.append(f"<tr>{cells}</tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def eval_html(data: ReportData, table: EvalTable) -> str:
    subsets = f"<h3>per subject</h3>{_scores_html(table.subsets, table.compared, 'subject')}" if table.subsets else ""
    flags = "".join(f'<div class="flag">⚠ {escape(f)}</div>' for f in table.flags)
    heading = escape(eval_heading(data, table))
    return f"<section><h2>{heading}</h2>{_scores_html(table.rows, table.compared)}{subsets}{flags}</section>"


def results_html(rows: list[ResultRow]) -> str:
    if not rows:
        return ""
    head = "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in RESULTS_HEAD) + "</tr>"
    body = "".join("<tr>" + "".join(f"<td{'' if i in (0, 4, 5) else ' class=num'}>{escape(c)}</td>"
                                    for i, c in enumerate(result_cells(r))) + "</tr>" for r in rows)
    return f"<section><h2>Results</h2><table>{head}{body}</table></section>"


def variants_html(table: VariantTable | None) -> str:
    if table is None:
        return ""
    head = "<tr><th>dataset</th><th>metric</th>" + "".join(f"<th>{escape(c)}</th>" for c in table.columns) + "</tr>"
    rows = []
    for r in table.rows:
        tuned = [v for v in r.values[table.base_columns:] if v is not None]
        best = max(tuned) if len(tuned) > 1 else None
        cells = "".join(f"<td class=num>{'<b>' + num(v) + '</b>' if v is not None and v == best else num(v)}</td>"
                        for v in r.values)
        rows.append(f"<tr><td><b>{escape(r.dataset)}</b></td>{_metric(r.metric)}{cells}</tr>")
    return f"<section><h2>Variants</h2><table>{head}{''.join(rows)}</table></section>"


def experiments_html(table: ExpTable | None) -> str:
    """The `swiftpipe exps` table: id, name, when, status, the parameters that differ, the metrics."""
    if table is None or not table.rows:
        return ""
    head = "".join(f"<th>{escape(h)}</th>" for h in ("id", "name", "when", "status", *table.params, *table.metrics))
    body = "".join(
        f"<tr><td>{escape(r.id)}</td><td>{escape(r.name or '-')}</td><td>{escape(r.when)}</td>"
        f"<td><span class='pill {escape(r.status)}'>{escape(r.status)}</span></td>"
        + "".join(f"<td>{escape(cell(r.params.get(k)))}</td>" for k in table.params)
        + "".join(f"<td class=num>{escape(cell(r.metrics.get(k)))}</td>" for k in table.metrics) + "</tr>"
        for r in table.rows)
    return f"<section><h2>Experiments</h2><div class=wide><table><tr>{head}</tr>{body}</table></div></section>"


def infer_html(row: InferSummary, prefix: str = "") -> str:
    count = "?" if row.rows is None else str(row.rows)
    link = f' · <a href="{escape(prefix + row.results)}">{escape(Path(row.results).name)}</a>' if row.results else ""
    sample = ""
    if row.sample:
        cells = "".join(f"<tr><td class=text>{escape(q)}</td><td class=text>{escape(a)}</td></tr>"
                        for q, a in row.sample)
        sample = f"<h3>sample</h3><table><tr><th>query</th><th>response</th></tr>{cells}</table>"
    return f"<section><h2>{escape(infer_heading(row))}</h2><p>{count} rows{link}</p>{sample}</section>"


def html(data: ReportData, images: list[Path]) -> str:
    meta = [f"<span>pipeline <b>{escape(data.pipeline)}</b></span>",
            f"<span>workdir <b>{escape(data.workdir)}</b></span>"]
    if data.git:
        meta.append(f"<span>git <b>{escape(data.git)}</b></span>")
    for stage, state in data.servers:
        label = "server" if len(data.servers) == 1 else f"server {stage}"
        meta.append(f"<span>{escape(label)} <b>{escape(state)}</b></span>")
    versions = ", ".join(f"{k} {v}" for k, v in data.versions.items())
    charts = f"<section><h2>Charts</h2><div class=charts>{''.join(_img(p) for p in images)}</div></section>"
    links = "".join(f'<li><a href="{escape(href)}">{escape(label)}</a></li>' for label, href in data.links)
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(data.title)} · swiftpipe"
        f"</title><meta name=viewport content='width=device-width, initial-scale=1'><style>{CSS}</style>"
        f"</head><body><main><header><h1>{escape(data.title)}</h1><p>swiftpipe report · {escape(data.generated)}"
        f"{' · ' + escape(versions) if versions else ''}</p></header>"
        f"<section><div class=meta>{''.join(meta)}</div></section>"
        f"{results_html(data.results)}"
        f"{''.join(eval_html(data, t) for t in data.evals)}{variants_html(data.variants)}"
        f"{charts if images else ''}{''.join(infer_html(r) for r in data.infers)}"
        f"{data_html(data)}{stages_html(data)}{experiments_html(data.experiments)}"
        f"{'<section><h2>Files</h2><ul class=links>' + links + '</ul></section>' if links else ''}"
        "</main></body></html>\n"
    )
