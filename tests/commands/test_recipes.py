"""The shipped recipes: listed, copied, and every one valid against the installed ms-swift."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from swiftpipe.cli import main
from swiftpipe.commands.recipes import all_recipes, recipe_dir
from swiftpipe.engine.select import Selection
from swiftpipe.loading import load_pipeline
from swiftpipe.msswift import swiftargs

REPO = Path(__file__).parent.parent.parent
NAMES = ["counselling-sharegpt", "gpt-oss-20b-cookbook", "gpt-oss-20b-cookbook-80gb", "pretrain-then-sft",
         "zero3-alpaca-4gpu"]
# Stages whose args: swift reads (the others are evalscope's or swiftpipe's own keys).
SWIFT_KINDS = {"sft", "pt", "export", "deploy", "infer"}
# The effective batch each recipe says it trains with, per training stage.
EFFECTIVE = {"gpt-oss-20b-cookbook": {"sft": 16}, "gpt-oss-20b-cookbook-80gb": {"sft": 16},
             "counselling-sharegpt": {"sft": 32}, "zero3-alpaca-4gpu": {"sft": 64},
             "pretrain-then-sft": {"pt": 128, "sft": 64}}


def test_five_recipes_each_with_a_description() -> None:
    assert [r.name for r in all_recipes()] == NAMES
    assert all(r.description for r in all_recipes())
    assert (REPO / "recipes").resolve() == recipe_dir().resolve()


def test_recipes_command_lists_one_line_each() -> None:
    result = CliRunner().invoke(main, ["recipes"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines[: len(NAMES)]] == NAMES


def _stages(name: str) -> dict[str, Any]:
    return dict(load_pipeline(recipe_dir() / f"{name}.yaml", env={}).config.stages)


@pytest.mark.parametrize("name", NAMES)
def test_every_args_name_exists_in_the_installed_ms_swift(name: str) -> None:
    swift = shutil.which("swift", path=str(REPO / ".venv" / "bin")) or "swift"
    for stage, body in _stages(name).items():
        kind = body.get("kind", stage)
        if kind in SWIFT_KINDS and body.get("args"):
            swiftargs.check(swift, body["args"], f"{name} › stages.{stage}")


@pytest.mark.parametrize("name", NAMES)
def test_effective_batch_is_what_the_recipe_says(name: str) -> None:
    stages = _stages(name)
    for stage, expected in EFFECTIVE[name].items():
        args, launch = stages[stage]["args"], stages[stage].get("launch", {})
        world = int(launch.get("nproc_per_node", 1)) * int(launch.get("nnodes", 1))
        assert args["per_device_train_batch_size"] * args["gradient_accumulation_steps"] * world == expected


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("profile", [None, "smoke"])
def test_plan_passes(name: str, profile: str | None, tiny_model: Path, tmp_path: Path,
                     capsys: pytest.CaptureFixture[str]) -> None:
    """Every recipe plans with its smoke profile here; without it, where this CPU machine can."""
    from swiftpipe.commands.plan import plan
    from swiftpipe.core.errors import UserError

    overrides = [f"workdir={tmp_path / 'w'}"] + ([f"model={tiny_model}"] if profile else [])
    try:
        rc = plan_with(plan, name, profile, overrides)
    except UserError as exc:
        # A GPU recipe planned on a machine without GPUs: refused for that reason only.
        assert profile is None and ("GPU" in str(exc) or "CUDA" in str(exc)), str(exc)
        return
    assert rc == 0
    if name.startswith("gpt-oss-20b-cookbook") and profile is None:
        assert "effective batch 16 = " in capsys.readouterr().out


def plan_with(plan: Any, name: str, profile: str | None, overrides: list[str]) -> int:
    from swiftpipe.config import profiles

    with profiles.selecting(profile):
        rc: int = plan(recipe_dir() / f"{name}.yaml", overrides=overrides, selection=Selection())
    return rc


def test_a_wrong_args_name_fails_the_check(tmp_path: Path) -> None:
    from swiftpipe.core.errors import UserError

    text = (recipe_dir() / "gpt-oss-20b-cookbook.yaml").read_text().replace("lora_dropout:", "lora_dropuot:")
    (tmp_path / "swiftpipe" / "recipes").mkdir(parents=True)
    path = tmp_path / "swiftpipe" / "recipes" / "broken.yaml"
    path.write_text(text)
    args = load_pipeline(path, env={}).config.stages["sft"]["args"]
    with pytest.raises(UserError) as info:
        swiftargs.check(str(REPO / ".venv" / "bin" / "swift"), args, "broken › stages.sft")
    assert str(info.value) == ("broken › stages.sft.args.lora_dropuot: not an argument of ms-swift 4.6.0; "
                               "did you mean 'lora_dropout'?")


def test_init_copies_a_recipe_whose_plan_passes(tmp_path: Path) -> None:
    dest = tmp_path / "mine"
    result = CliRunner().invoke(main, ["init", "counselling-sharegpt", str(dest)])
    assert result.exit_code == 0, result.output
    text = (dest / "pipeline.yaml").read_text()
    assert "../../" not in text
    assert f"path: {REPO / 'datasets' / 'counselling_zh.sharegpt.jsonl'}" in text
    assert "workdir: ${SWIFTPIPE_WORKDIR:-runs/counselling-sharegpt}" in text
    plan = CliRunner().invoke(main, ["plan", str(dest / "pipeline.yaml")])
    assert plan.exit_code == 0, plan.output


@pytest.mark.parametrize("name", NAMES)
def test_every_smoke_profile_plans(name: str, tmp_path: Path) -> None:
    # tests/integration/test_recipes.py runs them (all but one whose smoke run is another's twin)
    plan = CliRunner().invoke(main, ["plan", str(recipe_dir() / f"{name}.yaml"), "--profile", "smoke",
                                     "--set", f"workdir={tmp_path}"])
    assert plan.exit_code == 0, plan.output
    assert "\nsft: run (" in plan.output


def test_init_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "pipeline.yaml").write_text("mine\n")
    result = CliRunner().invoke(main, ["init", "pretrain-then-sft", str(tmp_path)])
    assert result.exit_code == 2
    assert f"swiftpipe: error: {tmp_path / 'pipeline.yaml'}: already exists, remove it or choose another directory" \
        in result.output
    assert (tmp_path / "pipeline.yaml").read_text() == "mine\n"


def test_init_unknown_recipe_names_them(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["init", "cookbook", str(tmp_path)])
    assert result.exit_code == 2
    assert ("cookbook: no such recipe, choose one of: " + ", ".join(NAMES) + " (swiftpipe recipes lists them)") \
        in result.output
