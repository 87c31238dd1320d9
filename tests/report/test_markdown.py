"""report.md: every section of a small report, and the pieces the HTML page shares with it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from swiftpipe.report.markdown import (
    data_text,
    eval_heading,
    infer_heading,
    markdown,
    md_code,
    md_href,
    md_text,
    result_cells,
    results_lines,
    variants_lines,
)
from swiftpipe.report.model import DataRows, EvalTable, InferSummary, ResultRow, ScoreRow, VariantRow, VariantTable
from tests.report.helpers import small_report

SMALL = """\
# demo

swiftpipe report, 2026-01-02 03:04:05

- pipeline: `/p/pipeline.yaml`
- workdir: `/w/runs/demo`
- git: abcdef123456 (uncommitted changes)
- server: running at http://127.0.0.1:8000/v1

## Results

| variant | steps | final loss | training time | dataset | metric | base | fine-tuned | delta |
|---|---:|---:|---:|---|---|---:|---:|---:|
| sft | 3 | 1.200 | 2.5 min | general_mcq | accuracy | 0.500 | 0.750 | +0.250 |
| pt | – | – | – | – | – | – | – | – |

## Evaluation

| dataset | metric | base | fine-tuned | delta |
|---|---|---:|---:|---:|
| general_mcq | accuracy | 0.500 | 0.750 | +0.250 |
| general_qa | rouge (recall, l) | 0.500 | 0.250 | -0.250 |

> warning: odd

## Charts

![scores](scores.png)

## Inference: answers

2 rows: [results.jsonl](../answers/results.jsonl)

| query | response |
|---|---|
| q1 | a1 |

## Data

10 rows in: 7 train, 1 validation, 2 rejected (duplicate 1, too_long 1); row accounting does NOT add up

## Stages

| stage | kind | reads from | status | started | duration | log |
|---|---|---|---|---|---:|---|
| data | data | – | succeeded | 2026-01-02 03:00:00 | 2.0 s |  |
| sft | sft | data | succeeded | 2026-01-02 03:00:02 | 2.5 min | [log](../logs/sft.log) |
| eval | eval | sft (model) | failed | – | – |  |

```text
data
  sft
    eval
```

## Files

- [data report (JSON)](../data/report.json)
"""


def test_a_small_report_as_markdown() -> None:
    assert markdown(small_report(), [Path("/anywhere/scores.png")]) == SMALL


def test_sections_without_content_are_left_out() -> None:
    data = replace(small_report(), git=None, servers=[], results=[], evals=[], infers=[], data=[], links=[],
                   stages=[s for s in small_report().stages if not s.upstream])
    assert markdown(data, []) == (
        "# demo\n\nswiftpipe report, 2026-01-02 03:04:05\n\n- pipeline: `/p/pipeline.yaml`\n"
        "- workdir: `/w/runs/demo`\n\n## Stages\n\n| stage | kind | reads from | status | started | duration | log |\n"
        "|---|---|---|---|---|---:|---|\n| data | data | – | succeeded | 2026-01-02 03:00:00 | 2.0 s |  |\n")


def test_several_servers_are_each_named() -> None:
    data = replace(small_report(), servers=[("deploy_a", "stopped"), ("deploy_b", "running at http://h:1/v1")])
    md = markdown(data, [])
    assert "- server deploy_a: stopped\n- server deploy_b: running at http://h:1/v1\n" in md


def test_a_tree_line_holding_backticks_gets_a_longer_fence() -> None:
    stages = [replace(s, name="a```b" if s.name == "data" else s.name,
                      upstream={"data": "a```b"} if s.name == "sft" else s.upstream) for s in small_report().stages]
    md = markdown(replace(small_report(), stages=stages), [])
    assert "\n````text\na```b [data]\n  sft\n    eval\n````\n" in md


@pytest.mark.parametrize(("text", "shown"), [
    ("general_mcq", "general_mcq"),  # `_` inside a word is plain text
    ("_lead trail_", "\\_lead trail\\_"),
    ("a*b*c", "a\\*b\\*c"),
    ("1 < 2 & 3", "1 &lt; 2 &amp; 3"),
    ("one\n  two\tthree", "one two three"),
    ("[x](y) | #z ~w", "\\[x\\](y) \\| \\#z \\~w"),
    ("back\\slash", "back\\\\slash"),
])
def test_md_text_shows_text_as_typed(text: str, shown: str) -> None:
    assert md_text(text) == shown


def test_md_code_fence_outgrows_the_backticks_inside() -> None:
    assert md_code("/plain/path") == "`/plain/path`"
    assert md_code("a`b") == "``a`b``"
    assert md_code("`x``") == "``` `x`` ```"  # padded: a span may not start or end with its fence
    assert md_code("two\nlines") == "`two lines`"


def test_md_href_percent_encodes_everything_but_slashes() -> None:
    assert md_href("../logs/sft.log") == "../logs/sft.log"
    assert md_href("javascript:alert(1)") == "javascript%3Aalert%281%29"
    assert md_href("a b/c#d?e") == "a%20b/c%23d%3Fe"


def test_eval_heading_names_the_stage_and_its_variant_only_when_there_are_several() -> None:
    one = EvalTable("eval", "sft", None, [], [])
    assert eval_heading(replace(small_report(), evals=[one]), one) == "Evaluation"
    a, b = EvalTable("eval_a", "sft_a", None, [], []), EvalTable("eval_b", "eval_b", None, [], [])
    several = replace(small_report(), evals=[a, b])
    assert eval_heading(several, a) == "Evaluation: eval_a (sft_a)" and eval_heading(several, b) == "Evaluation: eval_b"


def test_infer_heading_names_a_stage_not_named_after_its_kind() -> None:
    assert infer_heading(InferSummary("infer", 1, None, [], "infer")) == "Inference"
    assert infer_heading(InferSummary("answers", 1, None, [], "infer")) == "Inference: answers"


def test_data_text_says_whether_the_rows_add_up() -> None:
    ok = DataRows("chats", 5, 4, 1, 0, {}, True, "data")
    assert data_text(ok) == ("chats: 5 rows in: 4 train, 1 validation, 0 rejected (none); "
                             "rows in = train + val + rejected")
    assert data_text(replace(ok, stage="data")).startswith("5 rows in: ")


def test_result_cells_of_a_training_stage_no_evaluation_reads() -> None:
    assert result_cells(ResultRow("pt", 7, 0.5, 30.0, None)) == ["pt", "7", "0.500", "30.0 s", "–", "–", "–", "–", "–"]
    scored = ResultRow("sft", None, None, None, ScoreRow("qa", "accuracy:mean", 0.5, None))
    assert result_cells(scored) == ["sft", "–", "–", "–", "qa", "accuracy", "–", "0.500", "–"]
    assert results_lines([scored])[2] == "| sft | – | – | – | qa | accuracy | – | 0.500 | – |"


def test_variants_lines_one_column_per_base_and_variant() -> None:
    table = VariantTable(["base: eval-base", "base: eval-base2", "sft_a"], 2,
                         [VariantRow("mcq", "accuracy:mean", [0.5, None, 0.75])])
    assert variants_lines(table) == ["| dataset | metric | base: eval-base | base: eval-base2 | sft_a |",
                                     "|---|---|---:|---:|---:|", "| mcq | accuracy | 0.500 | – | 0.750 |"]


def test_an_infer_stage_without_a_results_file_or_a_count() -> None:
    data = replace(small_report(), infers=[InferSummary("infer", None, None, [], "infer")])
    assert "\n## Inference\n\n? rows\n" in markdown(data, [])
