from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from swiftpipe.config.load import load_pipeline
from swiftpipe.engine.fingerprint import fingerprint
from swiftpipe.engine.manifest import Manifest
from swiftpipe.engine.stage import StageContext
from swiftpipe.errors import StageFailed
from swiftpipe.kinds.data import DataStage
from tests.data.conftest import DATA, DATASETS


def context(tmp_path: Path, data_yaml: str, model: str = "nomodel") -> StageContext:
    path = tmp_path / "pipeline.yaml"
    path.write_text(f"name: demo\nmodel: {model}\n" + textwrap.dedent(data_yaml))
    pipeline = load_pipeline(path)
    return StageContext(pipeline, Manifest(pipeline="demo", workdir=str(pipeline.workdir)))


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
    assert str(err.value).startswith("data: 14 of 18 rows rejected (77.8%), above max_reject_ratio 0.05")
