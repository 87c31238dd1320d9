"""The evalscope settings shared by eval and base-eval: defaults, checks, and what settings_of copies."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from swiftpipe.core.errors import UserError
from swiftpipe.evaluation.settings import GENERATION_CHECKS, EvalSettings, settings_of
from swiftpipe.loading import load_pipeline
from tests.kinds.servefakes import write_pipeline

DATASETS = {"general_mcq": {"local_path": "data/mcq"}}


def test_defaults() -> None:
    cfg = EvalSettings(DATASETS)
    assert (cfg.limit, cfg.batch_size, cfg.ignore_errors, cfg.args, cfg.env, cfg.venv) == (None, 4, False, {}, {}, None)
    assert cfg.generation_config == {"temperature": 0.0, "max_tokens": 256}
    assert EvalSettings(DATASETS).generation_config is not cfg.generation_config  # never shared between stages


def test_settings_of_takes_exactly_the_evalscope_settings() -> None:
    values: dict[str, Any] = {"datasets": DATASETS, "limit": 5, "batch_size": 2,
                              "generation_config": {"temperature": 0.7}, "ignore_errors": True, "args": {"seed": 7},
                              "env": {"A": "1"}, "venv": "venvs/eval"}
    cfg = SimpleNamespace(**values, api_url="http://h/v1", served_model_name="m", compare_base=True)
    assert settings_of(cfg) == EvalSettings(**values)
    assert [f.name for f in fields(EvalSettings)] == list(values)


def test_settings_of_an_eval_stage(tmp_path: Path) -> None:
    loaded = load_pipeline(write_pipeline(tmp_path), ["stages.eval.batch_size=8"])
    cfg = settings_of(loaded.graph["eval"].config)
    assert (cfg.limit, cfg.batch_size, list(cfg.datasets)) == (5, 8, ["general_mcq", "general_qa"])
    assert cfg.datasets["general_qa"] == {"local_path": "data/qa", "subset_list": ["demo"]}


def test_the_checked_generation_keys() -> None:
    assert sorted(GENERATION_CHECKS) == ["max_tokens", "retries", "retry_interval", "temperature", "timeout", "top_p"]


@pytest.mark.parametrize(("override", "message"), [
    ("stages.eval.generation_config.top_p=2",
     "stages.eval.generation_config.top_p: expected a number from 0 to 1, got 2"),
    ("stages.eval.generation_config.max_tokens=0",
     "stages.eval.generation_config.max_tokens: expected an integer >= 1, got 0"),
    ("stages.eval.datasets={}", "stages.eval.datasets: expected at least one entry, got an empty mapping"),
    ("stages.eval.batch_size=0", "stages.eval.batch_size: expected an integer >= 1, got 0"),
    ("stages.eval.limit=0", "stages.eval.limit: expected an integer >= 1, got 0"),
])
def test_settings_are_checked_where_they_are_written(tmp_path: Path, override: str, message: str) -> None:
    with pytest.raises(UserError) as err:
        load_pipeline(write_pipeline(tmp_path), [override])
    assert str(err.value) == f"--set › {message}"


def test_unchecked_generation_keys_pass_as_given_and_replace_the_default(tmp_path: Path) -> None:
    # A given generation_config is the whole mapping: the default max_tokens 256 is not merged in.
    loaded = load_pipeline(write_pipeline(tmp_path), ["stages.eval.generation_config.presence_penalty=1.5",
                                                      "stages.eval.generation_config.temperature=0.3"])
    assert settings_of(loaded.graph["eval"].config).generation_config == {
        "presence_penalty": 1.5, "temperature": 0.3}
