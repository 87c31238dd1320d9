"""The data kind's plan as `swiftpipe plan` shows it: its notes, and the settings it resolves from the
stages that read it (the conversion itself is tested in tests/data)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from swiftpipe.core.errors import UserError
from swiftpipe.engine.stage import StagePlan
from swiftpipe.kinds.data import DataStage
from swiftpipe.loading import load_pipeline
from tests.conftest import stage_context

WritePipeline = Callable[..., Path]


def plan_of(write_pipeline: WritePipeline, text: str, stage: str = "data") -> tuple[Path, StagePlan[Any]]:
    path = write_pipeline("name: demo\nmodel: model\n" + text)
    (path.parent / "a.jsonl").write_text('{"messages": []}\n')
    (path.parent / "model").mkdir(exist_ok=True)
    return path.parent, DataStage().plan(stage_context(load_pipeline(path), stage))


def test_the_notes_say_what_is_converted_and_what_is_not_checked(write_pipeline: WritePipeline,
                                                                 tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text('{"architectures": ["Qwen3ForCausalLM"]}')
    root, plan = plan_of(write_pipeline, "data: {sources: [{path: a.jsonl}], val_ratio: 0.5}\n")
    out = root / "runs" / "demo" / "data"
    assert plan.argv == [sys.executable, "-m", "swiftpipe.data", str(out / "options.json")]
    notes = plan.notes
    assert notes[:3] == [f"1 source(s) -> {out / 'train.jsonl'} (for sft)",
                         "the model takes text only: rows with images/audios/videos are rejected",
                         "no local tokenizer.json: rows are not checked against max_length"]
    assert notes[3].startswith("options.json: ") and json.loads(notes[3].removeprefix("options.json: "))["val"] == \
        str(out / "val.jsonl")
    assert len(notes) == 4


def test_with_a_tokenizer_and_multimodal_on_those_notes_go(write_pipeline: WritePipeline, tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "tokenizer.json").write_text("{}")
    _, plan = plan_of(write_pipeline, "data: {sources: [{path: a.jsonl}], multimodal: true}\n")
    assert [n.split(":")[0] for n in plan.notes] == [
        f"1 source(s) -> {tmp_path / 'runs' / 'demo' / 'data' / 'train.jsonl'} (for sft)", "options.json"]


def test_max_length_comes_from_the_training_stage_reading_it(write_pipeline: WritePipeline, tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "tokenizer.json").write_text("{}")
    _, plan = plan_of(write_pipeline, "data: {sources: [{path: a.jsonl}]}\nstages:\n  sft: {args: {max_length: 512}}\n")
    settings = plan.params.options.settings
    assert (settings.max_length, settings.tokenizer, settings.exact) == (512, tmp_path / "model", False)


def test_a_stage_read_by_rlhf_converts_preference_rows(write_pipeline: WritePipeline) -> None:
    _, plan = plan_of(write_pipeline, "data: {sources: [{path: a.jsonl}]}\nstages:\n  dpo: {kind: rlhf}\n")
    assert plan.notes[0].endswith(" (for rlhf)")


@pytest.mark.parametrize(("text", "message"), [
    ("data: {sources: [{path: a.jsonl}, {path: gone.jsonl}]}\n",
     "data.sources[1].path: {root}/gone.jsonl: no such file; check the path"),
    ("data: {sources: [{path: a.jsonl}], media_root: media}\n",
     "data.media_root: {root}/media: no such directory; check the path"),
])
def test_a_missing_file_or_folder_is_one_line(write_pipeline: WritePipeline, tmp_path: Path, text: str,
                                              message: str) -> None:
    with pytest.raises(UserError) as err:
        plan_of(write_pipeline, text)
    assert str(err.value) == message.format(root=tmp_path)
