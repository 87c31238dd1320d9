"""`swiftpipe exps list|show|diff` over experiment records written directly, and one through `swiftpipe run`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from swiftpipe.cli import main
from swiftpipe.commands.exps import exps_rm
from swiftpipe.commands.run import run
from swiftpipe.engine.experiments import Experiment, StageRun
from swiftpipe.engine.manifest import Manifest, StageRecord
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
  stages.sft.args.learning_rate: 1e-4
""")


PICKED = {"model_dir": "/w/sft-lr2e-2/checkpoint-2-merged", "model_digest": "d", "checkpoint": "/c",
          "winner": "eval-lr2e-2", "metric": "general_mcq.accuracy", "mode": "max", "value": 0.75,
          "runner_up": "eval-lr1e-2", "margin": 0.25, "variant": "lr2e-2", "model_stage": "export-lr2e-2",
          "candidates": {"eval-lr1e-2": 0.5, "eval-lr2e-2": 0.75}, "selection": "/w/best/selection.json"}


def test_list_and_show_name_the_winner_of_a_select_stage(workdir: Path) -> None:
    stages = {"best": StageRun("select", "succeeded", "f", 0.1, PICKED,
                               {"winner": "eval-lr2e-2", "value": 0.75, "margin": 0.25})}
    exp = Experiment(id="exp-s", started="2026-12-05T10:00:00.000+0000", ended="2026-12-05T10:00:01.000+0000",
                     outcome="succeeded", pipeline="/p/pipeline.yaml", config=BASE, stages=stages)
    (workdir / "experiments").mkdir(parents=True)
    (workdir / "experiments" / "exp-s.json").write_text(exp.to_json())
    folder = workdir.parent.parent
    listed = exps(folder, "list")
    assert listed.output.splitlines() == [
        "id     name  when              status     best.winner  best.value  best.margin",
        "exp-s  -     2026-12-05 10:00  succeeded  eval-lr2e-2  0.75        0.25"]
    shown = exps(folder, "show", "exp-s").output
    assert ("stage best (select): succeeded, 0.1 s, fingerprint f\n"
            "  chose eval-lr2e-2 (variant lr2e-2): general_mcq.accuracy 0.75, the highest of 2, 0.25 ahead of "
            "eval-lr1e-2; model /w/sft-lr2e-2/checkpoint-2-merged\n"
            "  winner: eval-lr2e-2\n") in shown


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


# exps rm: workdirs built by hand, an sft run folder (with a checkpoint) and a merged model per experiment.

def trained(workdir: Path, ident: str, started: str, run: str, extra: dict[str, Any] | None = None) -> None:
    """An experiment whose sft wrote `<workdir>/sft/<run>` (a 1000-byte checkpoint, a 24-byte log) and
    whose export merged it into `<workdir>/export/<run>-merged` (500 bytes); `extra`: more sft outputs."""
    run_dir, merged = workdir / "sft" / run, workdir / "export" / f"{run}-merged"
    (run_dir / "checkpoint-4").mkdir(parents=True)
    (run_dir / "checkpoint-4" / "model.safetensors").write_bytes(b"w" * 1000)
    (run_dir / "logging.jsonl").write_bytes(b"l" * 24)
    merged.mkdir(parents=True)
    (merged / "model.safetensors").write_bytes(b"m" * 500)
    ckpt = str(run_dir / "checkpoint-4")
    sft = {"run_dir": str(run_dir), "last_checkpoint": ckpt, "model_dir": ckpt, "model_digest": "d",
           "logging": str(run_dir / "logging.jsonl")} | (extra or {})
    stages = {"sft": StageRun("sft", "succeeded", outputs=sft),
              "export": StageRun("export", "succeeded", outputs={"model_dir": str(merged), "model_digest": "e",
                                                                 "checkpoint": ckpt})}
    exp = Experiment(id=ident, started=f"2026-12-05T{started}.000+0000", ended=f"2026-12-05T{started}.500+0000",
                     outcome="succeeded", pipeline="/p/pipeline.yaml", stages=stages)
    (workdir / "experiments").mkdir(parents=True, exist_ok=True)
    (workdir / "experiments" / f"{ident}.json").write_text(exp.to_json())


def current(workdir: Path, ident: str) -> None:
    """A manifest whose stages have the outputs experiment `ident` recorded."""
    e = Experiment.from_dict(json.loads((workdir / "experiments" / f"{ident}.json").read_text()))
    manifest = Manifest(pipeline="/p/pipeline.yaml", workdir=str(workdir),
                        stages={n: StageRecord(kind=r.kind, outputs=r.outputs) for n, r in e.stages.items()})
    (workdir / "manifest.json").write_text(manifest.to_json())


def files(workdir: Path) -> list[str]:
    return sorted(str(p.relative_to(workdir)) for p in workdir.rglob("*") if p.is_file() or p.is_symlink())


@pytest.fixture
def two(workdir: Path) -> Path:
    trained(workdir, "exp-a", "10:00:00", "v0-a")
    trained(workdir, "exp-b", "11:00:00", "v1-b")
    current(workdir, "exp-b")
    return workdir


def rm(folder: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["exps", "rm", *args, str(folder / "pipeline.yaml"), "--yes"])


def test_rm_frees_the_first_experiments_checkpoints_and_leaves_the_seconds(two: Path) -> None:
    result = rm(two.parent.parent, "exp-a")
    assert (result.exit_code, result.output) == (0, (
        "experiments: exp-a\n"
        "files only they use:\n"
        f"    500 B  {two}/export/v0-a-merged\n"
        f"  1.0 KiB  {two}/sft/v0-a\n"
        "removed 1 experiment and 2 paths; freed 1.5 KiB\n"))
    assert files(two) == ["experiments/exp-b.json", "export/v1-b-merged/model.safetensors", "manifest.json",
                          "sft/v1-b/checkpoint-4/model.safetensors", "sft/v1-b/logging.jsonl"]


def test_rm_of_the_experiment_behind_the_current_state_keeps_its_files(two: Path) -> None:
    result = rm(two.parent.parent, "exp-b")
    assert (result.exit_code, result.output) == (0, (
        "experiments: exp-b\n"
        "files only they use: none\n"
        f"kept {two}/export/v1-b-merged: the current state uses it\n"
        f"kept {two}/sft/v1-b: the current state uses it\n"
        "removed 1 experiment and 0 paths; freed 0 B\n"))
    assert "sft/v1-b/checkpoint-4/model.safetensors" in files(two)
    assert not (two / "experiments" / "exp-b.json").exists()


def test_rm_keeps_what_a_kept_experiment_uses(workdir: Path) -> None:
    trained(workdir, "exp-a", "10:00:00", "v0-a")
    trained(workdir, "exp-c", "12:00:00", "v2-c", {"best_checkpoint": str(workdir / "sft" / "v0-a" / "checkpoint-4")})
    result = rm(workdir.parent.parent, "exp-a")
    assert result.exit_code == 0, result.output
    assert f"kept {workdir}/sft/v0-a: exp-c uses it\n" in result.output
    assert (workdir / "sft" / "v0-a" / "checkpoint-4" / "model.safetensors").exists()
    assert not (workdir / "export" / "v0-a-merged").exists()


def test_rm_removes_a_link_never_what_it_points_to_nor_paths_outside_the_workdir(workdir: Path,
                                                                              tmp_path: Path) -> None:
    outside = tmp_path / "mine"
    outside.mkdir()
    (outside / "keep.bin").write_bytes(b"k" * 10)
    (workdir / "sft").mkdir(parents=True)
    (workdir / "sft" / "link").symlink_to(outside)
    trained(workdir, "exp-a", "10:00:00", "v0-a", {"best_checkpoint": str(workdir / "sft" / "link"),
                                                   "report": str(outside)})
    result = rm(workdir.parent.parent, "exp-a")
    assert result.exit_code == 0, result.output
    assert f"  {len(str(outside))} B  {workdir}/sft/link\n" in result.output
    assert not (workdir / "sft" / "link").is_symlink()
    assert files(outside) == ["keep.bin"]


def test_rm_without_a_terminal_nor_yes_refuses(two: Path) -> None:
    result = CliRunner().invoke(main, ["exps", "rm", "exp-a", str(two.parent.parent / "pipeline.yaml")])
    assert (result.exit_code, result.output) == (
        2, "swiftpipe: error: exps rm: no terminal to confirm on; add --yes to remove without asking\n")
    assert (two / "sft" / "v0-a").exists() and (two / "experiments" / "exp-a.json").exists()


@pytest.mark.parametrize(("answer", "code", "left"), [("n\n", 1, True), ("y\n", 0, False)])
def test_rm_asks_first(two: Path, answer: str, code: int, left: bool) -> None:
    with CliRunner().isolation(input=answer) as streams:
        rc = exps_rm(["exp-a"], two.parent.parent / "pipeline.yaml", overrides=[], interactive=True)
    assert "remove 1 experiment? [y/N]: " in streams[0].getvalue().decode()
    assert (rc, (two / "sft" / "v0-a").exists(), (two / "experiments" / "exp-a.json").exists()) == (code, left, left)


def test_rm_of_an_unknown_id_is_one_line(two: Path) -> None:
    result = rm(two.parent.parent, "exp-a", "exp-zz")
    assert (result.exit_code, result.output) == (
        2, f"swiftpipe: error: exp-zz: no such experiment in {two}/experiments; list them with: swiftpipe exps list "
           f"{two.parent.parent}/pipeline.yaml\n")
    assert (two / "sft" / "v0-a").exists()


def test_rm_of_two_ids_with_the_default_pipeline(two: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(two.parent.parent)
    result = CliRunner().invoke(main, ["exps", "rm", "exp-a", "exp-b", "--yes"])
    lines = result.output.splitlines()
    assert (lines[0], lines[-1]) == ("experiments: exp-a exp-b", "removed 2 experiments and 2 paths; "
                                     "freed 1.5 KiB")
    assert files(two) == ["export/v1-b-merged/model.safetensors", "manifest.json",
                          "sft/v1-b/checkpoint-4/model.safetensors", "sft/v1-b/logging.jsonl"]
