"""The stages of a sweep's variants: copies of the swept stages and of those reading them."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field, replace
from typing import Any

from swiftpipe.config.schema import Pipeline
from swiftpipe.config.validate import Problem
from swiftpipe.engine.graph import Graph
from swiftpipe.sweep.variants import Variant, swept, variants


@dataclass
class Expansion:
    """The `data:` section and `stages:` mapping with each swept stage replaced by its copies."""

    data: Any
    stages: dict[str, Any] = field(default_factory=dict)
    copies: dict[str, str] = field(default_factory=dict)  # copy -> where its stage is written (`stages.sft`)
    keys: list[str] = field(default_factory=list)  # the swept key paths (`stages.sft.args.lr`)
    own: dict[str, str] = field(default_factory=dict)  # copy -> the part of its name its own keys give
    problems: list[Problem] = field(default_factory=list)

    def origin(self, problem: Problem) -> Problem:
        """A problem found in a copy, told at the key the user wrote (the sweep's, or the stage's)."""
        path, copied = self._written(problem.path)
        for key in self.keys:
            if path == key or path.startswith((key + ".", key + "[")):
                return Problem(f"sweep.params.{path}", problem.message)
        return Problem(path, f"in its sweep copy {copied}: {problem.message}") if copied else problem

    def _written(self, path: str) -> tuple[str, str | None]:
        """`stages.<copy>...` as the key of the stage it copies, and that copy's name."""
        head, _, rest = path.partition(".")
        name = rest.partition(".")[0] if head == "stages" else ""
        if name not in self.copies:
            return path, None
        return self.copies[name] + path[len(f"stages.{name}"):], name

    def finish(self, graph: Graph) -> Graph:
        """The graph of the copies, each node telling the stage as written as where it came from;
        a node swiftpipe added for every copy alike (the base model's evaluation) is named after
        the stage as written and its own swept values (`eval-base`, `eval-limit5-base`), not after
        the first copy that asked for it."""
        targets: dict[str, list[str]] = {}
        for node in graph:
            owner = max((c for c in self.copies if node.name.startswith(c + "-")), key=len, default=None)
            if node.implied and not node.upstream and owner is not None:
                stage = "-".join(filter(None, [self.copies[owner].rpartition(".")[2], self.own[owner]]))
                targets.setdefault(stage + node.name[len(owner):], []).append(node.name)
        renames = {found[0]: new for new, found in targets.items() if len(found) == 1 and new not in graph.nodes}
        nodes = {}
        for node in graph:
            name = renames.get(node.name, node.name)
            upstream = {slot: renames.get(up, up) for slot, up in node.upstream.items()}
            nodes[name] = replace(node, name=name, upstream=upstream, where=self._written(node.where)[0])
        return Graph(nodes, graph.kinds)


def expand(config: Pipeline, graph: Graph) -> Expansion:
    """Copy the stages `config.sweep` touches, and those reading them, once per variant.

    `graph` is the graph of the file as written: the copies keep its wiring.
    """
    assert config.sweep is not None
    out = Expansion(config.data)
    found = variants(config.sweep, out.problems)
    inside = _inside(swept(config.sweep), graph, out)
    if out.problems:
        return out
    copier = _Copier(graph, found, inside, out)
    if config.data is not None and "data" in copier.keys:
        out.data = None
        out.stages.update(copier.copies("data", config.data))
    for name, body in config.stages.items():
        if name in copier.keys:
            out.stages.update(copier.copies(name, body))
        else:
            out.stages[name] = copier.gathered(name, body) if _gathers(graph, name) else body
    return out


def _gathers(graph: Graph, name: str) -> bool:
    """A stage where the variants meet (select): it reads every copy and is not copied itself."""
    return bool(getattr(graph.kind(name).config, "gathers", False))


def _below(graph: Graph, touched: set[str]) -> set[str]:
    """The swept stages and those reading them, down to (not into) the stages where variants meet."""
    found, todo = set(touched), list(touched)
    while todo:
        for child in graph.dependents(todo.pop()):
            if child not in found and not _gathers(graph, child):
                found.add(child)
                todo.append(child)
    return found


def _inside(params: dict[str, Any], graph: Graph, out: Expansion) -> dict[str, tuple[str, list[str]]]:
    """Each swept key's stage and its path inside that stage's keys."""
    wheres = {node.where: node.name for node in graph if not node.implied}
    found = {}
    for key in params:
        where = next((w for w in wheres if key.startswith(w + ".")), None)
        if where is None:
            out.problems.append(Problem(f"sweep.params.{key}", _unknown(key, wheres)))
            continue
        path = key[len(where) + 1:].split(".")
        if path[0] in ("kind", "from"):
            out.problems.append(Problem(f"sweep.params.{key}", f"{path[0]} cannot be swept; write those stages out"))
            continue
        found[key] = (wheres[where], path)
        out.keys.append(key)
    return found


def _unknown(key: str, wheres: dict[str, str]) -> str:
    if not key.startswith("stages."):
        return "expected a key of a stage: stages.<stage>.<key>" + (", or data.<key>" if "data" in wheres else "")
    listed = ", ".join(wheres.values())
    return f"no stage named '{key.split('.')[1]}' (stages: {listed})"


class _Copier:
    """Making the copies of the swept stages and of the stages reading them."""

    def __init__(self, graph: Graph, found: list[Variant], inside: dict[str, tuple[str, list[str]]],
                 out: Expansion) -> None:
        self.graph, self.found, self.inside, self.out = graph, found, inside, out
        touched = {stage for stage, _ in inside.values()}
        copied = {n for n in _below(graph, touched) if not graph[n].implied}
        # A copy per distinct combination of the keys of its stage and of the stages above it.
        self.keys = {n: [k for k, (s, _) in inside.items() if s == n or s in graph.ancestors(n)] for n in copied}
        self.taken = {n.name for n in graph if n.name not in copied}

    def name(self, stage: str, variant: Variant) -> str:
        return f"{stage}-{variant.tag(self.keys[stage])}"

    def gathered(self, stage: str, body: Any) -> Any:
        """A stage where the variants meet, its `from:` naming every copy of a stage the sweep copies."""
        if not isinstance(body, dict) or "from" not in body:
            return body
        wanted = body["from"] if isinstance(body["from"], list) else [body["from"]]
        reads = [self.name(u, v) if u in self.keys else u for u in wanted for v in self.found]
        return {**body, "from": list(dict.fromkeys(reads))}

    def copies(self, stage: str, body: Any) -> dict[str, Any]:
        node = self.graph[stage]
        made: dict[str, Any] = {}
        for variant in self.found:
            name = self.name(stage, variant)
            if name in made:
                continue
            if name in self.taken:
                self.out.problems.append(Problem(f"stages.{name}", f"is also the name of a copy the sweep makes of "
                                                                   f"{stage}; rename this stage"))
            raw = {k: copy.deepcopy(v) for k, v in (body or {}).items() if k != "from"}
            raw["kind"] = node.kind
            reads = [self.name(u, variant) if u in self.keys else u for u in _reads(self.graph, stage)]
            if reads:
                raw["from"] = reads
            if self.graph.kind(stage).serves:  # each copy its own port; a swept port is set below
                raw["port"] = node.config.port + len(made)
            for key, (owner, path) in self.inside.items():
                if owner == stage:
                    self._set(raw, path, variant.values[key], key, node.where)
            made[name] = raw
            self.out.copies[name] = node.where
            self.out.own[name] = variant.tag([k for k, (owner, _) in self.inside.items() if owner == stage])
        return made

    def _set(self, raw: dict[str, Any], path: list[str], value: Any, key: str, where: str) -> None:
        for i, part in enumerate(path[:-1]):
            child = raw.setdefault(part, {})
            if not isinstance(child, dict):
                inner = ".".join([where, *path[: i + 1]])
                self.out.problems.append(Problem(f"sweep.params.{key}", f"{inner} is not a mapping, cannot set "
                                                                        "a key inside it"))
                return
            raw = child
        raw[path[-1]] = copy.deepcopy(value)


def _reads(graph: Graph, name: str) -> list[str]:
    """The stages `name` reads as a user would name them in `from:` (a merge: the stage it merges)."""
    out = []
    for up in graph[name].upstream.values():
        node = graph[up]
        while node.implied and node.upstream:  # `<stage>-merged`: the copy's wiring adds it again
            node = graph[next(iter(node.upstream.values()))]
        if not node.implied:  # the base model's evaluation: the copy implies it again
            out.append(node.name)
    return out


def summary(config: Pipeline, graph: Graph) -> list[str]:
    """What `plan` shows of a sweep: each variant and its values, and where the servers listen."""
    if config.sweep is None:
        return []
    found = variants(config.sweep, [])
    lines = [f"\nsweep: {config.sweep.method}, {len(found)} variants (copies of a stage are named <stage>-<values>)"]
    for variant in found:
        values = ", ".join(f"{k}={_show(v)}" for k, v in variant.values.items())
        lines.append(f"  {variant.tag(list(variant.values))}: {values}")
    servers = [f"{n.name} {n.config.port}" for n in graph if graph.kind(n.name).serves]
    if servers:
        lines.append(f"  ports: {', '.join(servers)} (copies of a deploy stage listen on its port + 0, 1, ...)")
    return lines


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
