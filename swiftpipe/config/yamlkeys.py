"""Parse pipeline.yaml once: the data, the line of every key path, and keys written twice.

PyYAML silently keeps the last of two equal keys in a mapping, so a second `sft:` under
`stages:` would replace the first without a word; the loader here records each one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from swiftpipe.config.validate import Problem

_MERGE = "tag:yaml.org,2002:merge"


@dataclass
class Parsed:
    data: Any
    lines: dict[str, int] = field(default_factory=dict)  # key path (`stages.sft.args`) -> 1-based line
    duplicates: list[Problem] = field(default_factory=list)


class KeyedLoader(yaml.SafeLoader):
    """A SafeLoader that also maps key paths to lines and records duplicate keys."""

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
    """The YAML data with its key lines and duplicate keys; raises yaml.YAMLError."""
    loader = KeyedLoader(text)
    try:
        root = loader.get_single_node()
        loader.walk(root)
        data = loader.construct_document(root) if root is not None else None
        return Parsed(data, loader.lines, loader.duplicates)
    finally:
        loader.dispose()
