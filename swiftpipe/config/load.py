"""Read pipeline.yaml: parse, interpolate, override, validate. All problems, one report."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import yaml

from swiftpipe.config import profiles
from swiftpipe.config.interpolate import MissingVariable, UnreadableVariable, interpolate
from swiftpipe.config.overrides import apply_overrides
from swiftpipe.config.rules import check_pipeline, check_raw_secrets
from swiftpipe.config.schema import LoadedPipeline, Pipeline
from swiftpipe.config.validate import Problem, build
from swiftpipe.config.yamlkeys import Parsed, YamlLimit, parse
from swiftpipe.core.errors import UserError
from swiftpipe.engine.wiring import build_graph
from swiftpipe.slurm.config import path_problems


def load_pipeline(
    path: Path, overrides: list[str] | None = None, env: Mapping[str, str] | None = None,
    profile: str | None = None,
) -> LoadedPipeline:
    """Load and validate a pipeline file; raise UserError listing every problem.

    `profile` (default: the one `--profile` selected) is overlaid before `--set` overrides.
    """
    display = str(path)
    text = _read(path, display)
    parsed = _parse(text, display)
    raw, lines = parsed.data, parsed.lines
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
    config, graph = None, None
    if data is not None:
        config, found = build(Pipeline, data)
        problems.extend(found)
        if config is not None:
            graph, found = build_graph(config.data, config.stages)
            problems.extend(found)
        if graph is not None and config is not None:
            problems.extend(check_pipeline(config, graph))
    if problems:
        raise UserError("\n".join(_format(display, p, lines, set_paths) for p in problems))
    assert config is not None and graph is not None
    loaded = LoadedPipeline(config, graph, path.resolve(), display, tuple(overrides or ()))
    problems = path_problems(loaded)
    if problems:
        raise UserError("\n".join(_format(display, p, lines, set_paths) for p in problems))
    return loaded


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
