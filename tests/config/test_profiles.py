"""profiles: in a pipeline file and --profile NAME: overlays validated like the rest."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from swiftpipe.cli import main
from swiftpipe.config import profiles
from swiftpipe.core.errors import UserError
from swiftpipe.loading import load_pipeline

Write = Callable[[str], Path]

PIPELINE = """
name: demo
model: models/big
x-train: &train
  learning_rate: 1e-4
  max_steps: 1000
stages:
  sft:
    dataset: [train.jsonl]
    args: *train
  pt:
    dataset: [train.jsonl]
    args: *train
  deploy:
    port: 8011
profiles:
  smoke:
    model: models/tiny
    stages.sft.args.max_steps: 2
    stages:
      deploy: {port: 8031}
  typo:
    stages.deploy.port: many
"""


def load(path: Path, profile: str | None, overrides: list[str] | None = None) -> object:
    return load_pipeline(path, overrides, env={}, profile=profile)


def error_of(path: Path, profile: str | None, overrides: list[str] | None = None) -> str:
    with pytest.raises(UserError) as info:
        load(path, profile, overrides)
    return str(info.value)


def test_no_profile_leaves_the_pipeline_as_written(write_pipeline: Write) -> None:
    loaded = load_pipeline(write_pipeline(PIPELINE), env={})
    assert loaded.config.model == "models/big"
    assert loaded.config.stages["sft"]["args"]["max_steps"] == 1000


def test_profile_overlays_dotted_and_nested_keys(write_pipeline: Write) -> None:
    loaded = load_pipeline(write_pipeline(PIPELINE), env={}, profile="smoke")
    assert loaded.config.model == "models/tiny"
    assert loaded.config.stages["sft"]["args"]["max_steps"] == 2
    assert set(loaded.config.stages["sft"]["args"]) == {"learning_rate", "max_steps"}
    assert loaded.config.stages["deploy"]["port"] == 8031


def test_a_yaml_alias_shared_by_two_stages_changes_only_the_one_named(write_pipeline: Write) -> None:
    loaded = load_pipeline(write_pipeline(PIPELINE), env={}, profile="smoke")
    assert loaded.config.stages["pt"]["args"]["max_steps"] == 1000


def test_set_wins_over_the_profile(write_pipeline: Write) -> None:
    loaded = load_pipeline(write_pipeline(PIPELINE), ["stages.sft.args.max_steps=5"], env={}, profile="smoke")
    assert loaded.config.stages["sft"]["args"]["max_steps"] == 5


def test_unknown_profile_names_the_profiles(write_pipeline: Write) -> None:
    path = write_pipeline(PIPELINE)
    assert error_of(path, "gpu") == f"--profile gpu: no such profile in {path}, choose one of: smoke, typo"


def test_profile_of_a_pipeline_without_profiles(write_pipeline: Write) -> None:
    path = write_pipeline("name: demo\nmodel: m\nstages: {sft: {dataset: [t.jsonl]}}\n")
    assert error_of(path, "smoke") == (
        f"--profile smoke: {path} has no profiles, add a 'profiles:' section or drop --profile"
    )


def test_a_bad_value_from_a_profile_says_so(write_pipeline: Write) -> None:
    message = error_of(write_pipeline(PIPELINE), "typo")
    assert message.startswith("--profile typo › stages.deploy.port: ")


def test_an_unknown_key_in_a_profile_is_refused_like_any_other(write_pipeline: Write) -> None:
    path = write_pipeline(PIPELINE + "  ports:\n    stages.deploy.prot: 1\n")
    assert error_of(path, "ports").startswith("--profile ports › stages.deploy.prot: unknown key")


def test_profiles_must_be_a_mapping_of_mappings(write_pipeline: Write) -> None:
    path = write_pipeline("name: demo\nmodel: m\nstages: {sft: {dataset: [t.jsonl]}}\nprofiles:\n  smoke: 3\n")
    assert error_of(path, None) == f"{path} › profiles.smoke: expected a mapping of keys to overlay, got int"


def test_a_key_inside_a_scalar_is_refused(write_pipeline: Write) -> None:
    path = write_pipeline(PIPELINE + "  deep:\n    model.path: x\n")
    assert error_of(path, "deep") == f"{path} › profiles.deep: model is not a mapping, cannot set a key inside it"


def test_selecting_restores_the_previous_choice() -> None:
    with profiles.selecting("smoke"):
        assert profiles.selected() == "smoke"
    assert profiles.selected() is None


def test_cli_profile_reaches_plan(write_pipeline: Write) -> None:
    path = write_pipeline(PIPELINE)
    result = CliRunner().invoke(main, ["plan", str(path), "--profile", "gpu"])
    assert result.exit_code == 2
    assert f"--profile gpu: no such profile in {path}, choose one of: smoke, typo" in result.output
    assert profiles.selected() is None  # for that command only


def test_the_resume_hint_repeats_the_profile(write_pipeline: Write) -> None:
    from swiftpipe.commands.run import resume_hint

    path = write_pipeline(PIPELINE)
    with profiles.selecting("smoke"):
        loaded = load_pipeline(path, ["stages.deploy.port=9000"], env={})
        assert resume_hint(loaded) == f"swiftpipe run {path} --profile smoke --set stages.deploy.port=9000"
