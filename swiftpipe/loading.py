"""Load a pipeline: its config, its stage graph from the kinds, its executor's settings.

The one place that puts the registries together (swiftpipe/kinds, swiftpipe/executors), so the
engine and the config layers below never import them. Every problem — of the file, of the
graph, of the executor — is reported in one message (exit 2).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from swiftpipe.config.load import ConfigRead, read_config
from swiftpipe.config.schema import Pipeline
from swiftpipe.config.validate import Problem, build, describe
from swiftpipe.engine.executor import ExecutorKind
from swiftpipe.engine.graph import Graph
from swiftpipe.engine.pipeline import LoadedPipeline
from swiftpipe.engine.wiring import build_graph
from swiftpipe.executors import DEFAULT, EXECUTORS
from swiftpipe.kinds import KINDS
from swiftpipe.kinds.rules import check_pipeline
from swiftpipe.sweep.expand import expand
from swiftpipe.sweep.variants import sweep_overrides


def load_pipeline(
    path: Path, overrides: list[str] | None = None, env: Mapping[str, str] | None = None,
    profile: str | None = None, sweeps: list[str] | None = None,
) -> LoadedPipeline:
    """Load and validate a pipeline file; raise UserError listing every problem.

    `profile` (default: the one `--profile` selected) is overlaid before `--set` overrides.
    `sweeps` (`--sweep KEY=V1,V2`) join `sweep.params`, as `--set` overrides of it.
    """
    swept = sweep_overrides(sweeps or [])
    read = read_config(path, [*(overrides or []), *(o for _, o in swept)], env, profile)
    read.set_paths.update((key, "--sweep") for key, _ in swept)
    problems = list(read.problems)
    loaded = None
    if read.config is not None:
        loaded = _build(read, read.config, problems)
    if loaded is not None:
        problems.extend(executor_kind(loaded).check(loaded))
    read.fail(list(dict.fromkeys(problems)))  # the copies of a sweep find one problem once each
    assert loaded is not None
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
    origin: Callable[[Problem], Problem] = _as_written
    if graph is not None and config.sweep is not None:
        config, graph, origin = _expand(config, graph, stage_keys, problems)
    if graph is None or settings is None:
        return None
    loaded = LoadedPipeline(config, graph, settings, read.path.resolve(), str(read.path), read.overrides)
    problems.extend(map(origin, check_pipeline(config, graph)))
    return loaded


def _as_written(problem: Problem) -> Problem:
    return problem


def _expand(config: Pipeline, graph: Graph, stage_keys: Mapping[str, type[Any]], problems: list[Problem]
            ) -> tuple[Pipeline, Graph | None, Callable[[Problem], Problem]]:
    """The pipeline with its sweep's copies in `stages:`, and their graph (see swiftpipe/sweep)."""
    expansion = expand(config, graph)
    problems.extend(expansion.problems)
    if expansion.problems:
        return config, None, expansion.origin
    config = replace(config, data=expansion.data, stages=expansion.stages)
    expanded, found = build_graph(config.data, config.stages, KINDS, stage_keys)
    problems.extend(map(expansion.origin, found))
    return config, None if expanded is None else expansion.finish(expanded), expansion.origin


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
