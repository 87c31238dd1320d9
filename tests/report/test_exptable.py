"""The experiments table the report and the UI share, and the charts across experiments."""

from __future__ import annotations

from pathlib import Path

from swiftpipe.engine.experiments import list_experiments
from swiftpipe.report import plots, write_report
from swiftpipe.report.exptable import ExpRow, cell, exp_table, headline
from swiftpipe.report.figures import metric_per_experiment, param_against_metric
from swiftpipe.report.markdown import experiments_lines
from swiftpipe.report.render import experiments_html
from tests.report.helpers import experiment, pipeline, two_variants


def two(tmp_path: Path) -> Path:
    workdir = tmp_path / "w"
    experiment(workdir, "exp-20261205-100000-aa01", 1e-4, 0.5, tmp_path / "run_a", "low")
    experiment(workdir, "exp-20261205-100000-aa02", 2e-4, 0.75, tmp_path / "run_b")
    return workdir


def test_the_table_has_the_changed_parameters_and_every_metric(tmp_path: Path) -> None:
    table = exp_table(list_experiments(two(tmp_path)))
    assert table.params == ["stages.sft.args.learning_rate"]
    assert table.metrics == ["sft.steps", "sft.train_loss", "eval.general_mcq"]
    assert table.rows[0] == ExpRow("exp-20261205-100000-aa01", "low", "2026-12-05 10:01", "succeeded",
                                   {"stages.sft.args.learning_rate": 1e-4},
                                   {"sft.steps": 3, "sft.train_loss": 1.6, "eval.general_mcq": 0.5})
    assert headline(table) == "eval.general_mcq"


def test_the_headline_falls_back_to_the_losses(tmp_path: Path) -> None:
    table = exp_table(list_experiments(two(tmp_path)))
    no_scores = type(table)(table.params, ["sft.steps", "sft.train_loss"], table.rows)
    assert headline(no_scores) == "sft.train_loss"
    assert headline(type(table)([], [], table.rows[:1])) is None


def test_cells() -> None:
    assert [cell(None), cell(0.123456), cell(3), cell("x"), cell([1, 2])] == ["-", "0.1235", "3", "x", "[1, 2]"]


def test_the_html_section_escapes_names(tmp_path: Path) -> None:
    workdir = two(tmp_path)
    experiment(workdir, "exp-20261205-100000-aa03", 3e-4, 0.25, tmp_path / "run_c", "<script>")
    html = experiments_html(exp_table(list_experiments(workdir)))
    assert html.startswith("<section><h2>Experiments</h2><div class=wide><table><tr><th>id</th><th>name</th>")
    assert "<td>&lt;script&gt;</td>" in html and "<script>" not in html
    assert "<td>3e-4</td>" in html and "<td class=num>0.25</td>" in html
    assert experiments_html(None) == ""


def test_figures_across_experiments(tmp_path: Path) -> None:
    table = exp_table(list_experiments(two(tmp_path)))
    bars = metric_per_experiment(table, "eval.general_mcq")["data"][0]
    assert (bars["x"], bars["y"]) == (["low", "exp-20261205-100000-aa02"], [0.5, 0.75])
    points = param_against_metric(table, "stages.sft.args.learning_rate", "eval.general_mcq")
    assert (points["data"][0]["x"], points["data"][0]["y"]) == ([1e-4, 2e-4], [0.5, 0.75])
    assert points["layout"]["xaxis"]["type"] == "log"


def test_the_sweep_charts_are_pngs(tmp_path: Path) -> None:
    table = exp_table(list_experiments(two(tmp_path)))
    charts = plots.sweep_charts(table, tmp_path)
    assert [c.name for c in charts] == ["experiments.png", "sweep-1.png"]
    assert all(c.read_bytes().startswith(b"\x89PNG") for c in charts)
    assert plots.sweep_charts(None, tmp_path) == []


def test_the_report_has_an_experiments_section(tmp_path: Path) -> None:
    loaded = pipeline(tmp_path)
    experiment(loaded.workdir, "exp-20261205-100000-aa01", 1e-4, 0.5, tmp_path / "run_a", "low")
    experiment(loaded.workdir, "exp-20261205-100000-aa02", 2e-4, 0.75, tmp_path / "run_b", "high")
    index = write_report(loaded, two_variants(tmp_path, loaded.workdir))
    html = index.read_text()
    assert "<h2>Experiments</h2>" in html and "<td>high</td>" in html
    assert (index.parent / "experiments.png").is_file() and (index.parent / "sweep-1.png").is_file()
    assert 'alt="sweep-1"' in html


def test_an_unreadable_experiment_leaves_the_section_out(tmp_path: Path) -> None:
    loaded = pipeline(tmp_path)
    (loaded.workdir / "experiments").mkdir(parents=True)
    (loaded.workdir / "experiments" / "exp-bad.json").write_text("{")
    assert "<h2>Experiments</h2>" not in write_report(loaded, two_variants(tmp_path, loaded.workdir)).read_text()


def test_the_markdown_report_has_the_table(tmp_path: Path) -> None:
    workdir = two(tmp_path)
    experiment(workdir, "exp-20261205-100000-aa03", 3e-4, 0.25, tmp_path / "run_c", "a|b")
    assert experiments_lines(exp_table(list_experiments(workdir))) == [
        "| id | name | when | status | stages.sft.args.learning_rate | sft.steps | sft.train_loss | eval.general_mcq |",
        "|---|---|---|---|---|---:|---:|---:|",
        "| exp-20261205-100000-aa01 | low | 2026-12-05 10:01 | succeeded | 1e-4 | 3 | 1.6 | 0.5 |",
        "| exp-20261205-100000-aa02 | - | 2026-12-05 10:02 | succeeded | 2e-4 | 3 | 1.6 | 0.75 |",
        "| exp-20261205-100000-aa03 | a\\|b | 2026-12-05 10:03 | succeeded | 3e-4 | 3 | 1.6 | 0.25 |",
    ]
