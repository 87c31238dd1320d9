from __future__ import annotations

from swiftpipe.argv import flags, mask_argv, mask_env, shell_line


def test_flags_render_each_type() -> None:
    args = {"learning_rate": 1e-4, "gradient_checkpointing": True, "target_modules": ["q_proj", "v_proj"],
            "lr_scheduler_kwargs": {"min_lr": 0}, "seed": 7, "skipped": None, "fp16": False}
    assert flags(args) == [
        "--learning_rate", "0.0001", "--gradient_checkpointing", "true",
        "--target_modules", "q_proj", "v_proj", "--lr_scheduler_kwargs", '{"min_lr":0}',
        "--seed", "7", "--fp16", "false",
    ]


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
