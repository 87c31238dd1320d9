"""The report as Markdown (report.md): the same sections as index.html, charts as image links.

Everything swiftpipe did not write itself (pipeline, stage, dataset and metric names, paths,
URLs, model output) goes through `md_text`, `md_code` or `md_href`, so it shows as typed and
can neither format the page nor add links, images or HTML to it.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path
from urllib.parse import quote

from swiftpipe.report.exptable import ExpTable, cell
from swiftpipe.report.fmt import dur, num, pretty_metric, reads, shorten
from swiftpipe.report.model import DataRows, EvalTable, InferSummary, ReportData, ResultRow, ScoreRow, VariantTable
from swiftpipe.report.stagegraph import tree_lines

# Markdown punctuation that opens a construct anywhere in a line; `_` only at a word's edge
# (inside a word, as in general_mcq, it is plain text and stays readable).
_SPECIAL = re.compile(r"[\\`*\[\]~#|]|(?<![^\W_])_|_(?![^\W_])")


def md_text(text: str) -> str:
    """`text` on one line, shown as typed in running text, a heading or a table cell."""
    escaped = escape(_SPECIAL.sub(lambda m: "\\" + m.group(), text), quote=False)
    return " ".join(escaped.split())


def md_code(text: str) -> str:
    """`text` as a code span (backslashes do not escape there: the fence outgrows every run of backticks)."""
    text = " ".join(text.splitlines())
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_href(target: str) -> str:
    """A link target: percent-encoded, so it cannot end the link or name a scheme (`javascript:`)."""
    return quote(target, safe="/")


def eval_heading(data: ReportData, table: EvalTable) -> str:
    """`Evaluation` for a pipeline's only eval stage, else `Evaluation: eval_a (sft_a)`."""
    if len(data.evals) == 1:
        return "Evaluation"
    return f"Evaluation: {table.stage}" + (f" ({table.label})" if table.label != table.stage else "")


def infer_heading(row: InferSummary) -> str:
    return "Inference" if row.stage == row.kind else f"Inference: {row.stage}"


def data_text(d: DataRows) -> str:
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(d.reasons.items())) or "none"
    check = "rows in = train + val + rejected" if d.invariant_ok else "row accounting does NOT add up"
    prefix = "" if d.stage == d.kind else f"{d.stage}: "
    return (f"{prefix}{d.rows_in} rows in: {d.train} train, {d.val} validation, {d.rejected} rejected "
            f"({reasons}); {check}")


def _label(r: ScoreRow, second: str) -> str:
    return md_text(pretty_metric(r.metric) if second == "metric" else r.metric)


def _score_table(rows: list[ScoreRow], compared: bool, second: str = "metric") -> list[str]:
    if compared:
        lines = [f"| dataset | {second} | base | fine-tuned | delta |", "|---|---|---:|---:|---:|"]
        return lines + [f"| {md_text(r.dataset)} | {_label(r, second)} | {num(r.base)} | {num(r.finetuned)} | "
                        f"{num(r.delta, True)} |" for r in rows]
    lines = [f"| dataset | {second} | score |", "|---|---|---:|"]
    return lines + [f"| {md_text(r.dataset)} | {_label(r, second)} | {num(r.finetuned)} |" for r in rows]


def _eval(data: ReportData, table: EvalTable) -> list[str]:
    lines = ["", f"## {md_text(eval_heading(data, table))}", "", *_score_table(table.rows, table.compared)]
    if table.subsets:
        lines += ["", "Per subject:", "", *_score_table(table.subsets, table.compared, "subject")]
    return lines + [f"\n> warning: {md_text(f)}" for f in table.flags]


RESULTS_HEAD = ("variant", "steps", "final loss", "training time", "dataset", "metric", "base", "fine-tuned",
                "delta")


def result_cells(r: ResultRow) -> list[str]:
    """One results row as text: the same cells in the HTML and Markdown reports."""
    s = r.score
    trained = [r.variant, "–" if r.steps is None else str(r.steps), num(r.final_loss), dur(r.train_s)]
    if s is None:
        return [*trained, "–", "–", "–", "–", "–"]
    return [*trained, s.dataset, pretty_metric(s.metric), num(s.base), num(s.finetuned), num(s.delta, True)]


def experiments_lines(table: ExpTable) -> list[str]:
    """The `swiftpipe exps` table: id, name, when, status, the parameters that differ, the metrics."""
    head = ["id", "name", "when", "status", *table.params, *table.metrics]
    align = ["---"] * (4 + len(table.params)) + ["---:"] * len(table.metrics)
    rows = [[r.id, r.name or "-", r.when, r.status, *(cell(r.params.get(k)) for k in table.params),
             *(cell(r.metrics.get(k)) for k in table.metrics)] for r in table.rows]
    return ["| " + " | ".join(md_text(h) for h in head) + " |", "|" + "|".join(align) + "|",
            *("| " + " | ".join(md_text(c) for c in row) + " |" for row in rows)]


def results_lines(rows: list[ResultRow]) -> list[str]:
    lines = ["| " + " | ".join(RESULTS_HEAD) + " |", "|---|---:|---:|---:|---|---|---:|---:|---:|"]
    return lines + ["| " + " | ".join(md_text(c) for c in result_cells(r)) + " |" for r in rows]


def variants_lines(table: VariantTable) -> list[str]:
    """The side-by-side table: dataset, metric, base column(s), one column per variant."""
    lines = ["| dataset | metric | " + " | ".join(md_text(c) for c in table.columns) + " |",
             "|---|---|" + "---:|" * len(table.columns)]
    lines += [f"| {md_text(r.dataset)} | {md_text(pretty_metric(r.metric))} | "
              + " | ".join(num(v) for v in r.values) + " |" for r in table.rows]
    return lines


def _infer(row: InferSummary) -> list[str]:
    count = "?" if row.rows is None else str(row.rows)
    results = f"{count} rows: [{md_text(Path(row.results).name)}]({md_href(row.results)})" if row.results else ""
    lines = ["", f"## {md_text(infer_heading(row))}", "", results or f"{count} rows"]
    if row.sample:
        lines += ["", "| query | response |", "|---|---|"]
        lines += [f"| {md_text(shorten(q))} | {md_text(shorten(a))} |" for q, a in row.sample]
    return lines


def _stages(data: ReportData) -> list[str]:
    lines = ["", "## Stages", "", "| stage | kind | reads from | status | started | duration | log |",
             "|---|---|---|---|---|---:|---|"]
    lines += [f"| {md_text(s.name)} | {md_text(s.kind)} | {md_text(reads(s) or '–')} | {md_text(s.status)} | "
              f"{md_text(s.started or '–')} | {dur(s.duration_s)} | {f'[log]({md_href(s.log)})' if s.log else ''} |"
              for s in data.stages]
    if any(s.upstream for s in data.stages):
        tree = tree_lines(data.stages)
        fence = "`" * max([3, *(len(run) + 1 for line in tree for run in re.findall("`+", line))])
        lines += ["", fence + "text", *tree, fence]
    return lines


def markdown(data: ReportData, images: list[Path]) -> str:
    lines = [f"# {md_text(data.title)}", "", f"swiftpipe report, {md_text(data.generated)}", "",
             f"- pipeline: {md_code(data.pipeline)}", f"- workdir: {md_code(data.workdir)}"]
    lines += [f"- git: {md_text(data.git)}"] if data.git else []
    single = len(data.servers) == 1
    lines += [f"- server{'' if single else ' ' + md_text(stage)}: {md_text(state)}" for stage, state in data.servers]
    if data.results:
        lines += ["", "## Results", "", *results_lines(data.results)]
    for table in data.evals:
        lines += _eval(data, table)
    if data.variants:
        lines += ["", "## Variants", "", *variants_lines(data.variants)]
    if images:
        lines += ["", "## Charts", ""] + [f"![{md_text(p.stem)}]({md_href(p.name)})" for p in images]
    for row in data.infers:
        lines += _infer(row)
    if data.data:
        lines += ["", "## Data"]
        for d in data.data:
            lines += ["", md_text(data_text(d))]
    lines += _stages(data)
    if data.experiments and data.experiments.rows:
        lines += ["", "## Experiments", "", *experiments_lines(data.experiments)]
    if data.links:
        lines += ["", "## Files", ""] + [f"- [{md_text(label)}]({md_href(href)})" for label, href in data.links]
    return "\n".join(lines) + "\n"
