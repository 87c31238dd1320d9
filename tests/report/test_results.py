"""The results table (training steps, final loss, time, base vs fine-tuned), per-subject scores,
and a failed eval stage's finished datasets."""

from __future__ import annotations

from pathlib import Path

from swiftpipe.engine.manifest import Manifest
from swiftpipe.engine.status import Status
from swiftpipe.report import write_report
from tests.report.helpers import logging_jsonl, pipeline, primary, record, two_variants

RESULTS = """\
## Results

| variant | steps | final loss | training time | dataset | metric | base | fine-tuned | delta |
|---|---:|---:|---:|---|---|---:|---:|---:|
| sft_a | 3 | 1.200 | 3.0 s | arc | accuracy | – | 0.300 | – |
| sft_a | 3 | 1.200 | 3.0 s | general_mcq | accuracy | 0.500 | 0.750 | +0.250 |
| sft_a | 3 | 1.200 | 3.0 s | general_qa | rouge (recall, l) | 0.400 | 0.400 | +0.000 |
| sft_b | 3 | 1.200 | 3.0 s | general_mcq | accuracy | 0.500 | 0.800 | +0.300 |
| sft_b | 3 | 1.200 | 3.0 s | general_qa | rouge (recall, l) | 0.400 | 0.450 | +0.050 |
"""


def test_the_results_table_is_filled_in_from_the_manifest(tmp_path: Path) -> None:
    loaded = pipeline(tmp_path)
    manifest = two_variants(tmp_path, loaded.workdir)
    for name in ("sft_a", "sft_b"):
        manifest.stages[name].metrics = {"global_step": 3, "train_loss": 1.6}
    write_report(loaded, manifest)
    md = (loaded.workdir / "report" / "report.md").read_text()
    assert RESULTS in md
    page = (loaded.workdir / "report" / "index.html").read_text()
    assert "<h2>Results</h2>" in page and "<td>sft_b</td><td class=num>3</td><td class=num>1.200</td>" in page


def test_subjects_are_shown_beside_the_base_and_a_failed_eval_keeps_what_finished(tmp_path: Path) -> None:
    loaded = pipeline(tmp_path)
    manifest = Manifest(str(tmp_path / "pipeline.yaml"), str(loaded.workdir))
    tuned = {"cmmlu": {"arts": 0.5, "law": 0.25}, "general_mcq": {"demo": 0.75}}
    manifest.stages.update({
        "eval-base": record("base-eval", primary=primary(0.5, 0.4), subsets={"cmmlu": {"arts": 0.25, "law": 0.25}}),
        "eval": record("eval", {"base": "eval-base"}, primary={"cmmlu": {"metric": "accuracy:mean", "score": 0.375}},
                       subsets=tuned, failed={"ceval": "ValueError: Unknown split \"dev\"", "arc": "not run"}),
    })
    manifest.stages["eval"].status = Status.FAILED
    write_report(loaded, manifest)
    md = (loaded.workdir / "report" / "report.md").read_text()
    assert ("Per subject:\n\n| dataset | subject | base | fine-tuned | delta |\n|---|---|---:|---:|---:|\n"
            "| cmmlu | arts | 0.250 | 0.500 | +0.250 |\n| cmmlu | law | 0.250 | 0.250 | +0.000 |\n") in md
    assert "| general_mcq | demo |" not in md  # one subset: the dataset row says it all
    assert "> warning: this eval stage failed; the scores shown are of the datasets that finished" in md
    assert '> warning: ceval: ValueError: Unknown split "dev"' in md and "> warning: arc: not run" in md
    page = (loaded.workdir / "report" / "index.html").read_text()
    assert "<h3>per subject</h3>" in page and "this eval stage failed" in page


def test_an_rlhf_stage_gets_a_loss_chart_and_a_results_row(tmp_path: Path) -> None:
    # examples/sft-then-dpo.yaml: chats -> sft -> sft-merged -> dpo (rlhf, reads pairs too); here
    # dpo is exported, served and evaluated against the base model.
    loaded = pipeline(tmp_path)
    logging_jsonl(tmp_path / "run_sft")
    logging_jsonl(tmp_path / "run_dpo")
    manifest = Manifest(str(tmp_path / "pipeline.yaml"), str(loaded.workdir))
    manifest.stages.update({
        "chats": record("data"),
        "pairs": record("data"),
        "sft": record("sft", {"data": "chats"}, run_dir=str(tmp_path / "run_sft")),
        "sft-merged": record("export", {"model": "sft"}),
        "dpo": record("rlhf", {"data": "pairs", "model": "sft-merged"}, run_dir=str(tmp_path / "run_dpo")),
        "dpo-merged": record("export", {"model": "dpo"}),
        "deploy": record("deploy", {"model": "dpo-merged"}),
        "eval-base": record("base-eval", primary=primary(0.5, 0.4)),
        "eval": record("eval", {"server": "deploy", "base": "eval-base"}, primary=primary(0.75, 0.4)),
    })
    manifest.stages["dpo"].metrics = {"global_step": 4}
    write_report(loaded, manifest)
    report = loaded.workdir / "report"
    md = (report / "report.md").read_text()
    assert "| dpo | 4 | 1.200 | 3.0 s | general_mcq | accuracy | 0.500 | 0.750 | +0.250 |" in md
    assert "![loss-dpo](loss-dpo.png)" in md and (report / "loss-dpo.png").is_file()
    assert (report / "loss-sft.png").is_file()
