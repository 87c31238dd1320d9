"""Build the stage graph from pipeline.yaml: named stages of any kind, wired by `from:`.

`stages:` is an ordered mapping of names the user chooses; `kind:` may be left out when the
name is itself a kind, so `sft:`, `export:` ... read as before. Each kind declares input
slots (engine/kind.py). `from:` names the stages to read from (one name or a list); a slot it
leaves open takes the nearest earlier stage whose output fits, when the slot allows that.

swiftpipe adds two kinds of node itself, both visible in `plan`: an export that merges a LoRA
checkpoint when a model is wanted from it (`<stage>-merged`), and the base model's evaluation
(`<eval>-base`, kind base-eval), shared by every eval stage with the same settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from swiftpipe.config.schema import NAME
from swiftpipe.config.validate import Problem, build, describe
from swiftpipe.engine.graph import Graph, Node
from swiftpipe.engine.kind import Kind, Kinds, Slot


@dataclass
class _Entry:
    name: str
    kind: Kind
    config: Any
    where: str
    wanted: list[str]  # from:
    upstream: dict[str, str] = field(default_factory=dict)
    resources: dict[str, Any] = field(default_factory=dict)


def build_graph(data: Any, stages: Mapping[str, Any], kinds: Kinds,
                stage_keys: Mapping[str, type[Any]] | None = None) -> tuple[Graph | None, list[Problem]]:
    """The graph of a pipeline's `data:` section and `stages:` mapping, or every problem found.

    `kinds` is the registry of kinds; `stage_keys` are the per-stage keys executors declare
    (key -> the dataclass its value builds), kept on each node as `resources`.
    """
    problems: list[Problem] = []
    wiring = _Wiring(kinds, dict(stage_keys or {}))
    entries = wiring.entries(data, stages, problems)
    if problems:  # wiring stages whose own keys are wrong would only add echoes of those
        return None, problems
    by_name = {e.name: e for e in entries}
    for i, entry in enumerate(entries):
        wiring.wire(entry, entries[:i], by_name, problems)
    if problems:
        return None, problems
    cycle = _cycle(entries, by_name)
    if cycle:
        return None, [Problem("stages", "cycle: " + " -> ".join(cycle) + "; a stage cannot read from itself")]
    return Graph(wiring.order(entries, by_name), kinds), []


class _Wiring:
    """Building one graph: the kinds registry and the executors' per-stage keys it reads."""

    def __init__(self, kinds: Kinds, stage_keys: dict[str, type[Any]]) -> None:
        self.kinds = kinds
        self.stage_keys = stage_keys

    def entries(self, data: Any, stages: Mapping[str, Any], problems: list[Problem]) -> list[_Entry]:
        raw: list[tuple[str, str, Any]] = []
        if data is not None:
            section = {"kind": self.kinds.section(), **data} if isinstance(data, dict) else data
            raw.append(("data", "data", section))  # the `data:` section is a stage named data
            if "data" in stages:
                problems.append(Problem("stages.data", "a stage named data is already the top-level 'data' section"))
        raw += [(str(name), f"stages.{name}", value) for name, value in stages.items()
                if name != "data" or data is None]
        entries = []
        for name, where, value in raw:
            entry = self._entry(name, where, {} if value is None else value, problems)
            if entry is not None:
                entries.append(entry)
        return entries

    def _entry(self, name: str, where: str, value: Any, problems: list[Problem]) -> _Entry | None:
        if not NAME.pattern.fullmatch(name):
            problems.append(Problem(where, "stage names are letters, digits, '-' and '_', starting with a letter"))
            return None
        if not isinstance(value, dict):
            problems.append(Problem(where, f"expected a mapping, got {describe(value)}"))
            return None
        body = dict(value)
        kinds = self.kinds.user_kinds()
        kind_name = body.pop("kind", name if name in kinds else None)
        if kind_name not in kinds:
            listed = ", ".join(kinds)
            if "kind" in value:
                problems.append(Problem(f"{where}.kind", f"expected one of {listed}, got {describe(kind_name)}"))
            else:
                problems.append(Problem(where, f"'{name}' is not a kind; add kind: (one of {listed})"))
            return None
        wanted = self._wanted(body.pop("from", None), f"{where}.from", problems)
        resources = {}
        for key, settings in self.stage_keys.items():
            if key in body:
                built, found = build(settings, body.pop(key), f"{where}.{key}")
                problems += found
                if built is not None:
                    resources[key] = built
        kind = self.kinds.get(kind_name)
        config, found = build(kind.config, body, where)
        problems += found
        if config is None:
            return None
        problems += [Problem(f"{where}.{p.key}" if p.key else where, p.message) for p in kind.check(config)]
        return _Entry(name, kind, config, where, wanted, resources=resources)

    def _wanted(self, value: Any, where: str, problems: list[Problem]) -> list[str]:
        items = value if isinstance(value, list) else [] if value is None else [value]
        if not all(isinstance(v, str) for v in items):
            problems.append(Problem(where, f"expected a stage name or a list of them, got {describe(value)}"))
            return []
        return list(items)

    def wire(self, entry: _Entry, earlier: list[_Entry], by_name: dict[str, _Entry], problems: list[Problem]) -> None:
        slots = entry.kind.slots(entry.config)
        before = len(problems)
        for name in entry.wanted:
            source = by_name.get(name)
            if source is None or source is entry:
                others = ", ".join(n for n in by_name if n != entry.name)
                problems.append(Problem(f"{entry.where}.from",
                                        f"no stage named '{name}' to read from (stages: {others})"))
                continue
            slot = next((s for s in slots if s.name not in entry.upstream and source.kind.produces in s.accepts), None)
            if slot is None:
                problems.append(Problem(f"{entry.where}.from", self._misfit(entry, source, slots)))
                continue
            entry.upstream[slot.name] = name
        for slot in slots:
            if slot.name in entry.upstream:
                continue
            if slot.nearest:
                fit = next((e for e in reversed(earlier) if e.kind.produces in slot.accepts), None)
                if fit is not None:
                    entry.upstream[slot.name] = fit.name
                    continue
            if slot.required and len(problems) == before:  # a bad from: already explains the gap
                problems.append(Problem(entry.where, self._missing(slot)))

    def _producers(self, accepts: tuple[str, ...]) -> str:
        names = [k for k in self.kinds.user_kinds() if self.kinds.get(k).produces in accepts]
        return " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)

    def _misfit(self, entry: _Entry, source: _Entry, slots: tuple[Slot, ...]) -> str:
        accepts = tuple(a for s in slots if s.name not in entry.upstream for a in s.accepts)
        takes = f"reads from {self._producers(accepts)} stages" if accepts else "reads from no other stage here"
        return f"'{source.name}' is {_a(source.kind.name)} stage; {_a(entry.kind.name)} stage {takes}"

    def _missing(self, slot: Slot) -> str:
        if slot.missing:
            return slot.missing
        return f"needs {_a(self._producers(slot.accepts))} stage before it (or name one with from:)"

    def order(self, entries: list[_Entry], by_name: dict[str, _Entry]) -> dict[str, Node]:
        """Topological order that follows the file; implied nodes come just before their reader."""
        nodes: dict[str, Node] = {}

        def add(entry: _Entry) -> None:
            if entry.name in nodes:
                return
            for up in entry.upstream.values():
                add(by_name[up])
            upstream = {slot: self._implied(nodes, entry, slot, by_name[up]) for slot, up in entry.upstream.items()}
            for implied in entry.kind.implies(entry.config, {s: by_name[u].config for s, u in entry.upstream.items()}):
                upstream[implied.slot] = self._shared(nodes, entry, implied)
            nodes[entry.name] = Node(entry.name, entry.kind.name, entry.config, upstream, entry.where,
                                     resources=entry.resources)

        for entry in entries:
            add(entry)
        return nodes

    def _implied(self, nodes: dict[str, Node], reader: _Entry, slot_name: str, source: _Entry) -> str:
        """The stage `reader` reads: `source` itself, or an export merging its LoRA checkpoint."""
        slot = next(s for s in reader.kind.slots(reader.config) if s.name == slot_name)
        adapter = source.kind.adapter
        if not slot.merge or adapter is None or not adapter(source.config):
            return source.name
        name = f"{source.name}-merged"
        if name not in nodes:
            export = self.kinds.get(self.kinds.merger())
            why = f"merges {source.name}'s LoRA checkpoint into a model for {reader.name}"
            nodes[name] = Node(name, export.name, export.config(), {"model": source.name}, f"stages.{source.name}", why)
        return name

    def _shared(self, nodes: dict[str, Node], reader: _Entry, implied: Any) -> str:
        for node in nodes.values():
            if node.kind == implied.kind and node.config == implied.config and node.implied:
                return node.name
        name = f"{reader.name}-{implied.suffix}"
        nodes[name] = Node(name, implied.kind, implied.config, {}, reader.where, implied.why)
        return name


def _a(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def _cycle(entries: list[_Entry], by_name: dict[str, _Entry]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        if state.get(name) == 1:
            return [*path[path.index(name):], name]
        if state.get(name) == 2:
            return None
        state[name] = 1
        path.append(name)
        for up in by_name[name].upstream.values():
            found = visit(up)
            if found:
                return found
        path.pop()
        state[name] = 2
        return None

    for entry in entries:
        found = visit(entry.name)
        if found:
            return found
    return None
