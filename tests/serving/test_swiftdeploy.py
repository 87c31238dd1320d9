"""The `swift deploy` command line and ServerSpec every kind that serves a model builds."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from swiftpipe.core.errors import UserError
from swiftpipe.serving import swiftdeploy
from swiftpipe.serving.server import ServerSpec
from swiftpipe.serving.swiftdeploy import ServeSettings


def test_deploy_argv_is_exact_and_extra_args_come_last() -> None:
    argv = swiftdeploy.deploy_argv(
        "/venv/bin/swift", "/models/tiny", backend="transformers", host="127.0.0.1", port=8123, name="tiny",
        args={"max_new_tokens": 64, "torch_dtype": "bfloat16", "enable_prefix_caching": True, "seed": None,
              "stop_words": ["</s>", "<|im_end|>"], "engine_kwargs": {"a": 1}},
    )
    assert argv == [
        "/venv/bin/swift", "deploy", "--model", "/models/tiny", "--infer_backend", "transformers",
        "--host", "127.0.0.1", "--port", "8123", "--served_model_name", "tiny", "--verbose", "false",
        "--max_new_tokens", "64", "--torch_dtype", "bfloat16", "--enable_prefix_caching", "true",
        "--stop_words", "</s>", "<|im_end|>", "--engine_kwargs", '{"a":1}',
    ]


def test_deploy_argv_without_extra_args_ends_with_verbose_false() -> None:
    argv = swiftdeploy.deploy_argv("swift", "m", backend="lmdeploy", host="0.0.0.0", port=1, name="n", args={})
    assert argv[-2:] == ["--verbose", "false"] and len(argv) == 14


def test_api_key_comes_from_the_named_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SERVING_KEY", "sk-123")
    assert swiftdeploy.api_key("MY_SERVING_KEY", "stages.deploy") == "sk-123"
    assert swiftdeploy.api_key(None, "stages.deploy") is None


@pytest.mark.parametrize("value", [None, ""])
def test_an_unset_or_empty_key_variable_is_a_user_error(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    if value is None:
        monkeypatch.delenv("MY_SERVING_KEY", raising=False)
    else:
        monkeypatch.setenv("MY_SERVING_KEY", value)
    with pytest.raises(UserError) as err:
        swiftdeploy.api_key("MY_SERVING_KEY", "stages.base")
    assert str(err.value) == ("stages.base.api_key_env: environment variable MY_SERVING_KEY is not set; "
                              "export it or remove api_key_env")


def test_server_spec_carries_the_key_out_of_band(tmp_path: Path) -> None:
    argv: list[Any] = ["swift", "deploy", "--port", "8123", Path("/m")]  # a path is written as text
    log = tmp_path / "logs" / "deploy.log"
    spec = swiftdeploy.server_spec(
        argv, {"PATH": "/bin"}, host="127.0.0.1", port=8123, name="tiny", log=log, ready_timeout=30.0,
        key="sk-secret", where="stages.serve",
    )
    assert spec == ServerSpec(
        argv=["swift", "deploy", "--port", "8123", "/m"], env={"PATH": "/bin"}, host="127.0.0.1", port=8123,
        served_model_name="tiny", log_path=log, ready_timeout=30.0, api_key="sk-secret", where="stages.serve.port",
    )
    assert "sk-secret" not in spec.argv and spec.busy_hint == ""


def test_serve_settings_defaults() -> None:
    assert ServeSettings() == ServeSettings("auto", 600.0, {}, {}, None)


def test_serve_settings_of_a_deploy_config_copies_its_maps() -> None:
    cfg = SimpleNamespace(backend="vllm", ready_timeout=120.0, args={"max_model_len": 4096},
                          env={"CUDA_VISIBLE_DEVICES": "1"}, venv="venvs/serve", port=8000)
    settings = ServeSettings.of(cfg)
    assert settings == ServeSettings("vllm", 120.0, {"max_model_len": 4096}, {"CUDA_VISIBLE_DEVICES": "1"},
                                     "venvs/serve")
    cfg.args["max_model_len"] = 1
    cfg.env["CUDA_VISIBLE_DEVICES"] = "0"
    assert settings.args == {"max_model_len": 4096} and settings.env == {"CUDA_VISIBLE_DEVICES": "1"}
