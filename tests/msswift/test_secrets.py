"""Secret ms-swift arguments: routed into the environment, masked in `plan`, scrubbed from args.json."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from swiftpipe.config.rules import check_raw_secrets
from swiftpipe.core.argv import secret_values
from swiftpipe.kinds.export import ExportStage
from swiftpipe.kinds.sft import SftStage
from swiftpipe.loading import load_pipeline
from swiftpipe.msswift import secrets
from tests.conftest import stage_context

Write = Callable[[str], Path]
HUB, SWAN = "hub-TOKEN-4f1c9a", "swan-TOKEN-77be02"


def test_route_moves_the_known_secrets_into_the_environment() -> None:
    args, env = secrets.route({"hub_token": HUB, "swanlab_token": SWAN, "learning_rate": 1e-4,
                               "swanlab_secret": "hook", "report_to": "swanlab"})
    assert args == {"learning_rate": 1e-4, "swanlab_secret": "hook", "report_to": "swanlab"}
    assert env == {"HF_TOKEN": HUB, "MODELSCOPE_API_TOKEN": HUB, "SWANLAB_API_KEY": SWAN}
    assert secrets.route({"hub_token": None}) == ({"hub_token": None}, {})


def test_scrub_rewrites_only_the_args_json_files_holding_a_secret(tmp_path: Path) -> None:
    run = tmp_path / "v0-20260101-000000"
    (run / "checkpoint-2").mkdir(parents=True)
    holding = [run / "args.json", run / "checkpoint-2" / "args.json"]
    for path in holding:
        path.write_text(json.dumps({"swanlab_secret": 'we"b-hook-1', "hub_token": None}, indent=2))
    (run / "other").mkdir()
    (run / "other" / "args.json").write_text('{"seed": 42}')
    (run / "logging.jsonl").write_text('we"b-hook-1\n')  # not swift's arguments: left alone

    changed = secrets.scrub_args_json(tmp_path, secret_values(["--swanlab_secret", 'we"b-hook-1']))

    assert changed == holding
    for path in holding:
        assert json.loads(path.read_text()) == {"swanlab_secret": "***", "hub_token": None}
    assert (run / "other" / "args.json").read_text() == '{"seed": 42}'
    assert not list(tmp_path.rglob("*.tmp"))
    assert secrets.scrub_args_json(tmp_path / "missing", ["x-secret"]) == []


@pytest.fixture
def secret_pipeline(write_pipeline: Write, tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HUB", HUB)
    monkeypatch.setenv("SWAN", SWAN)
    path = write_pipeline(f"""
        name: s
        model: {tiny_model}
        stages:
          sft:
            dataset: [train.jsonl]
            args: {{report_to: swanlab, swanlab_mode: local, hub_token: "${{HUB}}", swanlab_token: "${{SWAN}}"}}
          export:
            args: {{hub_token: "${{HUB}}"}}
    """)
    (path.parent / "train.jsonl").write_text("")
    return path


def test_training_and_export_plans_carry_the_tokens_in_the_environment_only(secret_pipeline: Path) -> None:
    loaded = load_pipeline(secret_pipeline, [])
    sft = SftStage().plan(stage_context(loaded, "sft"))
    assert not any(HUB in a or SWAN in a or "_token" in a for a in sft.argv)
    assert (sft.env["HF_TOKEN"], sft.env["MODELSCOPE_API_TOKEN"], sft.env["SWANLAB_API_KEY"]) == (HUB, HUB, SWAN)
    assert HUB not in json.dumps(sft.inputs) and SWAN not in json.dumps(sft.inputs)
    export = ExportStage().plan(stage_context(loaded, "export"))
    assert not any(HUB in a for a in export.argv) and export.env["HF_TOKEN"] == HUB


def test_plan_output_shows_no_token(secret_pipeline: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "swiftpipe", "plan", str(secret_pipeline)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    out = done.stdout + done.stderr
    assert HUB not in out and SWAN not in out
    assert "env HF_TOKEN=***" in out and "env SWANLAB_API_KEY=***" in out and "--hub_token" not in out


def test_a_literal_secret_is_refused_in_a_list_or_spelled_with_dashes() -> None:
    raw = {"stages": {"sft": {"args": {"hub_token": ["hf_abc"], "swanlab_token": "${T}", "seed": 1},
                              "env": {"hf-token": "hf_x"}}}}
    problems = check_raw_secrets(raw)
    assert [p.path for p in problems] == ["stages.sft.args.hub_token", "stages.sft.env.hf-token"]
    assert problems[0].message == (
        "a secret must not be written in the pipeline file; "
        "export it in the environment and write 'hub_token: ${VAR}', or use the stage's *_env option"
    )
