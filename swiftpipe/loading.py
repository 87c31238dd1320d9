"""Load a pipeline: its config, its stage graph from the kinds, its executor's settings.

The one place that puts the registries together (swiftpipe/kinds, swiftpipe/executors), so the
engine and the config layers below never import them. Every problem — of the file, of the
graph, of the executor — is reported in one message (exit 2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

from swiftpipe.config.load import ConfigRead, read_config
from swiftpipe.config.schema import Pipeline
from swiftpipe.config.validate import Problem, build, describe
from swiftpipe.engine.executor import ExecutorKind
from swiftpipe.engine.pipeline import LoadedPipeline
from swiftpipe.engine.wiring import build_graph
from swiftpipe.executors import DEFAULT, EXECUTORS
from swiftpipe.kinds import KINDS
from swiftpipe.kinds.rules import check_pipeline


def load_pipeline(
    path: Path, overrides: list[str] | None = None, env: Mapping[str, str] | None = None,
    profile: str | None = None,
) -> LoadedPipeline:
    """Load and validate a pipeline file; raise UserError listing every problem.

    `profile` (default: the one `--profile` selected) is overlaid before `--set` overrides.
    """
    read = read_config(path, overrides, env, profile)
    problems = list(read.problems)
    loaded = None
    if read.config is not None:
        loaded = _build(read, read.config, problems)
    read.fail(problems)
    assert loaded is not None
    read.fail(executor_kind(loaded).check(loaded))
    return loaded


def executor_kind(loaded: LoadedPipeline) -> ExecutorKind:
    """The executor `executor.type` names (checked when the pipeline was loaded)."""
    return EXECUTORS.get(str(loaded.config.executor.get("type", DEFAULT)))


def _build(read: ConfigRead, config: Pipeline, problems: list[Problem]) -> LoadedPipeline | None:
    settings = _executor_settings(config.executor, problems)
    stage_keys = {e.stage_key: e.resources for e in map(EXECUTORS.get, EXECUTORS.names())
                  if e.stage_key is not None and e.resources is not None}
    graph, found = build_graph(config.data, config.stages, KINDS, stage_keys)
    problems.extend(found)
    if graph is None or settings is None:
        return None
    loaded = LoadedPipeline(config, graph, settings, read.path.resolve(), str(read.path), read.overrides)
    problems.extend(check_pipeline(config, graph))
    return loaded


def _executor_settings(section: dict[str, Any], problems: list[Problem]) -> Any:
    """`executor:` less `type`, built into the settings dataclass of the executor it names.

    Settings of the other executors are checked too but not used, so `--set executor.type=local`
    runs a pipeline written for a scheduler here as it is.
    """
    body = dict(section)
    name = body.pop("type", DEFAULT)
    if name not in EXECUTORS.names():
        listed = ", ".join(EXECUTORS.names())
        problems.append(Problem("executor.type", f"expected one of {listed}, got {describe(name)}"))
        return None
    chosen = EXECUTORS.get(name).settings
    own = {f.name for f in fields(chosen)}
    for other in EXECUTORS.names():
        theirs = {f.name for f in fields(EXECUTORS.get(other).settings)} - own
        if other != name and theirs & body.keys():
            _, found = build(EXECUTORS.get(other).settings, {k: body.pop(k) for k in theirs & body.keys()}, "executor")
            problems.extend(found)
    settings, found = build(chosen, body, "executor")
    problems.extend(found)
    return settings
