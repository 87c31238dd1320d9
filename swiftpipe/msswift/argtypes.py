"""The types and choices of ms-swift's command-line arguments, read from their source with `ast`.

transformers' HfArgumentParser turns each dataclass field into an argparse option: `bool`
takes true/false, `int`/`float` a number, `List[X]` several values, `Literal[...]` and
Enums a fixed set of choices. A name is declared in several classes (ms-swift redeclares
`eval_strategy: Optional[str]` over transformers' `IntervalStrategy | str`), and the value
reaches all of them, so the declarations of one name are merged: the choices of any
declaration bind (transformers still converts `false` to an IntervalStrategy, after the model
loaded), and the kinds of value add up. A declaration swiftpipe cannot read statically (a
class it does not know, `choices` computed at import) makes the name unchecked.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Value kinds: what a YAML value may be for the argument. ANY: not checked.
BOOL, INT, FLOAT, STR, DICT, LIST, ANY = "bool", "int", "float", "str", "dict", "list", "any"
_NAMES = {"bool": BOOL, "int": INT, "float": FLOAT, "str": STR, "dict": DICT, "Dict": DICT,
          "list": LIST, "List": LIST, "Sequence": LIST, "tuple": LIST, "Tuple": LIST}
_LISTS = {"list", "List", "Sequence", "tuple", "Tuple"}
_UNIONS = {"Optional", "Union"}


@dataclass(frozen=True)
class ArgType:
    """What one argument accepts: kinds of value, kinds of list items, and its choices (if fixed)."""

    kinds: frozenset[str]
    items: frozenset[str] = frozenset()
    choices: tuple[str, ...] | None = None

    def to_json(self) -> list[Any]:
        return [sorted(self.kinds), sorted(self.items), None if self.choices is None else list(self.choices)]

    @classmethod
    def from_json(cls, data: list[Any]) -> ArgType:
        kinds, items, choices = data
        return cls(frozenset(kinds), frozenset(items), None if choices is None else tuple(choices))


UNCHECKED = ArgType(frozenset({ANY}))


def read_types(arg_files: Iterable[Path], enum_files: Iterable[Path]) -> dict[str, ArgType]:
    """Every annotated class attribute of `arg_files`, with its merged type (Enums from both lists)."""
    arg_files = list(arg_files)
    enums = enum_choices([*arg_files, *enum_files])
    found: dict[str, list[ArgType]] = {}
    for path in arg_files:
        for stmt in _fields(path):
            assert isinstance(stmt.target, ast.Name)
            found.setdefault(stmt.target.id, []).append(declared(stmt, enums))
    return {name: merge(types) for name, types in found.items()}


def _fields(path: Path) -> Iterator[ast.AnnAssign]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ClassDef):
            yield from (s for s in node.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name))


def enum_choices(paths: Iterable[Path]) -> dict[str, tuple[str, ...]]:
    """Enum classes (`class IntervalStrategy(ExplicitEnum)`) -> the string values of their members."""
    enums: dict[str, tuple[str, ...]] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(ast.unparse(b).endswith("Enum") for b in node.bases):
                values = [s.value.value for s in node.body if isinstance(s, ast.Assign)
                          and isinstance(s.value, ast.Constant) and isinstance(s.value.value, str)]
                if values:
                    enums[node.name] = tuple(values)
    return enums


def declared(stmt: ast.AnnAssign, enums: dict[str, tuple[str, ...]]) -> ArgType:
    """The type of one field: its annotation, narrowed by literal `choices` in its metadata."""
    metadata = _metadata_choices(stmt.value)
    if metadata is UNCHECKED:
        return UNCHECKED
    kind = annotation(stmt.annotation, enums)
    if isinstance(metadata, tuple) and ANY not in kind.kinds:
        return ArgType(kind.kinds, kind.items, metadata)
    return kind


def _metadata_choices(value: ast.expr | None) -> tuple[str, ...] | ArgType | None:
    """`field(metadata={'choices': [...]})`: the choices, UNCHECKED when computed, else None."""
    if not isinstance(value, ast.Call):
        return None
    for keyword in value.keywords:
        if keyword.arg == "metadata" and isinstance(keyword.value, ast.Dict):
            for key, item in zip(keyword.value.keys, keyword.value.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "choices":
                    try:
                        return tuple(_text(c) for c in ast.literal_eval(item))
                    except (ValueError, TypeError, SyntaxError):
                        return UNCHECKED
    return None


def annotation(node: ast.expr, enums: dict[str, tuple[str, ...]]) -> ArgType:
    """The ArgType of an annotation, following HfArgumentParser's reading of Optional and Union."""
    members = [m for m in _members(node) if not _is_none(m)]
    types = [_member(m, enums) for m in members]
    choosing = [t for t in types if t.choices is not None]
    # `IntervalStrategy | str`: HfArgumentParser drops the str and keeps the choices.
    if len(types) == 2 and len(choosing) == 1 and any(t.kinds == {STR} and t.choices is None for t in types):
        return choosing[0]
    if len(types) == 1:
        return types[0]
    kinds = frozenset(k for t in types for k in t.kinds)
    return ArgType(kinds, frozenset(i for t in types for i in t.items))


def _members(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):  # a forward reference
        try:
            return _members(ast.parse(node.value, mode="eval").body)
        except SyntaxError:
            return [node]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _members(node.left) + _members(node.right)
    if isinstance(node, ast.Subscript) and _base_name(node.value) in _UNIONS:
        inner = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        return [m for e in inner for m in _members(e)]
    return [node]


def _member(node: ast.expr, enums: dict[str, tuple[str, ...]]) -> ArgType:
    name = _base_name(node.value if isinstance(node, ast.Subscript) else node)
    if isinstance(node, ast.Subscript) and name == "Literal":
        values = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        consts = [v.value for v in values if isinstance(v, ast.Constant)]
        # None is a choice too: HfArgumentParser maps the text 'None' to it.
        kinds = frozenset(_kind_of(c) for c in consts if c is not None) or frozenset({STR})
        return ArgType(kinds, choices=tuple(_text(c) for c in consts))
    if name in enums:
        return ArgType(frozenset({STR}), choices=enums[name])
    if name in _LISTS:
        inner = node.slice if isinstance(node, ast.Subscript) else None
        items = annotation(inner, enums).kinds if inner is not None and not isinstance(inner, ast.Tuple) else {ANY}
        return ArgType(frozenset({LIST}), frozenset(items))
    if name in _NAMES:
        return ArgType(frozenset({_NAMES[name]}))
    return UNCHECKED


def _base_name(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):  # typing.Optional
        return node.attr if isinstance(node.value, ast.Name) and node.value.id == "typing" else ""
    return node.id if isinstance(node, ast.Name) else ""


def _is_none(node: ast.expr) -> bool:
    return (isinstance(node, ast.Constant) and node.value is None) or (isinstance(node, ast.Name)
                                                                       and node.id == "NoneType")


def _kind_of(value: Any) -> str:
    return {bool: BOOL, int: INT, float: FLOAT}.get(type(value), STR)


def _text(value: Any) -> str:
    """A choice as it appears on the command line (swiftpipe writes booleans as true/false)."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def merge(types: list[ArgType]) -> ArgType:
    """One name declared in several classes: any unreadable declaration leaves it unchecked."""
    if any(ANY in t.kinds for t in types):
        return UNCHECKED
    choices = [c for t in types if t.choices is not None for c in t.choices]
    return ArgType(
        frozenset(k for t in types for k in t.kinds), frozenset(i for t in types for i in t.items),
        tuple(dict.fromkeys(choices)) if any(t.choices is not None for t in types) else None,
    )
