from __future__ import annotations

from swiftpipe.core.argv import flags, mask_argv, mask_env, redact, secret_values, shell_line


def test_flags_render_each_type() -> None:
    args = {"learning_rate": 1e-4, "gradient_checkpointing": True, "target_modules": ["q_proj", "v_proj"],
            "lr_scheduler_kwargs": {"min_lr": 0}, "seed": 7, "skipped": None, "fp16": False}
    assert flags(args) == [
        "--learning_rate", "0.0001", "--gradient_checkpointing", "true",
        "--target_modules", "q_proj", "v_proj", "--lr_scheduler_kwargs", '{"min_lr":0}',
        "--seed", "7", "--fp16", "false",
    ]


def test_negative_floats_are_written_as_argparse_reads_numbers() -> None:
    # argparse takes '-1e-05' for a flag (only -1 and -0.5 look like negative numbers to it).
    assert flags({"a": -1e-05, "b": -1.5e20, "c": 1e-05, "d": -0.5, "e": -3}) == [
        "--a", "-0.00001", "--b", "-150000000000000000000", "--c", "1e-05", "--d", "-0.5", "--e", "-3"]


def test_flags_with_dashes_for_evalscope() -> None:
    assert flags({"eval_batch_size": 4}, dash="-") == ["--eval-batch-size", "4"]


def test_mask_argv_hides_secret_values() -> None:
    argv = ["swift", "deploy", "--api_key", "sk-1", "--hub-token", "t", "--port", "1"]
    assert mask_argv(argv) == ["swift", "deploy", "--api_key", "***", "--hub-token", "***", "--port", "1"]


def test_mask_env() -> None:
    assert mask_env({"SWANLAB_API_KEY": "k", "HF_HUB_OFFLINE": "1", "GONE": None}) == {
        "SWANLAB_API_KEY": "***", "HF_HUB_OFFLINE": "1", "GONE": ""}


def test_shell_line_quotes() -> None:
    assert shell_line(["a", "b c", '{"x":1}']) == "a 'b c' '{\"x\":1}'"


def test_mask_argv_hides_equals_forms_json_values_and_every_value_after_a_secret_flag() -> None:
    argv = ["swift", "sft", "--hub_token=h-123", "--seed=7", "--swanlab-secret", "a", "b", "--lr", "1",
            "--model_kwargs", '{"api_key":"k-1","n":1,"inner":{"password":"p-1"}}', "--x={\"token\":\"t\"}",
            "--plain", '{"n":1, "m": 2}']
    assert mask_argv(argv) == [
        "swift", "sft", "--hub_token=***", "--seed=7", "--swanlab-secret", "***", "***", "--lr", "1",
        "--model_kwargs", '{"api_key":"***","n":1,"inner":{"password":"***"}}', '--x={"token":"***"}',
        "--plain", '{"n":1, "m": 2}',
    ]


def test_mask_env_masks_an_argv_carried_in_json() -> None:
    env = {"RAY_SWIFT_ARGS": '["--port", "1", "--api_key", "sk-9"]', "CFG": '{"hub_token": "h-9"}', "N": "[1]"}
    assert mask_env(env) == {"RAY_SWIFT_ARGS": '["--port","1","--api_key","***"]',
                             "CFG": '{"hub_token":"***"}', "N": "[1]"}


def test_secret_values_from_argv_and_env_longest_first() -> None:
    argv = ["swift", "sft", "--hub_token", "hub-secret-1", "--swanlab_secret=web-secret", "--seed", "abcdefgh",
            "--model_kwargs", '{"api_key": "k\\"quoted"}', "--vera_projection_prng_key", "0"]
    env = {"SWANLAB_API_KEY": "swan-key-22", "EVALSCOPE_API_KEY": "EMPTY", "PATH": "/bin", "GONE": None}
    # A value is also searched for as it is written inside JSON (k\"quoted); '0' and 'EMPTY' are not.
    assert secret_values(argv, env) == ["hub-secret-1", "swan-key-22", "web-secret", 'k\\"quoted', 'k"quoted']


def test_redact_replaces_every_occurrence_longer_secrets_first() -> None:
    assert redact("a=abcdef b=abc c=abcdef", ["abc", "abcdef"]) == "a=*** b=*** c=***"
