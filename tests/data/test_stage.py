from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from swiftpipe.config.load import load_pipeline
from swiftpipe.core.errors import StageFailed, UserError
from swiftpipe.engine.fingerprint import fingerprint
from swiftpipe.engine.stage import StageContext
from swiftpipe.kinds.data import DataParams, DataStage
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
    assert result.outputs == {
        "train": str(data / "train.jsonl"),
        "val": str(data / "val.jsonl"),
        "rejects": str(data / "rejects.jsonl"),
        "report": str(data / "report.json"),
    }
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


def test_plan_shows_every_setting_on_the_convert_command(tmp_path: Path) -> None:
    plan = DataStage().plan(context(tmp_path, MIXED))
    out = tmp_path / "runs" / "demo" / "data"
    sources = [str(DATASETS / "support.dolly.jsonl"), str(DATASETS / "recipes.alpaca.json"),
               str(DATA / "broken.jsonl"), str(DATA / "agent.jsonl")]
    assert plan.argv == [
        sys.executable, "-m", "swiftpipe", "convert", *sources,
        "-o", str(out / "train.jsonl"),
        "--rejects", str(out / "rejects.jsonl"),
        "--report", str(out / "report.json"),
        "--val-output", str(out / "val.jsonl"),
        "--val-ratio", "0.25", "--seed", "7", "--dedupe", "--system", "-be brief",
        "--max-reject-ratio", "0.5", "--purpose", "sft", "--multimodal",
        "--format", "auto", "--format", "alpaca", "--format", "auto", "--format", "auto",
        "--limit", "12", "--limit", "all", "--limit", "8", "--limit", "all",
    ]  # fmt: skip
    assert plan.params == DataParams(out / "train.jsonl", out / "val.jsonl", out / "rejects.jsonl", out / "report.json")


def test_plan_passes_tokenizer_and_max_length_and_omits_off_settings(tmp_path: Path, tiny_tokenizer: Path) -> None:
    yaml = f"data:\n  sources:\n    - path: {DATA / 'agent.jsonl'}\n  dedupe: false\n  max_length: 64\n"
    argv = DataStage().plan(context(tmp_path, yaml, model=str(tiny_tokenizer))).argv
    options = argv[argv.index("-o") :]
    assert options[6:] == [
        "--val-ratio", "0.0", "--seed", "42", "--max-reject-ratio", "0.05", "--purpose", "sft", "--multimodal",
        "--tokenizer", str(tiny_tokenizer), "--max-length", "64", "--format", "auto", "--limit", "all",
    ]  # fmt: skip


def test_shown_command_run_by_hand_writes_the_same_files(tmp_path: Path) -> None:
    ctx = context(tmp_path, MIXED)
    stage = DataStage()
    plan = stage.plan(ctx)
    result = stage.run(ctx, plan)
    assert result.metrics == {"rows_in": 66, "train": 41, "val": 18, "rejected": 7}
    params: DataParams = plan.params
    assert params.val is not None
    names = [params.train, params.val, params.rejects]
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


def test_too_many_rejects_fail_the_stage(tmp_path: Path) -> None:
    ctx = context(tmp_path, f"data:\n  sources:\n    - path: {DATA / 'broken.jsonl'}\n")
    stage = DataStage()
    with pytest.raises(StageFailed) as err:
        stage.run(ctx, stage.plan(ctx))
    rejects = ctx.workdir / "data" / "rejects.jsonl"
    assert str(err.value) == (
        f"data: 14 of 18 rows rejected (77.8%), above max_reject_ratio 0.05; reasons and rows in {rejects}"
    )
    assert err.value.exit_code == 1
    assert not (ctx.workdir / "data" / "train.jsonl").exists()


def test_a_user_error_in_the_child_is_a_user_error_of_the_stage(tmp_path: Path, write_jsonl: Any) -> None:
    src = write_jsonl([{"a": 1}])
    ctx = context(tmp_path, f"data:\n  sources:\n    - path: {src}\n")
    stage = DataStage()
    with pytest.raises(UserError) as err:
        stage.run(ctx, stage.plan(ctx))
    assert str(err.value) == (
        f"{src}: cannot detect the format (line 1 has keys a); "
        "pass --format sharegpt|alpaca|messages|dolly|query-response|text"
    )
