"""What a data stage converts for: rlhf when an rlhf stage reads it; media kept or not by model."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from swiftpipe.core.errors import UserError
from swiftpipe.data.rows.row import Settings
from swiftpipe.kinds.data import DataStage
from swiftpipe.kinds.rlhf import RlhfStage
from swiftpipe.loading import load_pipeline
from tests.conftest import stage_context
from tests.data.conftest import DATASETS

TINY = DATASETS.parent / "models" / "tiny-qwen3"


def pipeline(tmp_path: Path, stages: str, model: Path = TINY) -> Any:
    path = tmp_path / "pipeline.yaml"
    path.write_text(f"name: demo\nmodel: {model}\nstages:\n" + textwrap.indent(textwrap.dedent(stages), "  "))
    return load_pipeline(path)


def flag(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def settings(loaded: Any, name: str = "pairs") -> Settings:
    """The row settings the data stage `name` would hand its child."""
    found: Settings = DataStage().plan(stage_context(loaded, name)).params.options.settings
    return found


PAIRS = f"""
pairs:
  kind: data
  sources: [{{path: {DATASETS / "preference.dpo.jsonl"}}}]
"""


def test_a_data_stage_read_by_rlhf_converts_for_rlhf_and_rlhf_reads_it(tmp_path: Path) -> None:
    loaded = pipeline(tmp_path, PAIRS + "dpo:\n  kind: rlhf\n  rlhf_type: kto\n  args: {max_steps: 2}\n")
    found = settings(loaded)
    assert (found.purpose, found.multimodal) == ("rlhf", False)  # the tiny model is a Qwen3ForCausalLM
    train = tmp_path / "train.jsonl"
    train.write_text("")
    argv = RlhfStage().plan(stage_context(loaded, "dpo", {"pairs": {"train": str(train), "val": None}})).argv
    assert argv[1:3] == ["rlhf", "--model"]
    assert flag(argv, "--dataset") == str(train) and flag(argv, "--rlhf_type") == "kto"


def test_sft_readers_get_sft_and_the_option_overrides(tmp_path: Path) -> None:
    loaded = pipeline(tmp_path, PAIRS + "sft:\n  from: pairs\n")
    assert settings(loaded).purpose == "sft"
    loaded = pipeline(tmp_path, PAIRS + "  purpose: rlhf\n  multimodal: true\n")
    assert (settings(loaded).purpose, settings(loaded).multimodal) == ("rlhf", True)


def test_a_data_stage_read_by_sft_and_rlhf_is_refused(tmp_path: Path) -> None:
    loaded = pipeline(tmp_path, PAIRS + "sft:\n  from: pairs\ndpo:\n  kind: rlhf\n  from: pairs\n")
    with pytest.raises(UserError) as err:
        DataStage().plan(stage_context(loaded, "pairs"))
    assert str(err.value) == (
        "stages.pairs: read by rlhf stage 'dpo' and sft stage 'sft', which need different rows "
        "(preference pairs vs conversations), use one data stage for each"
    )


def test_rlhf_type_is_reserved_in_args(tmp_path: Path) -> None:
    with pytest.raises(UserError) as err:
        pipeline(tmp_path, PAIRS + "dpo:\n  kind: rlhf\n  args: {rlhf_type: orpo}\n")
    assert "rlhf_type" in str(err.value) and "set the stage's rlhf_type" in str(err.value)


def test_strict_and_system_template_reach_the_options(tmp_path: Path) -> None:
    loaded = pipeline(tmp_path, PAIRS + "  strict: true\n  system_template: 'lang: {reasoning_language}'\n")
    found = settings(loaded)
    assert found.strict is True and found.system_template == "lang: {reasoning_language}"
