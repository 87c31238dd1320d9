"""Read pipeline.yaml into its typed config: parse, overlay, interpolate, validate the keys.

The stage graph and the executor's settings are built on top of this by swiftpipe/loading.py,
which reports every problem of both in one message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from swiftpipe.config import profiles
from swiftpipe.config.interpolate import MissingVariable, UnreadableVariable, interpolate
from swiftpipe.config.overrides import apply_overrides
from swiftpipe.config.rules import check_raw_secrets
from swiftpipe.config.schema import Pipeline
from swiftpipe.config.validate import Problem, build
from swiftpipe.config.yamlkeys import Parsed, YamlLimit, parse
from swiftpipe.core.errors import UserError


@dataclass
class ConfigRead:
    """A pipeline file read into its typed config (None when it could not be built), with every
    problem found so far and what formats later problems as the same one-line messages."""

    path: Path
    config: Pipeline | None
    problems: list[Problem]
    lines: dict[str, int] = field(default_factory=dict)  # key path -> line, for messages
    set_paths: dict[str, str] = field(default_factory=dict)  # key path -> "--set" / "--profile P"
    overrides: tuple[str, ...] = ()

    def fail(self, problems: list[Problem]) -> None:
        """Raise one UserError listing `problems` (`file:line` then the key and message, each), if there are any."""
        if problems:
            display = str(self.path)
            raise UserError("\n".join(_format(display, p, self.lines, self.set_paths) for p in problems))


def read_config(
    path: Path, overrides: list[str] | None = None, env: Mapping[str, str] | None = None,
    profile: str | None = None,
) -> ConfigRead:
    """Parse, overlay the profile and `--set` overrides, interpolate ${VAR}s and build the config.

    `profile` (default: the one `--profile` selected) is overlaid before `--set` overrides.
    Problems of the file itself are collected, not raised: the loader adds the graph's.
    """
    display = str(path)
    parsed = _parse(_read(path, display), display)
    raw = parsed.data
    profile = profile if profile is not None else profiles.selected()
    # Where a key's value came from, for messages: --set wins over the profile it overrides.
    set_paths = {p: f"--profile {profile}" for p in profiles.apply_profile(raw, profile, display)}
    set_paths.update((p, "--set") for p in apply_overrides(raw, list(overrides or [])))
    problems = [*parsed.duplicates, *check_raw_secrets(raw)]
    try:
        data = interpolate(raw, os.environ if env is None else env)
    except MissingVariable as exc:
        msg = f"environment variable {exc.name} is not set; export it or write ${{{exc.name}:-default}}"
        problems.append(Problem(exc.path, msg))
        data = None
    except UnreadableVariable as exc:
        problems.append(Problem(exc.path, f"environment variable {exc.name}: {exc.message}"))
        data = None
    config = None
    if data is not None:
        config, found = build(Pipeline, data)
        problems.extend(found)
    return ConfigRead(path, config, problems, parsed.lines, set_paths, tuple(overrides or ()))


def _read(path: Path, display: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{display}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{display}: cannot read: {exc}") from None


def _parse(text: str, display: str) -> Parsed:
    try:
        parsed = parse(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{display}:{mark.line + 1}" if mark is not None else display
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise UserError(f"{where}: invalid YAML: {problem}") from None
    except YamlLimit as exc:
        raise UserError(f"{display}:{exc.line}: {exc.message}") from None
    if not isinstance(parsed.data, dict):
        raise UserError(f"{display}: expected a mapping of keys at the top level")
    # Top-level `x-...` keys hold YAML anchors for the stages to merge (`<<: *train`); no meaning here.
    parsed.data = {k: v for k, v in parsed.data.items() if not str(k).startswith("x-")}
    return parsed


def _format(display: str, p: Problem, lines: dict[str, int], set_paths: dict[str, str]) -> str:
    if p.line is not None:  # a duplicate key: the path alone would name the line of the first
        return f"{display}:{p.line} › {p.path}: {p.message}" if p.path else f"{display}:{p.line}: {p.message}"
    for s, source in set_paths.items():
        if p.path == s or p.path.startswith((s + ".", s + "[")):
            return f"{source} › {p.path}: {p.message}"
    line = _nearest_line(p.path, lines)
    where = f"{display}:{line}" if line else display
    return f"{where} › {p.path}: {p.message}" if p.path else f"{where}: {p.message}"


def _nearest_line(path: str, lines: dict[str, int]) -> int | None:
    while path:
        if path in lines:
            return lines[path]
        path = path.rpartition(".")[0] if "." in path else ""
    return None
