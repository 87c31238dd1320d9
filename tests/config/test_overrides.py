from __future__ import annotations

from typing import Any

import pytest

from swiftpipe.config.overrides import apply_overrides, parse_override
from swiftpipe.core.errors import UserError


def test_creates_missing_mappings_and_last_wins() -> None:
    data: dict[str, Any] = {"stages": {}}
    paths = apply_overrides(data, ["stages.sft.args.max_steps=5", "stages.sft.args.max_steps=7"])
    assert data == {"stages": {"sft": {"args": {"max_steps": 7}}}}
    assert paths == ["stages.sft.args.max_steps", "stages.sft.args.max_steps"]


def test_value_may_contain_equals() -> None:
    assert parse_override("env.X=a=b") == (["env", "X"], "a=b")


def test_missing_equals_sign() -> None:
    with pytest.raises(UserError) as info:
        parse_override("stages.sft.args.max_steps")
    assert str(info.value) == (
        "--set stages.sft.args.max_steps: expected KEY.PATH=VALUE, "
        "e.g. --set stages.sft.args.learning_rate=1e-4"
    )


def test_cannot_descend_into_a_scalar() -> None:
    with pytest.raises(UserError) as info:
        apply_overrides({"name": "demo"}, ["name.x=1"])
    assert str(info.value) == "--set name.x=1: name is not a mapping, cannot set a key inside it"


def test_a_value_past_the_yaml_limits_names_the_key_not_the_value() -> None:
    with pytest.raises(UserError) as info:
        parse_override("stages.sft.args.hub_token=&a [hf_SECRET, *a]")
    assert str(info.value) == (
        "--set stages.sft.args.hub_token: recursive alias: the value anchored here contains itself"
    )
