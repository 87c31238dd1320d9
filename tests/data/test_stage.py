from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from swiftpipe.cli import main
from swiftpipe.core.errors import StageFailed, UserError
from swiftpipe.data.options import (
    ConvertOptions,
    Failure,
    Outcome,
    Source,
    plain,
    read_options,
    read_outcome,
    write_outcome,
)
from swiftpipe.data.rows.row import Settings
from swiftpipe.engine.fingerprint import fingerprint
from swiftpipe.engine.launch import LocalLauncher
from swiftpipe.engine.outputs import DataSplits
from swiftpipe.engine.stage import StageContext
from swiftpipe.kinds.data import DataParams, DataStage
from swiftpipe.loading import load_pipeline
from tests.conftest import stage_context
from tests.data.conftest import DATA, DATASETS


def context(tmp_path: Path, data_yaml: str, model: str = "nomodel") -> StageContext:
    path = tmp_path / "pipeline.yaml"
    path.write_text(f"name: demo\nmodel: {model}\n" + textwrap.dedent(data_yaml))
    pipeline = load_pipeline(path)
    ctx: StageContext = stage_context(pipeline, "data")
    return ctx


def test_data_stage_writes_train_and_val_with_absolute_outputs(tmp_path: Path) -> None:
    ctx = context(
        tmp_path,
        f"""
        data:
          sources:
            - path: {DATASETS / "support.dolly.jsonl"}
            - path: {DATASETS / "recipes.alpaca.json"}
              format: alpaca
              limit: 10
          val_ratio: 0.2
        """,
    )
    stage = DataStage()
    plan = stage.plan(ctx)
    result = stage.run(ctx, plan)
    data = ctx.workdir / "data"
    assert result.outputs == DataSplits(
        train=str(data / "train.jsonl"),
        val=str(data / "val.jsonl"),
        rejects=str(data / "rejects.jsonl"),
        report=str(data / "report.json"),
    )
    assert result.metrics["rows_in"] == 40
    assert result.metrics["train"] + result.metrics["val"] == 40
    report = json.loads((data / "report.json").read_text())
    assert [s["format"] for s in report["sources"]] == ["dolly", "alpaca"]
    assert stage.plan(ctx).inputs == plan.inputs  # planning has no side effects on the fingerprint


MIXED = f"""
    data:
      sources:
        - path: {DATASETS / "support.dolly.jsonl"}
          limit: 12
        - path: {DATASETS / "recipes.alpaca.json"}
          format: alpaca
        - path: {DATA / "broken.jsonl"}
          limit: 8
        - path: {DATA / "agent.jsonl"}
      val_ratio: 0.25
      seed: 7
      system: -be brief
      max_reject_ratio: 0.5
    """


def test_plan_hands_the_child_one_options_file_holding_every_setting(tmp_path: Path) -> None:
    plan = DataStage().plan(context(tmp_path, MIXED))
    out = tmp_path / "runs" / "demo" / "data"
    assert plan.argv == [sys.executable, "-m", "swiftpipe.data", str(out / "options.json")]
    assert plan.params == DataParams(out / "options.json", ConvertOptions(
        sources=(Source(DATASETS / "support.dolly.jsonl", "auto", 12),
                 Source(DATASETS / "recipes.alpaca.json", "alpaca"),
                 Source(DATA / "broken.jsonl", "auto", 8),
                 Source(DATA / "agent.jsonl")),
        train=out / "train.jsonl",
        val=out / "val.jsonl",
        rejects=out / "rejects.jsonl",
        report=out / "report.json",
        settings=Settings(system="-be brief", dedupe=True, val_ratio=0.25, seed=7, purpose="sft", multimodal=True),
        max_reject_ratio=0.5,
        result=out / "result.json",
    ))  # fmt: skip
    # plan shows what the file will hold, and the fingerprint covers it
    assert plan.notes[-1] == "options.json: " + json.dumps(plain(plan.params.options), ensure_ascii=False)
    assert plan.inputs["options"] == plain(plan.params.options)


def test_plan_resolves_tokenizer_and_max_length(tmp_path: Path, tiny_tokenizer: Path) -> None:
    yaml = f"data:\n  sources:\n    - path: {DATA / 'agent.jsonl'}\n  dedupe: false\n  max_length: 64\n"
    settings = DataStage().plan(context(tmp_path, yaml, model=str(tiny_tokenizer))).params.options.settings
    assert settings == Settings(tokenizer=tiny_tokenizer, max_length=64)  # no config.json: estimated lengths


def test_run_writes_the_options_file_the_plan_holds(tmp_path: Path) -> None:
    ctx = context(tmp_path, MIXED)
    stage = DataStage()
    plan = stage.plan(ctx)
    stage.run(ctx, plan)
    params: DataParams = plan.params
    assert read_options(params.file) == params.options


def test_shown_command_run_by_hand_writes_the_same_files(tmp_path: Path) -> None:
    ctx = context(tmp_path, MIXED)
    stage = DataStage()
    plan = stage.plan(ctx)
    result = stage.run(ctx, plan)
    assert result.metrics == {"rows_in": 66, "train": 41, "val": 18, "rejected": 7}
    options: ConvertOptions = plan.params.options
    assert options.val is not None and options.result is not None
    names = [options.train, options.val, options.rejects, options.result]
    staged = [p.read_bytes() for p in names]
    for path in names:
        path.unlink()
    done = subprocess.run(plan.argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert [p.read_bytes() for p in names] == staged
    assert all(staged)


def test_fingerprint_follows_sources_and_config(tmp_path: Path) -> None:
    src = tmp_path / "a.jsonl"
    src.write_bytes((DATA / "agent.jsonl").read_bytes())
    yaml = f"data:\n  sources:\n    - path: {src}\n"
    first = fingerprint(DataStage().plan(context(tmp_path, yaml)).inputs)
    assert fingerprint(DataStage().plan(context(tmp_path, yaml + "  seed: 7\n")).inputs) != first
    src.write_bytes(src.read_bytes() + b"\n")
    assert fingerprint(DataStage().plan(context(tmp_path, yaml)).inputs) != first


def test_too_many_rejects_fail_the_stage_with_the_result_files_message(tmp_path: Path) -> None:
    ctx = context(tmp_path, f"data:\n  sources:\n    - path: {DATA / 'broken.jsonl'}\n")
    stage = DataStage()
    with pytest.raises(StageFailed) as err:
        stage.run(ctx, stage.plan(ctx))
    data = ctx.workdir / "data"
    rejects = data / "rejects.jsonl"
    message = f"14 of 18 rows rejected (77.8%), above max_reject_ratio 0.05; reasons and rows in {rejects}"
    assert str(err.value) == message
    assert err.value.exit_code == 1
    outcome = read_outcome(data / "result.json")
    assert outcome is not None and outcome.failure == Failure("data", message)
    assert outcome.metrics == {"rows_in": 18, "train": 4, "val": 0, "rejected": 14}
    assert not (data / "train.jsonl").exists()


def test_a_user_error_in_the_child_is_a_user_error_of_the_stage(tmp_path: Path, write_jsonl: Any) -> None:
    src = write_jsonl([{"a": 1}])
    ctx = context(tmp_path, f"data:\n  sources:\n    - path: {src}\n")
    stage = DataStage()
    with pytest.raises(UserError) as err:
        stage.run(ctx, stage.plan(ctx))
    message = (
        f"{src}: cannot detect the format (line 1 has keys a); "
        "pass --format sharegpt|alpaca|messages|dolly|query-response|text"
    )
    assert str(err.value) == message
    assert read_outcome(ctx.workdir / "data" / "result.json") == Outcome({}, {}, Failure("user", message))


class FakeChild(LocalLauncher):
    """A launcher standing in for the child: writes `log` lines and `outcome` (if any), returns `rc`."""

    def __init__(self, rc: int, log: str = "", outcome: Outcome | None = None) -> None:
        self.rc, self.log, self.outcome = rc, log, outcome
        self.argv: list[str] = []

    def run(self, argv: Sequence[str], env: dict[str, str], log_path: Path, **_: Any) -> int:
        self.argv = [str(a) for a in argv]
        options = read_options(Path(self.argv[-1]))  # written before the child starts
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text(self.log)
        if self.outcome is not None and options.result is not None:
            write_outcome(options.result, self.outcome)
        return self.rc


def run_with(tmp_path: Path, child: FakeChild) -> StageContext:
    ctx = context(tmp_path, f"data:\n  sources:\n    - path: {DATA / 'agent.jsonl'}\n")
    ctx.launcher = child
    DataStage().run(ctx, DataStage().plan(ctx))
    return ctx


def test_the_failure_message_is_the_result_files_not_the_log(tmp_path: Path) -> None:
    said = Outcome({}, {"rows_in": 3, "train": 0, "val": 0, "rejected": 3}, Failure("data", "no rows left: see it"))
    with pytest.raises(StageFailed) as err:
        run_with(tmp_path, FakeChild(1, "==> something else entirely\n", said))
    assert (str(err.value), err.value.exit_code) == ("no rows left: see it", 1)


def test_outputs_and_metrics_come_from_the_result_file(tmp_path: Path) -> None:
    train = tmp_path / "t.jsonl"
    train.write_text("{}\n")
    said = Outcome({"train": str(train), "val": None, "rejects": "/x/r.jsonl", "report": "/x/p.json"},
                   {"rows_in": 9, "train": 8, "val": 0, "rejected": 1})  # fmt: skip
    ctx = context(tmp_path, f"data:\n  sources:\n    - path: {DATA / 'agent.jsonl'}\n")
    ctx.launcher = FakeChild(0, "", said)
    result = DataStage().run(ctx, DataStage().plan(ctx))
    assert result.outputs == DataSplits(str(train), None, "/x/r.jsonl", "/x/p.json")
    assert result.metrics == said.metrics
    assert [a.path for a in result.artifacts] == [str(train)]


def test_a_child_that_dies_without_a_result_fails_with_its_exit_code(tmp_path: Path) -> None:
    stale = tmp_path / "runs" / "demo" / "data" / "result.json"
    write_outcome(stale, Outcome({}, {}, None))  # an earlier run's: must not pass for this one's
    with pytest.raises(StageFailed) as err:
        run_with(tmp_path, FakeChild(-9, "reading agent.jsonl\nKilled\n"))
    assert str(err.value) == f"python -m swiftpipe.data exited with code -9 and wrote no {stale}"
    assert err.value.exit_code == -9


def test_a_dead_child_shows_its_exit_code_and_log_tail_through_run(
    tmp_path: Path, write_pipeline: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_pipeline(f"name: demo\nmodel: nomodel\ndata:\n  sources:\n    - path: {DATA / 'agent.jsonl'}\n")
    monkeypatch.setattr(LocalLauncher, "run", FakeChild(137, "step one\nMemoryError: out of memory\n").run)
    done = CliRunner().invoke(main, ["run", str(path)])
    log = tmp_path / "runs" / "demo" / "logs" / "data.log"
    assert done.exit_code == 1
    assert (
        f"data failed: python -m swiftpipe.data exited with code 137 and wrote no "
        f"{tmp_path / 'runs' / 'demo' / 'data' / 'result.json'}"
    ) in done.output
    assert f"last lines of {log}:\nstep one\nMemoryError: out of memory" in done.output
