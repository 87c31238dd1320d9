"""index.html: a self-contained page (CSS inline, charts embedded, no scripts) of the same sections."""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path

from swiftpipe.report.model import EvalTable, ScoreRow, VariantRow, VariantTable
from swiftpipe.report.render import html
from tests.report.helpers import small_report

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 8


def body(page: str) -> str:
    return page.split("</style></head>", 1)[1]


def test_a_small_report_as_html() -> None:
    page = html(small_report(), [])
    assert page.startswith("<!doctype html><html lang=en><head><meta charset=utf-8><title>demo · swiftpipe</title>")
    assert page.endswith("</main></body></html>\n") and "<script" not in page
    shown = body(page)
    assert shown.startswith("<body><main><header><h1>demo</h1><p>swiftpipe report · 2026-01-02 03:04:05 · "
                            "ms-swift 4.6.0, evalscope 1.0</p></header><section><div class=meta>"
                            "<span>pipeline <b>/p/pipeline.yaml</b></span><span>workdir <b>/w/runs/demo</b></span>"
                            "<span>git <b>abcdef123456 (uncommitted changes)</b></span>"
                            "<span>server <b>running at http://127.0.0.1:8000/v1</b></span></div></section>")
    sections = [part.split("</h2>")[0] for part in shown.split("<h2>")[1:]]
    assert sections == ["Results", "Evaluation", "Inference: answers", "Data", "Stages", "Files"]


def test_deltas_are_coloured_by_direction_and_the_full_metric_key_is_the_cells_title() -> None:
    shown = body(html(small_report(), []))
    assert '<td class="num up">+0.250</td>' in shown and '<td class="num down">-0.250</td>' in shown
    assert ("<td title='rouge:mean[statistic=&quot;recall&quot;,variant=&quot;l&quot;]'>rouge (recall, l)</td>"
            in shown)
    level = replace(small_report(), evals=[EvalTable("eval", "eval", "b", [ScoreRow("qa", "m", 0.5, 0.5)], [])])
    assert "<td class=num>+0.000</td>" in body(html(level, []))


def test_an_eval_without_a_base_has_one_score_column_and_its_flags_are_shown() -> None:
    table = EvalTable("eval", "eval", None, [ScoreRow("qa", "accuracy:mean", 0.5, None)], ["a <b>flag</b>"])
    shown = body(html(replace(small_report(), evals=[table]), []))
    assert ("<tr><th>dataset</th><th>metric</th><th>score</th></tr><tr><td><b>qa</b></td>"
            "<td title='accuracy:mean'>accuracy</td><td class=num>0.500</td></tr>") in shown
    assert '<div class="flag">⚠ a &lt;b&gt;flag&lt;/b&gt;</div>' in shown


def test_stages_show_attempts_the_failure_message_a_log_link_and_the_graph() -> None:
    shown = body(html(small_report(), []))
    assert ("<tr><td><b>eval</b><div class=\"msg\">evalscope exited with code 1</div></td><td>eval</td>"
            "<td>sft (model)</td><td><span class='pill failed'>failed</span></td><td>–</td><td class=num>–</td>"
            "<td class=num>1</td><td></td></tr>") in shown
    assert "<td class=num>2.5 min</td><td class=num>2</td><td><a href=\"../logs/sft.log\">log</a></td>" in shown
    assert "<pre class=graph>data\n  sft\n    eval</pre>" in shown


def test_no_graph_when_no_stage_reads_another() -> None:
    roots = [s for s in small_report().stages if not s.upstream]
    assert "<pre class=graph>" not in html(replace(small_report(), stages=roots), [])


def test_charts_are_embedded_as_base64(tmp_path: Path) -> None:
    chart = tmp_path / "scores.png"
    chart.write_bytes(PNG)
    shown = body(html(small_report(), [chart]))
    encoded = base64.b64encode(PNG).decode("ascii")
    assert f'<h2>Charts</h2><div class=charts><img alt="scores" src="data:image/png;base64,{encoded}"></div>' in shown


def test_the_best_variant_is_bold_but_a_single_variant_is_not() -> None:
    table = VariantTable(["base", "sft_a", "sft_b"], 1, [VariantRow("mcq", "accuracy:mean", [0.9, 0.75, 0.8]),
                                                         VariantRow("qa", "accuracy:mean", [0.4, None, 0.45])])
    shown = body(html(replace(small_report(), variants=table), []))
    assert "<th>base</th><th>sft_a</th><th>sft_b</th>" in shown
    assert ("<td class=num>0.900</td><td class=num>0.750</td><td class=num><b>0.800</b></td>") in shown
    assert "<td class=num>0.400</td><td class=num>–</td><td class=num>0.450</td>" in shown  # alone: not marked


def test_several_servers_are_each_named_and_everything_is_escaped() -> None:
    data = replace(small_report(), title="<i>t</i>", servers=[("d<1>", "stopped"), ("d2", "stopped")],
                   links=[("x\"y", "a\"><script>")])
    page = html(data, [])
    assert "<title>&lt;i&gt;t&lt;/i&gt; · swiftpipe</title>" in page
    assert "<span>server d&lt;1&gt; <b>stopped</b></span><span>server d2 <b>stopped</b></span>" in page
    assert '<li><a href="a&quot;&gt;&lt;script&gt;">x&quot;y</a></li>' in page and "<script>" not in page
