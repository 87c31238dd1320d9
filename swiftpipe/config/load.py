"""Read pipeline.yaml: parse, interpolate, override, validate. All problems, one report."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from swiftpipe.config.interpolate import MissingVariable, interpolate
from swiftpipe.config.overrides import apply_overrides
from swiftpipe.config.rules import check_pipeline, check_raw_secrets
from swiftpipe.config.schema import LoadedPipeline, Pipeline
from swiftpipe.config.validate import Problem, build
from swiftpipe.engine.graph import build_graph
from swiftpipe.errors import UserError


def load_pipeline(
    path: Path, overrides: list[str] | None = None, env: Mapping[str, str] | None = None
) -> LoadedPipeline:
    """Load and validate a pipeline file; raise UserError listing every problem."""
    display = str(path)
    text = _read(path, display)
    raw = _parse(text, display)
    lines = key_lines(text)
    set_paths = apply_overrides(raw, list(overrides or []))
    problems = check_raw_secrets(raw)
    try:
        data = interpolate(raw, os.environ if env is None else env)
    except MissingVariable as exc:
        msg = f"environment variable {exc.name} is not set; export it or write ${{{exc.name}:-default}}"
        problems.append(Problem(exc.path, msg))
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
    return LoadedPipeline(config, graph, path.resolve(), display, tuple(overrides or ()))


def _read(path: Path, display: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{display}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{display}: cannot read: {exc}") from None


def _parse(text: str, display: str) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{display}:{mark.line + 1}" if mark is not None else display
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise UserError(f"{where}: invalid YAML: {problem}") from None
    if not isinstance(raw, dict):
        raise UserError(f"{display}: expected a mapping of keys at the top level")
    # Top-level `x-...` keys hold YAML anchors for the stages to merge (`<<: *train`); no meaning here.
    return {k: v for k, v in raw.items() if not str(k).startswith("x-")}


def _format(display: str, p: Problem, lines: dict[str, int], set_paths: list[str]) -> str:
    if any(p.path == s or p.path.startswith(s + ".") for s in set_paths):
        return f"--set › {p.path}: {p.message}"
    line = _nearest_line(p.path, lines)
    where = f"{display}:{line}" if line else display
    return f"{where} › {p.path}: {p.message}" if p.path else f"{where}: {p.message}"


def _nearest_line(path: str, lines: dict[str, int]) -> int | None:
    while path:
        if path in lines:
            return lines[path]
        path = path.rpartition(".")[0] if "." in path else ""
    return None


def key_lines(text: str) -> dict[str, int]:
    """Map key paths (`stages.sft.args`) to 1-based line numbers in the YAML text."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return {}
    lines: dict[str, int] = {}
    _walk(root, "", lines)
    return lines


def _walk(node: yaml.Node | None, path: str, lines: dict[str, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            sub = f"{path}.{key.value}" if path else str(key.value)
            lines[sub] = key.start_mark.line + 1
            _walk(value, sub, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            sub = f"{path}[{i}]"
            lines[sub] = value.start_mark.line + 1
            _walk(value, sub, lines)
