"""The report as Markdown (report.md): the same sections as index.html, charts as image links."""

from __future__ import annotations

from pathlib import Path

from swiftpipe.report.fmt import dur, md_cell, num, pretty_metric, reads, shorten
from swiftpipe.report.model import DataRows, EvalTable, InferSummary, ReportData, ResultRow, ScoreRow, VariantTable
from swiftpipe.report.stagegraph import tree_lines


def eval_heading(data: ReportData, table: EvalTable) -> str:
    """`Evaluation` for a pipeline's only eval stage, else `Evaluation: eval_a (sft_a)`."""
    if len(data.evals) == 1:
        return "Evaluation"
    return f"Evaluation: {table.stage}" + (f" ({table.label})" if table.label != table.stage else "")


def infer_heading(row: InferSummary) -> str:
    return "Inference" if row.stage == "infer" else f"Inference: {row.stage}"


def data_text(d: DataRows) -> str:
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(d.reasons.items())) or "none"
    check = "rows in = train + val + rejected" if d.invariant_ok else "row accounting does NOT add up"
    prefix = "" if d.stage == "data" else f"{d.stage}: "
    return (f"{prefix}{d.rows_in} rows in: {d.train} train, {d.val} validation, {d.rejected} rejected "
            f"({reasons}); {check}")


def _label(r: ScoreRow, second: str) -> str:
    return pretty_metric(r.metric) if second == "metric" else md_cell(r.metric)


def _score_table(rows: list[ScoreRow], compared: bool, second: str = "metric") -> list[str]:
    if compared:
        lines = [f"| dataset | {second} | base | fine-tuned | delta |", "|---|---|---:|---:|---:|"]
        return lines + [f"| {r.dataset} | {_label(r, second)} | {num(r.base)} | {num(r.finetuned)} | "
                        f"{num(r.delta, True)} |" for r in rows]
    lines = [f"| dataset | {second} | score |", "|---|---|---:|"]
    return lines + [f"| {r.dataset} | {_label(r, second)} | {num(r.finetuned)} |" for r in rows]


def _eval(data: ReportData, table: EvalTable) -> list[str]:
    lines = ["", f"## {eval_heading(data, table)}", "", *_score_table(table.rows, table.compared)]
    if table.subsets:
        lines += ["", "Per subject:", "", *_score_table(table.subsets, table.compared, "subject")]
    return lines + [f"\n> warning: {md_cell(f)}" for f in table.flags]


RESULTS_HEAD = ("variant", "steps", "final loss", "training time", "dataset", "metric", "base", "fine-tuned",
                "delta")


def result_cells(r: ResultRow) -> list[str]:
    """One results row as text: the same cells in the HTML and Markdown reports."""
    s = r.score
    return [r.variant, "–" if r.steps is None else str(r.steps), num(r.final_loss), dur(r.train_s), s.dataset,
            pretty_metric(s.metric), num(s.base), num(s.finetuned), num(s.delta, True)]


def results_lines(rows: list[ResultRow]) -> list[str]:
    lines = ["| " + " | ".join(RESULTS_HEAD) + " |", "|---|---:|---:|---:|---|---|---:|---:|---:|"]
    return lines + ["| " + " | ".join(md_cell(c) for c in result_cells(r)) + " |" for r in rows]


def variants_lines(table: VariantTable) -> list[str]:
    """The side-by-side table: dataset, metric, base column(s), one column per variant."""
    lines = ["| dataset | metric | " + " | ".join(md_cell(c) for c in table.columns) + " |",
             "|---|---|" + "---:|" * len(table.columns)]
    lines += [f"| {r.dataset} | {pretty_metric(r.metric)} | " + " | ".join(num(v) for v in r.values) + " |"
              for r in table.rows]
    return lines


def _infer(row: InferSummary) -> list[str]:
    count = "?" if row.rows is None else str(row.rows)
    lines = ["", f"## {infer_heading(row)}", "",
             f"{count} rows: [{Path(row.results).name}]({row.results})" if row.results else f"{count} rows"]
    if row.sample:
        lines += ["", "| query | response |", "|---|---|"]
        lines += [f"| {md_cell(shorten(q))} | {md_cell(shorten(a))} |" for q, a in row.sample]
    return lines


def _stages(data: ReportData) -> list[str]:
    lines = ["", "## Stages", "", "| stage | kind | reads from | status | started | duration | log |",
             "|---|---|---|---|---|---:|---|"]
    lines += [f"| {s.name} | {s.kind} | {reads(s) or '–'} | {s.status} | {s.started or '–'} | "
              f"{dur(s.duration_s)} | {f'[log]({s.log})' if s.log else ''} |" for s in data.stages]
    if any(s.upstream for s in data.stages):
        lines += ["", "```text", *tree_lines(data.stages), "```"]
    return lines


def markdown(data: ReportData, images: list[Path]) -> str:
    lines = [f"# {data.title}", "", f"swiftpipe report, {data.generated}", "",
             f"- pipeline: `{data.pipeline}`", f"- workdir: `{data.workdir}`"]
    lines += [f"- git: {data.git}"] if data.git else []
    single = len(data.servers) == 1
    lines += [f"- server{'' if single else ' ' + stage}: {state}" for stage, state in data.servers]
    if data.results:
        lines += ["", "## Results", "", *results_lines(data.results)]
    for table in data.evals:
        lines += _eval(data, table)
    if data.variants:
        lines += ["", "## Variants", "", *variants_lines(data.variants)]
    if images:
        lines += ["", "## Charts", ""] + [f"![{p.stem}]({p.name})" for p in images]
    for row in data.infers:
        lines += _infer(row)
    if data.data:
        lines += ["", "## Data"]
        for d in data.data:
            lines += ["", data_text(d)]
    lines += _stages(data)
    if data.links:
        lines += ["", "## Files", ""] + [f"- [{label}]({href})" for label, href in data.links]
    return "\n".join(lines) + "\n"
