"""The report as one self-contained HTML page (inline CSS, images embedded) and as Markdown."""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from swiftpipe.report.collect import ReportData, ScoreRow

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
.failed { background:#fee2e2; color:#991b1b; } .interrupted { background:#fef3c7; color:#92400e; }
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
"""


def _num(value: float | None, sign: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:+.3f}" if sign else f"{value:.3f}"


def pretty_metric(key: str) -> str:
    """`rouge:mean[statistic="recall",variant="l"]` -> `rouge (recall, l)`; `accuracy:mean` -> `accuracy`."""
    name, _, rest = key.partition(":")
    dims = rest.partition("[")[2].rstrip("]")
    values = [d.partition("=")[2].strip('"') for d in dims.split(",") if d]
    return f"{name} ({', '.join(values)})" if values else name


def _dur(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _img(path: Path) -> str:
    encoded = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{escape(path.stem)}" src="data:image/png;base64,{encoded}">'


def _delta_cell(row: ScoreRow) -> str:
    delta = row.delta
    css = "" if delta is None or abs(delta) < 1e-9 else (' class="num up"' if delta > 0 else ' class="num down"')
    return f"<td{css or ' class=num'}>{_num(delta, True)}</td>"


def _stages_html(data: ReportData) -> str:
    rows = []
    for s in data.stages:
        log = f'<a href="{escape(s.log)}">log</a>' if s.log else ""
        msg = f'<div class="msg">{escape(s.message)}</div>' if s.message else ""
        rows.append(
            f"<tr><td><b>{escape(s.name)}</b>{msg}</td><td><span class='pill {escape(s.status)}'>"
            f"{escape(s.status)}</span></td><td>{escape(s.started or '–')}</td>"
            f"<td class=num>{_dur(s.duration_s)}</td><td class=num>{s.attempts}</td><td>{log}</td></tr>"
        )
    head = "<tr><th>stage</th><th>status</th><th>started</th><th>duration</th><th>attempts</th><th></th></tr>"
    return f"<section><h2>Stages</h2><table>{head}{''.join(rows)}</table></section>"


def _data_text(data: ReportData) -> str:
    d = data.data
    assert d is not None
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(d.reasons.items())) or "none"
    check = "rows in = train + val + rejected" if d.invariant_ok else "row accounting does NOT add up"
    return (f"{d.rows_in} rows in: {d.train} train, {d.val} validation, {d.rejected} rejected "
            f"({reasons}); {check}")


def _data_html(data: ReportData) -> str:
    return f"<section><h2>Data</h2><p>{escape(_data_text(data))}</p></section>" if data.data else ""


def _scores_html(data: ReportData) -> str:
    if not data.scores:
        return ""
    compared = any(r.base is not None for r in data.scores)
    head = "<tr><th>dataset</th><th>metric</th>" + (
        "<th>base</th><th>fine-tuned</th><th>delta</th>" if compared else "<th>score</th>"
    ) + "</tr>"
    rows = []
    for r in data.scores:
        metric = f"<td title='{escape(r.metric)}'>{escape(pretty_metric(r.metric))}</td>"
        cells = f"<td><b>{escape(r.dataset)}</b></td>{metric}"
        if compared:
            cells += f"<td class=num>{_num(r.base)}</td><td class=num>{_num(r.finetuned)}</td>{_delta_cell(r)}"
        else:
            cells += f"<td class=num>{_num(r.finetuned)}</td>"
        rows.append(f"<tr>{cells}</tr>")
    flags = "".join(f'<div class="flag">⚠ {escape(f)}</div>' for f in data.flags)
    return f"<section><h2>Evaluation</h2><table>{head}{''.join(rows)}</table>{flags}</section>"


def html(data: ReportData, images: list[Path]) -> str:
    meta = [f"<span>pipeline <b>{escape(data.pipeline)}</b></span>",
            f"<span>workdir <b>{escape(data.workdir)}</b></span>"]
    if data.git:
        meta.append(f"<span>git <b>{escape(data.git)}</b></span>")
    if data.server:
        meta.append(f"<span>server <b>{escape(data.server)}</b></span>")
    versions = ", ".join(f"{k} {v}" for k, v in data.versions.items())
    charts = f"<section><h2>Charts</h2><div class=charts>{''.join(_img(p) for p in images)}</div></section>"
    links = "".join(f'<li><a href="{escape(href)}">{escape(label)}</a></li>' for label, href in data.links)
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(data.title)} · swiftpipe"
        f"</title><meta name=viewport content='width=device-width, initial-scale=1'><style>{CSS}</style>"
        f"</head><body><main><header><h1>{escape(data.title)}</h1><p>swiftpipe report · {escape(data.generated)}"
        f"{' · ' + escape(versions) if versions else ''}</p></header>"
        f"<section><div class=meta>{''.join(meta)}</div></section>"
        f"{_scores_html(data)}{charts if images else ''}{_data_html(data)}{_stages_html(data)}"
        f"{'<section><h2>Files</h2><ul class=links>' + links + '</ul></section>' if links else ''}"
        "</main></body></html>\n"
    )


def markdown(data: ReportData, images: list[Path]) -> str:
    lines = [f"# {data.title}", "", f"swiftpipe report, {data.generated}", "",
             f"- pipeline: `{data.pipeline}`", f"- workdir: `{data.workdir}`"]
    lines += [f"- git: {data.git}"] if data.git else []
    lines += [f"- server: {data.server}"] if data.server else []
    if data.scores:
        lines += ["", "## Evaluation", "", "| dataset | metric | base | fine-tuned | delta |",
                  "|---|---|---:|---:|---:|"]
        lines += [f"| {r.dataset} | {pretty_metric(r.metric)} | {_num(r.base)} | {_num(r.finetuned)} | "
                  f"{_num(r.delta, True)} |" for r in data.scores]
        lines += [f"\n> warning: {f}" for f in data.flags]
    if images:
        lines += ["", "## Charts", ""] + [f"![{p.stem}]({p.name})" for p in images]
    if data.data:
        lines += ["", "## Data", "", _data_text(data)]
    lines += ["", "## Stages", "", "| stage | status | started | duration | log |", "|---|---|---|---:|---|"]
    lines += [f"| {s.name} | {s.status} | {s.started or '–'} | {_dur(s.duration_s)} | "
              f"{f'[log]({s.log})' if s.log else ''} |" for s in data.stages]
    if data.links:
        lines += ["", "## Files", ""] + [f"- [{label}]({href})" for label, href in data.links]
    return "\n".join(lines) + "\n"
