"""`${VAR}` and `${VAR:-default}` interpolation of string values from the environment."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from swiftpipe.config.yamlkeys import YamlLimit, load_value

_REF = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class MissingVariable(Exception):
    """A referenced variable is unset and has no default."""

    def __init__(self, name: str, path: str = "") -> None:
        super().__init__(name)
        self.name = name
        self.path = path


class UnreadableVariable(Exception):
    """A variable's value, read as YAML, is past the YAML limits (config/yamlkeys.py)."""

    def __init__(self, name: str, message: str, path: str = "") -> None:
        super().__init__(message)
        self.name, self.message, self.path = name, message, path


def interpolate_str(text: str, env: Mapping[str, str]) -> Any:
    """Substitute references in `text`.

    A value that is exactly one reference is re-read as a YAML scalar, so
    `port: ${PORT:-8000}` stays an integer. `$$` is a literal `$`.
    """

    def sub(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, default = match.group(1), match.group(2)
        value = env.get(name)
        if value is None or (value == "" and default is not None):
            if default is None:
                raise MissingVariable(name)
            return default
        return value

    result = _REF.sub(sub, text)
    whole = _REF.fullmatch(text)
    if whole is not None and whole.group(0) != "$$" and result != "":
        try:
            return parse_scalar(result)
        except YamlLimit as exc:
            raise UnreadableVariable(whole.group(1), exc.message) from None
    return result


def parse_scalar(text: str) -> Any:
    """Read a command-line or environment string as YAML (`1e-4` is a float too).

    Text that is not valid YAML stays text; YAML past the limits raises YamlLimit.
    """
    try:
        value = load_value(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, str):
        try:
            return float(value) if _looks_numeric(value) else value
        except ValueError:
            return value
    return value


def parse_as_in_a_file(text: str) -> Any:
    """Read a command-line string as pipeline.yaml reads the same text: `1e-2` stays `1e-2`.

    A value that names variants (`--sweep`) must read as the file's does, so that the same text
    gives the same variant name and fingerprint wherever it is written."""
    return text.strip() if _looks_numeric(text.strip()) else parse_scalar(text)


def _looks_numeric(text: str) -> bool:
    # PyYAML reads 1e-4 as a string (YAML 1.1 wants a dot); users mean a number.
    return bool(re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+", text))


def interpolate(data: Any, env: Mapping[str, str], path: str = "") -> Any:
    """Interpolate every string in a parsed YAML tree; errors name the key path."""
    if isinstance(data, str):
        try:
            return interpolate_str(data, env)
        except MissingVariable as exc:
            raise MissingVariable(exc.name, path) from None
        except UnreadableVariable as exc:
            raise UnreadableVariable(exc.name, exc.message, path) from None
    if isinstance(data, dict):
        return {k: interpolate(v, env, f"{path}.{k}" if path else str(k)) for k, v in data.items()}
    if isinstance(data, list):
        return [interpolate(v, env, f"{path}[{i}]") for i, v in enumerate(data)]
    return data
