"""The HTML/Markdown report from a manifest: stages, loss curves, scores, comparison."""

from __future__ import annotations

import json
from pathlib import Path

from swiftpipe.engine.manifest import Manifest
from swiftpipe.report import write_report
from swiftpipe.report.collect import loss_curves
from swiftpipe.report.markdown import markdown
from swiftpipe.report.model import EvalTable, ReportData, ScoreRow, StageRow
from swiftpipe.report.render import pretty_metric
from tests.report.helpers import ROUGE, logging_jsonl, pipeline


def test_loss_curves(tmp_path: Path) -> None:
    logging_jsonl(tmp_path / "run")
    assert loss_curves(tmp_path / "run" / "logging.jsonl") == ([(1, 2.0), (2, 1.5), (3, 1.2)], [(1, 1.9)])
    assert loss_curves(tmp_path / "absent.jsonl") == ([], [])


def test_old_single_chain_manifest(tmp_path: Path) -> None:
    """A manifest from before kinds and upstream: stage names are kinds, base scores in the eval."""
    loaded = pipeline(tmp_path)
    logging_jsonl(tmp_path / "run")
    (loaded.workdir / "logs").mkdir(parents=True)
    (loaded.workdir / "logs" / "eval.log").write_text("log\n")
    manifest = Manifest.from_dict({
        "pipeline": str(tmp_path / "pipeline.yaml"), "workdir": str(loaded.workdir), "git_commit": "abcdef1234567890",
        "stages": {
            "sft": {"status": "succeeded", "outputs": {"run_dir": str(tmp_path / "run")}},
            "eval": {"status": "succeeded", "duration_s": 12.5, "log": str(loaded.workdir / "logs" / "eval.log"),
                     "outputs": {"primary": {"general_mcq": {"metric": "accuracy:mean", "score": 0.75},
                                             "general_qa": {"metric": ROUGE, "score": 0.4}},
                                 "base_primary": {"general_mcq": {"metric": "accuracy:mean", "score": 0.5},
                                                  "general_qa": {"metric": ROUGE, "score": 0.4}},
                                 "flags": ["something odd"]}},
        },
    })
    index = write_report(loaded, manifest)
    page = index.read_text()
    assert index == loaded.workdir / "report" / "index.html"
    assert page.count("data:image/png;base64,") == 2 and "http" not in page.split("<body>")[0]
    assert "rouge (recall, l)" in page and "+0.250" in page and "something odd" in page
    assert 'href="../logs/eval.log"' in page and "abcdef123456" in page
    md = (loaded.workdir / "report" / "report.md").read_text()
    assert "## Evaluation\n\n| dataset | metric | base | fine-tuned | delta |\n" in md
    assert "| general_mcq | accuracy | 0.500 | 0.750 | +0.250 |" in md
    assert "| eval | eval | – | succeeded | – | 12.5 s | [log](../logs/eval.log) |" in md
    assert "![loss](loss.png)" in md and (loaded.workdir / "report" / "loss.png").is_file()
    assert "## Variants" not in md and "```text" not in md


def test_pretty_metric() -> None:
    assert pretty_metric(ROUGE) == "rouge (recall, l)" and pretty_metric("accuracy:mean") == "accuracy"
    assert pretty_metric("mean_acc") == "mean_acc"


def test_data_accounting_is_shown(tmp_path: Path) -> None:
    loaded = pipeline(tmp_path)
    stats = {"rows_in": 10, "train": 6, "val": 1, "rejected": 3, "invariant_ok": True,
             "rejects_by_reason": {"duplicate": 1, "invalid_json": 2}}
    (tmp_path / "report.json").write_text(json.dumps(stats))
    (tmp_path / "rejects.jsonl").write_text("{}\n")
    manifest = Manifest(str(tmp_path / "pipeline.yaml"), str(loaded.workdir))
    manifest.stage("data").outputs = {"report": str(tmp_path / "report.json"),
                                      "rejects": str(tmp_path / "rejects.jsonl")}
    page = write_report(loaded, manifest).read_text()
    assert ("10 rows in: 6 train, 1 validation, 3 rejected (duplicate 1, invalid_json 2); "
            "rows in = train + val + rejected") in page
    assert 'href="../../../rejects.jsonl"' in page


HOSTILE = "_x_ *b* [l](javascript:alert(1)) <img src=x onerror=alert(1)> `c` | ~~s~~ # h\n- item"
SHOWN = ("\\_x\\_ \\*b\\* \\[l\\](javascript:alert(1)) &lt;img src=x onerror=alert(1)&gt; \\`c\\` \\| "
         "\\~\\~s\\~\\~ \\# h - item")


def test_the_markdown_report_escapes_what_swiftpipe_did_not_write() -> None:
    stage = StageRow(HOSTILE, "eval", {}, "succeeded", None, 1.0, 1, "x) [y](javascript:z", None)
    score = ScoreRow(HOSTILE, "<b>*m*</b>", 0.5, None)
    data = ReportData(title=HOSTILE, pipeline="/p/`a``b`/pipeline.yaml", workdir="/w\n# h", generated="now",
                      git=None, versions={}, stages=[stage],
                      evals=[EvalTable(HOSTILE, HOSTILE, None, [score], [HOSTILE]),
                             EvalTable("eval_b", "eval_b", None, [], [])],
                      servers=[(HOSTILE, f"running at http://127.0.0.1:1/{HOSTILE}")],
                      links=[(HOSTILE, "javascript:alert(1)")])
    md = markdown(data, [])
    assert md.startswith(f"# {SHOWN}\n\nswiftpipe report, now\n\n- pipeline: ```/p/`a``b`/pipeline.yaml```\n"
                         "- workdir: `/w # h`\n")
    assert f"- server: running at http://127.0.0.1:1/{SHOWN}\n" in md
    assert f"\n## Evaluation: {SHOWN}\n" in md and f"| {SHOWN} | &lt;b&gt;\\*m\\*&lt;/b&gt; | 0.500 |\n" in md
    assert f"> warning: {SHOWN}\n" in md
    assert f"| {SHOWN} | eval | – | succeeded | – | 1.0 s | [log](x%29%20%5By%5D%28javascript%3Az) |" in md
    assert f"- [{SHOWN}](javascript%3Aalert%281%29)" in md
    assert "<img" not in md and "](javascript:" not in md.replace("\\]", "")  # only escaped brackets
