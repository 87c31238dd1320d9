"""No literal secret in the pipeline file: not as a default, not beside a reference, not in a URL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from swiftpipe.core.argv import mask_argv
from swiftpipe.core.errors import UserError
from swiftpipe.loading import load_pipeline

Write = Callable[[str], Path]

PIPELINE = """
name: demo
model: models/tiny
stages:
  sft:
    dataset: [train.jsonl]
    args:
      KEY: VALUE
  eval:
    api_url: http://127.0.0.1:8000/v1
    served_model_name: m
    datasets: {gsm8k: {}}
"""
LITERAL = "a secret must not be written in the pipeline file; "
MIXED = "a secret must not be written in the pipeline file, not even as a default or beside a ${VAR}; "


def error_of(path: Path, overrides: list[str] | None = None) -> str:
    with pytest.raises(UserError) as info:
        load_pipeline(path, overrides, env={"HF": "hf_from_env", "PW": "pw"})
    return str(info.value)


def fix(key: str) -> str:
    return f"export it in the environment and write '{key}: ${{VAR}}', or use the stage's *_env option"


@pytest.mark.parametrize(("key", "value", "message"), [
    ("hub_token", "${UNSET:-hf_x}", MIXED),
    ("hub_token", "hf_REAL${X:-}", MIXED),
    ("hub_token", "${HF}hf_tail", MIXED),
    ("hub_token", "$${HF}", MIXED),  # `$$` is a literal '$': the value is the text '${HF}'
    ("hub_token", "hf_plain", LITERAL),
    ("swanlab_webhook_url", "https://open.feishu.cn/open-apis/bot/v2/hook/abc", LITERAL),
    ("swanlab_lark_webhook_url", "https://hooks.example/${X:-abc}", MIXED),
])
def test_a_literal_secret_is_refused_wherever_it_hides(write_pipeline: Write, key: str, value: str,
                                                        message: str) -> None:
    path = write_pipeline(PIPELINE.replace("KEY: VALUE", f"{key}: '{value}'"))
    assert error_of(path) == f"{path}:7 › stages.sft.args.{key}: {message}{fix(key)}"


@pytest.mark.parametrize("value", ["${HF}", "${HF:-}", "${HF}${PW}", "${UNSET:-}"])
def test_references_without_text_of_their_own_are_accepted(write_pipeline: Write, value: str) -> None:
    path = write_pipeline(PIPELINE.replace("KEY: VALUE", f"hub_token: '{value}'"))
    load_pipeline(path, env={"HF": "hf_from_env", "PW": "pw"})


def test_a_secret_set_on_the_command_line_is_refused(write_pipeline: Write) -> None:
    path = write_pipeline(PIPELINE.replace("KEY: VALUE", "max_steps: 1"))
    assert error_of(path, ["stages.sft.args.hub_token=${UNSET:-hf_x}"]) == (
        f"--set › stages.sft.args.hub_token: {MIXED}{fix('hub_token')}"
    )


def test_a_password_in_a_url_is_refused(write_pipeline: Write) -> None:
    url = "http://user:hunter2@127.0.0.1:8000/v1"
    path = write_pipeline(PIPELINE.replace("KEY: VALUE", "max_steps: 1").replace("http://127.0.0.1:8000/v1", url))
    assert error_of(path) == (
        f"{path}:9 › stages.eval.api_url: a password must not be written in the pipeline file; "
        "write the URL as https://user:${VAR}@host and export VAR"
    )
    with_reference = PIPELINE.replace("KEY: VALUE", "max_steps: 1").replace(
        "http://127.0.0.1:8000/v1", "http://user:${PW}@127.0.0.1:8000/v1")
    load_pipeline(write_pipeline(with_reference), env={"PW": "pw"})


def test_a_webhook_url_is_masked_like_any_secret() -> None:
    argv = ["swift", "sft", "--swanlab_webhook_url", "https://hooks.example/abc", "--swanlab-lark-webhook-url=x"]
    assert mask_argv(argv) == ["swift", "sft", "--swanlab_webhook_url", "***", "--swanlab-lark-webhook-url=***"]
