"""`swiftpipe exps list|show|diff` over experiment records written directly, and one through `swiftpipe run`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from swiftpipe.cli import main
from swiftpipe.commands.run import run
from swiftpipe.engine.experiments import Experiment, StageRun
from swiftpipe.engine.select import Selection

BASE = {"name": "t", "model": "m", "stages.sft.args.max_steps": 4, "stages.sft.args.learning_rate": 1e-4}


@pytest.fixture
def workdir(write_pipeline: Callable[[str], Path]) -> Path:
    return write_pipeline("name: t\nmodel: m\n").parent / "runs" / "t"


def experiment(workdir: Path, ident: str, started: str, *, name: str | None = None, outcome: str = "succeeded",
               config: dict[str, Any] | None = None, loss: float | None = None, mcq: float | None = None) -> None:
    """Write an experiment record: sft (with its train loss) and, given a score, eval."""
    stages = {"sft": StageRun("sft", "succeeded", "f-" + ident, 12.0, {"run_dir": f"/w/sft/{ident}"},
                              {"steps": 4} | ({} if loss is None else {"train_loss": loss}))}
    if mcq is not None:
        stages["eval"] = StageRun("eval", "succeeded", None, 3.0, {"work_dir": "/w/eval"}, {"general_mcq": mcq})
    exp = Experiment(id=ident, started=f"2026-12-05T{started}.000+0000", ended=f"2026-12-05T{started}.500+0000",
                     outcome=outcome, pipeline="/p/pipeline.yaml", name=name, config=BASE | (config or {}),
                     stages=stages, git_commit="abc123", git_dirty=False)
    (workdir / "experiments").mkdir(parents=True, exist_ok=True)
    (workdir / "experiments" / f"{ident}.json").write_text(exp.to_json())


@pytest.fixture
def three(workdir: Path) -> Path:
    experiment(workdir, "exp-a", "10:00:00", name="base", loss=1.5, mcq=0.5)
    experiment(workdir, "exp-b", "11:00:00", config={"stages.sft.args.max_steps": 8}, loss=1.25, mcq=0.75)
    experiment(workdir, "exp-c", "12:00:00", outcome="failed",
               config={"stages.sft.args.max_steps": 8, "stages.sft.args.lora_rank": 16}, loss=2.0)
    return workdir.parent.parent


def exps(folder: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["exps", *args, str(folder / "pipeline.yaml")])


def test_list_shows_only_the_parameters_that_differ(three: Path) -> None:
    result = exps(three, "list")
    assert (result.exit_code, result.output) == (0, (
        "id     name  when              status     stages.sft.args.max_steps  stages.sft.args.lora_rank  sft.steps"
        "  sft.train_loss  eval.general_mcq\n"
        "exp-a  base  2026-12-05 10:00  succeeded  4                          -                          4"
        "          1.5             0.5\n"
        "exp-b  -     2026-12-05 11:00  succeeded  8                          -                          4"
        "          1.25            0.75\n"
        "exp-c  -     2026-12-05 12:00  failed     8                          16                         4"
        "          2               -\n"))


def test_bare_exps_is_list(three: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(three)
    bare = CliRunner().invoke(main, ["exps"])
    assert bare.exit_code == 0
    assert bare.output == exps(three, "list").output


def test_list_json_and_csv(three: Path) -> None:
    rows = json.loads(exps(three, "list", "--json").output)
    assert rows[2] == {"id": "exp-c", "name": None, "started": "2026-12-05T12:00:00.000+0000",
                       "ended": "2026-12-05T12:00:00.500+0000", "status": "failed",
                       "params": {"stages.sft.args.max_steps": 8, "stages.sft.args.lora_rank": 16},
                       "metrics": {"sft.steps": 4, "sft.train_loss": 2.0, "eval.general_mcq": None}}
    assert [r["id"] for r in rows] == ["exp-a", "exp-b", "exp-c"]
    assert exps(three, "list", "--csv").output == (
        "id,name,when,status,stages.sft.args.max_steps,stages.sft.args.lora_rank,sft.steps,sft.train_loss,"
        "eval.general_mcq\n"
        "exp-a,base,2026-12-05 10:00,succeeded,4,,4,1.5,0.5\n"
        "exp-b,,2026-12-05 11:00,succeeded,8,,4,1.25,0.75\n"
        "exp-c,,2026-12-05 12:00,failed,8,16,4,2.0,\n")


def ids(result: Result) -> list[str]:
    return [line.split(",")[0] for line in result.output.splitlines()[1:]]


def test_sort_highest_first_or_lowest_first_and_those_without_it_last(three: Path) -> None:
    assert ids(exps(three, "list", "--csv", "--sort", "eval.general_mcq")) == ["exp-b", "exp-a", "exp-c"]
    assert ids(exps(three, "list", "--csv", "--sort", "eval.general_mcq", "--asc")) == ["exp-a", "exp-b", "exp-c"]
    assert ids(exps(three, "list", "--csv", "--sort", "sft.train_loss", "--asc")) == ["exp-b", "exp-a", "exp-c"]


def test_sort_by_an_unknown_metric(three: Path) -> None:
    result = exps(three, "list", "--sort", "sft.loss")
    assert result.exit_code == 2
    assert result.stderr == ("swiftpipe: error: --sort sft.loss: no such metric in these experiments; choose one "
                             "of sft.steps, sft.train_loss, eval.general_mcq\n")


def test_list_before_any_experiment(workdir: Path) -> None:
    result = exps(workdir.parent.parent, "list")
    assert (result.exit_code, result.output) == (0, f"no experiments in {workdir / 'experiments'} yet\n")


def test_show(three: Path) -> None:
    result = exps(three, "show", "exp-a")
    record = three / "runs" / "t" / "experiments" / "exp-a.json"
    assert (result.exit_code, result.output) == (0, f"""experiment exp-a (base)
  status    succeeded
  started   2026-12-05T10:00:00.000+0000
  ended     2026-12-05T10:00:00.500+0000
  pipeline  /p/pipeline.yaml
  profile   -
  --set     -
  git       abc123
  record    {record}

stage sft (sft): succeeded, 12.0 s, fingerprint f-exp-a
  steps: 4
  train_loss: 1.5
  run_dir: /w/sft/exp-a

stage eval (eval): succeeded, 3.0 s, fingerprint -
  general_mcq: 0.5
  work_dir: /w/eval

configuration:
  name: t
  model: m
  stages.sft.args.max_steps: 4
  stages.sft.args.learning_rate: 0.0001
""")


def test_diff(three: Path) -> None:
    result = exps(three, "diff", "exp-a", "exp-c")
    assert (result.exit_code, result.output) == (0, """parameters (exp-a -> exp-c):
  stages.sft.args.max_steps: 4 -> 8
  stages.sft.args.lora_rank: - -> 16
metrics:
  sft.steps: 4 -> 4 (+0)
  sft.train_loss: 1.5 -> 2 (+0.5)
  eval.general_mcq: 0.5 -> -
""")


def test_an_unknown_id_is_one_line(three: Path) -> None:
    for args in (["show", "exp-x"], ["diff", "exp-a", "exp-x"]):
        result = exps(three, *args)
        assert result.exit_code == 2
        folder = three / "runs" / "t" / "experiments"
        assert result.stderr == (f"swiftpipe: error: exp-x: no such experiment in {folder}; "
                                 f"list them with: swiftpipe exps list {three / 'pipeline.yaml'}\n")


def test_two_runs_with_different_max_steps_are_two_rows(tmp_path: Path, fake_venv: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}")
    (tmp_path / "train.jsonl").write_text('{"messages": []}\n')
    path = tmp_path / "pipeline.yaml"
    path.write_text(f"name: t\nmodel: model\nstages:\n  sft:\n    venv: {fake_venv}\n    dataset: [train.jsonl]\n"
                    "    args: {max_steps: 4}\n")
    for steps, name in ((4, "four"), (6, None)):
        assert run(path, overrides=[f"stages.sft.args.max_steps={steps}"], selection=Selection(),
                   keep_serving=False, name=name) == 0
    assert run(path, overrides=["stages.sft.args.max_steps=6"], selection=Selection(), keep_serving=False) == 0
    rows = json.loads(exps(tmp_path, "list", "--json").output)  # the third run skipped everything: no experiment
    assert [(r["name"], r["status"], r["params"], r["metrics"]["sft.steps"]) for r in rows] == [
        ("four", "succeeded", {"stages.sft.args.max_steps": 4}, 4),
        (None, "succeeded", {"stages.sft.args.max_steps": 6}, 6)]
    assert exps(tmp_path, "list").output.splitlines()[0].split() == [
        "id", "name", "when", "status", "stages.sft.args.max_steps", "sft.steps", "sft.train_loss", "sft.time_s"]
