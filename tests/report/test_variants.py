"""Reports of graph pipelines: several variants side by side, the stage graph, infer stages."""

from __future__ import annotations

from pathlib import Path

from swiftpipe.engine.manifest import Manifest
from swiftpipe.report import write_report
from swiftpipe.report.scores import training_stage, variant_labels
from tests.report.helpers import pipeline, primary, record, two_variants

VARIANTS = """\
## Variants

| dataset | metric | base | sft_a | sft_b |
|---|---|---:|---:|---:|
| general_mcq | accuracy | 0.500 | 0.750 | 0.800 |
| general_qa | rouge (recall, l) | 0.400 | 0.400 | 0.450 |
"""


def test_two_variants_side_by_side(tmp_path: Path) -> None:
    loaded = pipeline(tmp_path)
    write_report(loaded, two_variants(tmp_path, loaded.workdir))
    md = (loaded.workdir / "report" / "report.md").read_text()
    assert VARIANTS in md  # arc was scored by eval_a alone: not a row here
    assert "## Evaluation: eval_a (sft_a)\n" in md and "## Evaluation: eval_b (sft_b)\n" in md
    assert "| arc | accuracy | – | 0.300 | – |" in md and "| general_mcq | accuracy | 0.500 | 0.800 | +0.300 |" in md
    assert "> warning: b looks odd" in md and "- server: stopped" in md
    assert "| sft_b | sft | data, pt-merged (model) | succeeded | – | 3.0 s |  |" in md
    assert "| eval_a | eval | deploy_a (server), eval-base (base) | succeeded | – | 3.0 s |  |" in md
    graph = md.split("```text\n")[1].split("```")[0].splitlines()
    assert graph[:3] == ["data", "  pt", "    pt-merged [export]"]
    assert "            eval_b [eval] via server" in graph and "  eval_a [eval] via base (see above)" in graph
    assert "  sft_b [sft] via data (see above)" in graph and "eval-base [base-eval]" in graph
    assert "![loss-sft_a](loss-sft_a.png)" in md and "![loss-sft_b](loss-sft_b.png)" in md
    page = (loaded.workdir / "report" / "index.html").read_text()
    assert page.count("data:image/png;base64,") == 3 and "<h2>Variants</h2>" in page
    assert "<th>sft_a</th><th>sft_b</th>" in page and "<b>0.800</b>" in page


def test_variant_label_walks_upstream_to_the_nearest_training_stage(tmp_path: Path) -> None:
    manifest = two_variants(tmp_path, tmp_path / "w")
    assert training_stage("eval_b", manifest) == "sft_b"  # not pt, further up, nor via the base
    assert training_stage("eval-base", manifest) is None
    assert variant_labels(["eval_a", "eval_b", "eval-base"], manifest) == {
        "eval_a": "sft_a", "eval_b": "sft_b", "eval-base": "eval-base"}


def test_evals_of_one_training_stage_are_labelled_by_eval_name(tmp_path: Path) -> None:
    loaded = pipeline(tmp_path)
    manifest = Manifest(str(tmp_path / "pipeline.yaml"), str(loaded.workdir))
    manifest.stages.update({
        "sft": record("sft"), "export": record("export", {"model": "sft"}),
        "deploy_hf": record("deploy", {"model": "export"}), "deploy_lm": record("deploy", {"model": "export"}),
        "eval_hf": record("eval", {"server": "deploy_hf"}, primary=primary(0.5, 0.25)),
        "eval_lm": record("eval", {"server": "deploy_lm"}, primary=primary(0.5, 0.375)),
    })
    write_report(loaded, manifest)
    md = (loaded.workdir / "report" / "report.md").read_text()
    assert ("| dataset | metric | eval_hf | eval_lm |\n|---|---|---:|---:|\n"
            "| general_mcq | accuracy | 0.500 | 0.500 |\n| general_qa | rouge (recall, l) | 0.250 | 0.375 |\n") in md
    assert "## Evaluation: eval_hf\n\n| dataset | metric | score |\n" in md


def test_infer_stage_shows_rows_link_and_escaped_sample(tmp_path: Path) -> None:
    loaded = pipeline(tmp_path)
    results = loaded.workdir / "infer" / "results.jsonl"
    results.parent.mkdir(parents=True)
    results.write_text("{}\n{}\n{}\n")
    manifest = Manifest(str(tmp_path / "pipeline.yaml"), str(loaded.workdir))
    manifest.stages.update({
        "data": record("data"), "sft": record("sft", {"data": "data"}),
        "infer": record("infer", {"model": "sft", "data": "data"}, results=str(results), rows=3, sample=[
            {"query": "what is 2+2?", "response": "<script>alert(1)</script>"},
            {"query": "a | b", "response": "line one\nline two"}]),
    })
    write_report(loaded, manifest)
    md = (loaded.workdir / "report" / "report.md").read_text()
    assert "## Inference\n\n3 rows: [results.jsonl](../infer/results.jsonl)\n" in md
    assert "| what is 2+2? | &lt;script&gt;alert(1)&lt;/script&gt; |" in md and "| a \\| b | line one line two |" in md
    assert "data\n  sft\n    infer via model\n  infer via data (see above)\n```" in md
    page = (loaded.workdir / "report" / "index.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '3 rows · <a href="../infer/results.jsonl">results.jsonl</a>' in page
    assert "line one\nline two" in page  # kept as typed: the cell wraps pre-formatted text


def test_single_new_style_chain_reads_the_base_from_its_base_eval(tmp_path: Path) -> None:
    loaded = pipeline(tmp_path)
    manifest = Manifest(str(tmp_path / "pipeline.yaml"), str(loaded.workdir))
    manifest.stages.update({
        "sft": record("sft"), "export": record("export", {"model": "sft"}),
        "deploy": record("deploy", {"model": "export"}), "eval-base": record("base-eval", primary=primary(0.5, 0.4)),
        "eval": record("eval", {"server": "deploy", "base": "eval-base"}, primary=primary(0.75, 0.4)),
    })
    write_report(loaded, manifest)
    md = (loaded.workdir / "report" / "report.md").read_text()
    assert "## Evaluation\n\n| dataset | metric | base | fine-tuned | delta |\n" in md
    assert "| general_mcq | accuracy | 0.500 | 0.750 | +0.250 |" in md and "## Variants" not in md
