"""Parse pipeline.yaml once: the data, the line of every key path, and keys written twice.

PyYAML silently keeps the last of two equal keys in a mapping, so a second `sft:` under
`stages:` would replace the first without a word; the loader here records each one.

It also bounds what a small file can cost. An alias repeats a whole node, so nine lines of
aliases to aliases ("billion laughs") describe 10^9 values, which every walk of the data
(key lines, interpolation, the checks) would visit; and PyYAML composes nested values by
recursion, so a few thousand `[` overflow the stack. `YamlLimit` refuses both before any
walk: values nested deeper than MAX_DEPTH, an alias that contains itself, and aliases
that together repeat more than ALIAS_BUDGET values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from swiftpipe.config.validate import Problem

_MERGE = "tag:yaml.org,2002:merge"
MAX_DEPTH = 100  # levels of nesting; a pipeline needs about ten, the recursion limit is 1000 frames
ALIAS_BUDGET = 50_000  # values that aliases may add to what the text itself holds


class YamlLimit(Exception):
    """YAML that would cost unbounded memory or recursion; `line` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line, self.message = line, message


@dataclass
class Parsed:
    data: Any
    lines: dict[str, int] = field(default_factory=dict)  # key path (`stages.sft.args`) -> 1-based line
    duplicates: list[Problem] = field(default_factory=list)


class BoundedLoader(yaml.SafeLoader):
    """A SafeLoader that refuses nesting deeper than MAX_DEPTH while it composes."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self._depth >= MAX_DEPTH:
            event = self.peek_event()  # type: ignore[no-untyped-call]  # untyped in types-PyYAML
            raise YamlLimit(event.start_mark.line + 1, _too_deep())
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def bounded_node(self) -> yaml.Node | None:
        """The document's node tree, once aliases are known to stay within the limits."""
        root = self.get_single_node()
        if root is not None:
            _Expansion().visit(root, root.start_mark.line + 1)
        return root


class _Expansion:
    """Sizes and depths of nodes with aliases expanded, each node measured once."""

    def __init__(self) -> None:
        self.measured: dict[int, tuple[int, int]] = {}  # id(node) -> (values, depth)
        self.open: set[int] = set()  # the nodes being measured: meeting one again is recursion
        self.repeated = 0  # values added by aliases

    def visit(self, node: yaml.Node, line: int) -> tuple[int, int]:
        """(values, depth) of `node`; `line` is where it is used (an alias has no line of its own)."""
        key = id(node)
        if key in self.measured:  # an alias: it repeats everything under the node
            size, depth = self.measured[key]
            self.repeated += size
            if self.repeated > ALIAS_BUDGET:
                raise YamlLimit(line, f"aliases repeat more than {ALIAS_BUDGET} values; write the values out "
                                "or alias smaller pieces")
            return size, depth
        if key in self.open:
            raise YamlLimit(node.start_mark.line + 1, "recursive alias: the value anchored here contains itself")
        self.open.add(key)
        size, depth = 1, 1
        for child, at in _children(node):
            child_size, child_depth = self.visit(child, at)
            size, depth = size + child_size, max(depth, child_depth + 1)
        if depth > MAX_DEPTH:
            raise YamlLimit(node.start_mark.line + 1, _too_deep())
        self.open.discard(key)
        self.measured[key] = (size, depth)
        return size, depth


def _children(node: yaml.Node) -> list[tuple[yaml.Node, int]]:
    """The nodes under `node`, each with the line it is written on."""
    if isinstance(node, yaml.MappingNode):
        return [(n, key.start_mark.line + 1) for key, value in node.value for n in (key, value)]
    if isinstance(node, yaml.SequenceNode):
        return [(n, node.start_mark.line + 1) for n in node.value]
    return []


def _too_deep() -> str:
    return f"values nested more than {MAX_DEPTH} levels deep; a pipeline needs far fewer"


class KeyedLoader(BoundedLoader):
    """A bounded SafeLoader that also maps key paths to lines and records duplicate keys."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.lines: dict[str, int] = {}
        self.duplicates: list[Problem] = []
        self._checked: set[int] = set()  # mappings already checked (an alias repeats a node)

    def walk(self, node: yaml.Node | None, path: str = "", above: tuple[int, ...] = ()) -> None:
        if node is None or id(node) in above:  # a recursive alias
            return
        inside = (*above, id(node))
        if isinstance(node, yaml.MappingNode):
            self._check_keys(node, path)
            # Merged keys (`<<: *train`) first, so keys written here win, as they do in the data.
            for key, value in sorted(node.value, key=lambda kv: kv[0].tag != _MERGE):
                if key.tag == _MERGE:
                    merged = value.value if isinstance(value, yaml.SequenceNode) else [value]
                    for item in merged:
                        self.walk(item, path, inside)
                    continue
                sub = f"{path}.{key.value}" if path else str(key.value)
                self.lines[sub] = key.start_mark.line + 1
                self.walk(value, sub, inside)
        elif isinstance(node, yaml.SequenceNode):
            for i, value in enumerate(node.value):
                sub = f"{path}[{i}]"
                self.lines[sub] = value.start_mark.line + 1
                self.walk(value, sub, inside)

    def _check_keys(self, node: yaml.MappingNode, path: str) -> None:
        if id(node) in self._checked:
            return
        self._checked.add(id(node))
        first: dict[tuple[str, str], int] = {}
        for key, _ in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.tag == _MERGE:
                continue
            line = key.start_mark.line + 1
            if (key.tag, key.value) not in first:
                first[(key.tag, key.value)] = line
                continue
            at = first[(key.tag, key.value)]
            msg = f"duplicate key '{key.value}' (first at line {at}); YAML keeps only the last one"
            self.duplicates.append(Problem(path, msg, line))


def parse(text: str) -> Parsed:
    """The YAML data with its key lines and duplicate keys; raises yaml.YAMLError or YamlLimit."""
    loader = KeyedLoader(text)
    try:
        root = loader.bounded_node()
        loader.walk(root)
        data = loader.construct_document(root) if root is not None else None
        return Parsed(data, loader.lines, loader.duplicates)
    finally:
        loader.dispose()


def load_value(text: str) -> Any:
    """One YAML value (a `--set` value, an environment variable), within the same limits as a file."""
    loader = BoundedLoader(text)
    try:
        root = loader.bounded_node()
        return loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()
