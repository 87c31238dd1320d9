from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from swiftpipe.core.errors import UserError
from swiftpipe.kinds import user_kinds
from swiftpipe.loading import load_pipeline

Write = Callable[[str], Path]

VALID = """
name: demo
model: models/tiny
stages:
  sft:
    dataset: [train.jsonl]
    args:
      learning_rate: 1e-4
  export:
    checkpoint: last
  deploy:
    port: 8011
"""


def error_of(path: Path, overrides: list[str] | None = None, env: dict[str, str] | None = None) -> str:
    with pytest.raises(UserError) as info:
        load_pipeline(path, overrides, env=env or {})
    return str(info.value)


def test_valid_pipeline_loads_with_typed_values(write_pipeline: Write) -> None:
    loaded = load_pipeline(write_pipeline(VALID), env={})
    sft = loaded.graph["sft"].config
    assert sft is not None and sft.args == {"learning_rate": "1e-4"}
    assert loaded.graph["deploy"].config is not None and loaded.graph["deploy"].config.port == 8011
    assert loaded.workdir == loaded.base_dir / "runs" / "demo"
    assert loaded.path("models/tiny") == loaded.base_dir / "models" / "tiny"


def test_typo_in_stage_key_suggests_the_closest(write_pipeline: Write) -> None:
    path = write_pipeline(VALID.replace("    args:", "    arg:"))
    assert error_of(path) == f"{path}:6 › stages.sft.arg: unknown key; did you mean 'args'?"


def test_wrong_type_names_expected_and_found(write_pipeline: Write) -> None:
    path = write_pipeline(VALID.replace("port: 8011", "port: abc"))
    assert error_of(path) == f"{path}:11 › stages.deploy.port: expected an integer from 1 to 65535, got 'abc'"


def test_unknown_stage_lists_the_stages(write_pipeline: Write) -> None:
    path = write_pipeline(VALID + "  finetune: {}\n")
    kinds = ", ".join(user_kinds())  # data, pt, sft, ...: the registry grows
    assert error_of(path) == f"{path}:12 › stages.finetune: 'finetune' is not a kind; add kind: (one of {kinds})"


def test_bad_choice_suggests_a_value(write_pipeline: Write) -> None:
    path = write_pipeline(VALID.replace("port: 8011", "backend: lmdeplyo"))
    assert error_of(path) == (
        f"{path}:11 › stages.deploy.backend: expected one of 'auto', 'lmdeploy', 'transformers', "
        "'vllm', got 'lmdeplyo'; did you mean 'lmdeploy'?"
    )


def test_every_problem_is_reported_at_once(write_pipeline: Write) -> None:
    path = write_pipeline("name: 3\nstages: {}\n")
    assert error_of(path).splitlines() == [
        f"{path}:1 › name: expected a string, got 3",
        f"{path} › model: missing required key",
    ]


def test_missing_environment_variable(write_pipeline: Write) -> None:
    path = write_pipeline(VALID.replace("models/tiny", "${TINY_DIR}"))
    assert error_of(path) == (
        f"{path}:2 › model: environment variable TINY_DIR is not set; "
        "export it or write ${TINY_DIR:-default}"
    )


def test_interpolated_values_keep_their_type(write_pipeline: Write) -> None:
    path = write_pipeline(VALID.replace("port: 8011", "port: ${PORT:-9001}"))
    loaded = load_pipeline(path, env={"PORT": "9100"})
    assert loaded.graph["deploy"].config is not None and loaded.graph["deploy"].config.port == 9100


def test_literal_secret_is_refused(write_pipeline: Write) -> None:
    path = write_pipeline(VALID.replace("learning_rate: 1e-4", "hub_token: hf_abc123"))
    assert error_of(path) == (
        f"{path}:7 › stages.sft.args.hub_token: a secret must not be written in the pipeline file; "
        "export it in the environment and write 'hub_token: ${VAR}', or use the stage's *_env option"
    )


def test_secret_from_environment_is_accepted(write_pipeline: Write) -> None:
    path = write_pipeline(VALID.replace("learning_rate: 1e-4", "hub_token: ${HUB_TOKEN}"))
    loaded = load_pipeline(path, env={"HUB_TOKEN": "hf_abc123"})
    assert loaded.graph["sft"].config.args["hub_token"] == "hf_abc123"


def test_override_sets_a_typed_value(write_pipeline: Write) -> None:
    loaded = load_pipeline(write_pipeline(VALID), ["stages.sft.args.learning_rate=2e-4"], env={})
    assert loaded.graph["sft"].config.args["learning_rate"] == 2e-4


def test_override_errors_name_the_override(write_pipeline: Write) -> None:
    path = write_pipeline(VALID)
    assert error_of(path, ["stages.deploy.prot=1"]) == (
        "--set › stages.deploy.prot: unknown key; did you mean 'port'?"
    )


def test_reserved_and_renamed_arguments(write_pipeline: Write) -> None:
    path = write_pipeline(VALID.replace("learning_rate: 1e-4", "train_type: lora\n      output_dir: x"))
    assert error_of(path).splitlines() == [
        f"{path}:7 › stages.sft.args.train_type: renamed to 'tuner_type' in ms-swift 4",
        f"{path}:8 › stages.sft.args.output_dir: set by swiftpipe; swiftpipe writes under the workdir",
    ]


def test_sft_without_data(write_pipeline: Write) -> None:
    path = write_pipeline("name: d\nmodel: m\nstages:\n  sft: {}\n")
    assert error_of(path) == (
        f"{path}:4 › stages.sft: no training data; add a 'data' section (or a data stage) or list files under dataset"
    )


def test_invalid_yaml_names_the_line(write_pipeline: Write) -> None:
    path = write_pipeline("name: d\nmodel: [unclosed\n")
    assert error_of(path) == f"{path}:3: invalid YAML: expected ',' or ']', but got '<stream end>'"


def test_missing_file(tmp_path: Path) -> None:
    assert error_of(tmp_path / "nope.yaml") == f"{tmp_path / 'nope.yaml'}: no such file"


def test_list_items_have_indexed_paths(write_pipeline: Write) -> None:
    path = write_pipeline(
        "name: d\nmodel: m\ndata:\n  sources:\n    - path: a.jsonl\n    - path: b.jsonl\n      format: csv\n"
    )
    assert error_of(path) == (
        f"{path}:7 › data.sources[1].format: expected one of 'auto', 'sharegpt', 'alpaca', "
        "'messages', 'dolly', 'query-response', 'text', got 'csv'"
    )
