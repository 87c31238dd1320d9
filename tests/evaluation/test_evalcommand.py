"""The exact `evalscope eval` command line built from an eval stage's settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from swiftpipe.core.errors import UserError
from swiftpipe.evaluation import evalcommand
from swiftpipe.evaluation.settings import EvalSettings
from swiftpipe.loading import load_pipeline
from tests.kinds.servefakes import write_pipeline

WORK = Path("/w/runs/t/eval/finetuned")
THINK = {"remove_until": "</think>"}
MCQ = {"local_path": "/d/mcq", "subset_list": ["demo"], "filters": THINK}
QA = {"local_path": "/d/qa", "metric_list": ["Rouge"], "filters": THINK}


def argv_of(cfg: EvalSettings, datasets: dict[str, dict[str, Any]] | None = None, keyed: bool = False) -> list[str]:
    return evalcommand.eval_argv("/venv/bin/evalscope", cfg, datasets or {"general_mcq": MCQ, "general_qa": QA},
                                 api_url="http://127.0.0.1:8000/v1", model="tiny", work_dir=WORK, keyed=keyed)


def test_the_default_command() -> None:
    assert argv_of(EvalSettings({"general_mcq": {}})) == [
        "/venv/bin/evalscope", "eval", "--eval-type", "openai_api", "--api-url", "http://127.0.0.1:8000/v1",
        "--model", "tiny", "--datasets", "general_mcq", "general_qa",
        "--dataset-args", json.dumps({"general_mcq": MCQ, "general_qa": QA}, separators=(",", ":")),
        "--eval-batch-size", "4", "--generation-config", '{"temperature":0.0,"max_tokens":256}',
        "--work-dir", str(WORK), "--no-timestamp",
    ]


def test_every_setting_reaches_the_command() -> None:
    args = {"seed": 7, "stream": True, "debug": False, "judge_model_args": {"a": 1}, "dataset_hub": None}
    cfg = EvalSettings({"general_mcq": {}}, limit=5, batch_size=2, generation_config={"max_tokens": 16, "top_p": 0.9},
                       ignore_errors=True, args=args)
    argv = argv_of(cfg, {"general_mcq": MCQ}, keyed=True)
    assert argv[argv.index("--eval-batch-size"):] == [
        "--eval-batch-size", "2", "--generation-config", '{"temperature":0.0,"max_tokens":16,"top_p":0.9}',
        "--limit", "5", "--work-dir", str(WORK), "--no-timestamp", "--api-key", "", "--ignore-errors",
        "--seed", "7", "--stream", "--judge-model-args", '{"a":1}',
    ]


def test_the_key_is_never_in_the_command_only_an_empty_api_key() -> None:
    argv = argv_of(EvalSettings({"general_mcq": {}}), keyed=True)
    at = argv.index("--api-key")
    assert argv[at + 1] == "" and argv.count("--api-key") == 1
    assert "--api-key" not in argv_of(EvalSettings({"general_mcq": {}}), keyed=False)


def test_dataset_args_keep_non_ascii_text() -> None:
    argv = argv_of(EvalSettings({"ceval": {}}), {"ceval": {"subset_list": ["逻辑学"]}})
    assert argv[argv.index("--dataset-args") + 1] == '{"ceval":{"subset_list":["逻辑学"]}}'


def test_generation_config_always_sets_temperature_and_the_user_s_wins() -> None:
    assert evalcommand.generation_config(EvalSettings({}, generation_config={})) == {"temperature": 0.0}
    assert evalcommand.generation_config(EvalSettings({}, generation_config={"max_tokens": 8, "temperature": 0.7})) == {
        "temperature": 0.7, "max_tokens": 8}


def test_eval_flags_use_dashes_and_bare_switches() -> None:
    assert evalcommand.eval_flags({"use_cache": "/c", "rerun_review": True, "debug": False, "seed": 0,
                                   "stop": ["a", "b"], "dataset_dir": None}) == [
        "--use-cache", "/c", "--rerun-review", "--seed", "0", "--stop", "a", "b"]
    assert evalcommand.eval_flags({}) == []


def test_dataset_args_resolve_paths_and_fill_defaults(tmp_path: Path) -> None:
    pipeline = write_pipeline(tmp_path)
    loaded = load_pipeline(pipeline, [])
    cfg = EvalSettings({
        "general_mcq": {"local_path": "data/mcq", "subset_list": ["demo"]},
        "general_qa": {"local_path": str(tmp_path / "data" / "qa"), "metric_list": ["BLEU"]},
        "arc": {"filters": {"remove_until": "Answer:"}, "few_shot_num": 0},
    })
    args = evalcommand.dataset_args(loaded, cfg, "stages.eval")
    assert args == {
        "general_mcq": {"local_path": str(tmp_path / "data" / "mcq"), "subset_list": ["demo"], "filters": THINK},
        "general_qa": {"local_path": str(tmp_path / "data" / "qa"), "metric_list": ["BLEU"], "filters": THINK},
        "arc": {"filters": {"remove_until": "Answer:"}, "few_shot_num": 0},
    }
    assert cfg.datasets["general_mcq"] == {"local_path": "data/mcq", "subset_list": ["demo"]}  # not changed
    args["general_mcq"]["filters"]["remove_until"] = "x"
    assert evalcommand.THINK_FILTER == THINK  # each dataset gets its own copy


def test_a_missing_local_path_names_the_key_and_where_it_looked(tmp_path: Path) -> None:
    loaded = load_pipeline(write_pipeline(tmp_path), [])
    with pytest.raises(UserError) as err:
        evalcommand.dataset_args(loaded, EvalSettings({"cmmlu": {"local_path": "../cmmlu"}}), "stages.base")
    assert str(err.value) == (
        f"{loaded.display_name} › stages.base.datasets.cmmlu.local_path: ../cmmlu does not exist "
        f"(looked for {tmp_path.parent / 'cmmlu'}); relative paths start at the folder of {loaded.display_name}")


@pytest.mark.parametrize(("metrics", "asks"), [
    (["Rouge"], False), (["BLEU"], True), (["Rouge", "bleu"], True), (None, False), ([], False),
])
def test_asks_bleu_only_for_general_qa(metrics: list[str] | None, asks: bool) -> None:
    assert evalcommand.asks_bleu({"general_qa": {"metric_list": metrics}}) is asks
    assert evalcommand.asks_bleu({"other": {"metric_list": metrics}}) is False


def test_shaping_leaves_out_where_the_server_listens_and_the_reports_go() -> None:
    cfg = EvalSettings({"general_mcq": {}}, limit=5, args={"seed": 7})
    datasets = {"general_mcq": MCQ}
    assert evalcommand.shaping(cfg, datasets, model="tiny", keyed=True) == {
        "datasets": datasets, "model": "tiny", "batch_size": 4,
        "generation_config": {"temperature": 0.0, "max_tokens": 256}, "limit": 5, "keyed": True,
        "ignore_errors": False, "args": {"seed": 7},
    }


def test_with_target_aims_the_same_command_elsewhere() -> None:
    argv = argv_of(EvalSettings({"general_mcq": {}}, limit=3))
    moved = evalcommand.with_target(argv, api_url="http://127.0.0.1:9001/v1", model="base",
                                    work_dir=Path("/w/runs/t/eval/base"))
    assert [a for a, b in zip(argv, moved, strict=True) if a != b] == ["http://127.0.0.1:8000/v1", "tiny", str(WORK)]
    assert moved[moved.index("--api-url") + 1] == "http://127.0.0.1:9001/v1"
    assert moved[moved.index("--model") + 1] == "base"
    assert moved[moved.index("--work-dir") + 1] == "/w/runs/t/eval/base"
    assert argv[argv.index("--model") + 1] == "tiny"  # the original is untouched


def test_only_keeps_the_named_datasets_and_every_other_flag() -> None:
    argv = argv_of(EvalSettings({"general_mcq": {}}, limit=3), keyed=True)
    rest = evalcommand.only(argv, ["general_qa"])
    at = rest.index("--dataset-args")
    assert rest[: at] == [*argv[: argv.index("--datasets") + 1], "general_qa"]
    assert rest[at + 1] == json.dumps({"general_qa": QA}, separators=(",", ":"))
    assert rest[at + 2:] == argv[argv.index("--dataset-args") + 2:]


def test_only_follows_the_order_it_is_given() -> None:
    argv = argv_of(EvalSettings({"general_mcq": {}}))
    both = evalcommand.only(argv, ["general_qa", "general_mcq"])
    assert both[both.index("--datasets") + 1: both.index("--dataset-args")] == ["general_qa", "general_mcq"]
    assert list(json.loads(both[both.index("--dataset-args") + 1])) == ["general_qa", "general_mcq"]
    assert evalcommand.only(argv, ["general_mcq", "general_qa"]) == argv
