from __future__ import annotations

import pytest

from swiftpipe.config.interpolate import (
    MissingVariable,
    UnreadableVariable,
    interpolate,
    interpolate_str,
    parse_scalar,
)
from swiftpipe.config.yamlkeys import YamlLimit


def test_variable_and_default() -> None:
    env = {"A": "x"}
    assert interpolate_str("pre-${A}-post", env) == "pre-x-post"
    assert interpolate_str("${B:-fallback}", env) == "fallback"


def test_empty_variable_takes_the_default() -> None:
    assert interpolate_str("${A:-d}", {"A": ""}) == "d"


def test_dollar_escape() -> None:
    assert interpolate_str("cost $$5", {}) == "cost $5"


def test_whole_value_is_retyped() -> None:
    assert interpolate_str("${N}", {"N": "8"}) == 8
    assert interpolate_str("${F:-1e-4}", {}) == 1e-4
    assert interpolate_str("${B}", {"B": "true"}) is True
    assert interpolate_str("port ${N}", {"N": "8"}) == "port 8"


def test_missing_variable_names_the_path() -> None:
    with pytest.raises(MissingVariable) as info:
        interpolate({"stages": {"deploy": {"host": "${HOST}"}}}, {})
    assert (info.value.name, info.value.path) == ("HOST", "stages.deploy.host")


def test_lists_and_nested_mappings() -> None:
    assert interpolate({"a": ["${X}", {"b": "${X}"}]}, {"X": "v"}) == {"a": ["v", {"b": "v"}]}


@pytest.mark.parametrize(
    ("text", "value"),
    [("1e-4", 1e-4), ("3", 3), ("0.5", 0.5), ("false", False), ("[a, b]", ["a", "b"]), ("abc", "abc"),
     ("null", None), ("{k: 1}", {"k": 1})],
)
def test_parse_scalar(text: str, value: object) -> None:
    assert parse_scalar(text) == value


def test_parse_scalar_keeps_invalid_yaml_as_text_but_refuses_yaml_past_the_limits() -> None:
    assert parse_scalar("[unclosed") == "[unclosed"
    with pytest.raises(YamlLimit) as info:
        parse_scalar("&a [*a]")
    assert info.value.message == "recursive alias: the value anchored here contains itself"


def test_a_variable_past_the_yaml_limits_names_the_variable_and_the_path() -> None:
    with pytest.raises(UnreadableVariable) as info:
        interpolate({"stages": {"sft": {"args": {"max_steps": "${DEEP}"}}}}, {"DEEP": "[" * 200})
    assert (info.value.name, info.value.path, info.value.message) == (
        "DEEP", "stages.sft.args.max_steps", "values nested more than 100 levels deep; a pipeline needs far fewer")
