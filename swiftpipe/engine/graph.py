"""The stage graph as data: named nodes, the slots each reads, and walks over the edges.

It is built from pipeline.yaml by engine/wiring.py; everything after loading reads it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from swiftpipe.engine.kind import Kind, Kinds


@dataclass(frozen=True)
class Node:
    """One stage of the graph. `upstream` maps the kind's input slots to stage names."""

    name: str
    kind: str
    config: Any
    upstream: Mapping[str, str] = field(default_factory=dict)
    where: str = ""  # the config key it came from, for messages: `stages.sft`, `data`
    implied: str | None = None  # why swiftpipe added it, for nodes the user did not write
    # Per-executor settings of this stage, by the key the executor declares (e.g. its job size).
    resources: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Graph:
    nodes: dict[str, Node]  # in topological order, following the file where it can
    kinds: Kinds  # the registry the nodes' kinds come from

    def kind(self, name: str) -> Kind:
        """What the kind of stage `name` declares about itself."""
        return self.kinds.get(self.nodes[name].kind)

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes.values())

    def __getitem__(self, name: str) -> Node:
        return self.nodes[name]

    @property
    def names(self) -> list[str]:
        return list(self.nodes)

    def dependents(self, name: str) -> list[str]:
        return [n.name for n in self if name in n.upstream.values()]

    def descendants(self, name: str) -> set[str]:
        found: set[str] = set()
        todo = [name]
        while todo:
            for child in self.dependents(todo.pop()):
                if child not in found:
                    found.add(child)
                    todo.append(child)
        return found

    def ancestors(self, name: str) -> set[str]:
        found: set[str] = set()
        todo = [name]
        while todo:
            for parent in self.nodes[todo.pop()].upstream.values():
                if parent not in found:
                    found.add(parent)
                    todo.append(parent)
        return found
