"""Argument types and choices read from source as HfArgumentParser reads the dataclasses."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from swiftpipe.msswift import swiftargs
from swiftpipe.msswift.argtypes import UNCHECKED, ArgType, read_types

SOURCE = """\
from enum import Enum
from typing import List, Literal, Optional, Union

class Strategy(ExplicitEnum):
    NO = "no"
    STEPS = "steps"

class Base:
    strategy: Strategy | str = "no"
    level: str = field(default="info", metadata={"choices": trainer_log_levels.keys()})
    dtype: Literal["bfloat16", "float32", None] = None
    bits: Literal[4, 8, "float8"] = 4
    ctx: str | None = field(default=None, metadata={"choices": ["fork", "spawn"]})

class Derived(Base):
    strategy: Optional[str] = None  # redeclared wider; the base's choices still bind
    steps: Optional[int] = None
    modules: List[str] = field(default_factory=list)
    kwargs: Optional[Union[dict, str]] = None
    flag: "bool" = False
    device: torch.dtype = None

    def method(self) -> None:
        local: int = 1
"""


def test_types_choices_and_merged_declarations(tmp_path: Path) -> None:
    src = tmp_path / "args.py"
    src.write_text(SOURCE)
    assert read_types([src], []) == {
        "strategy": ArgType(frozenset({"str"}), choices=("no", "steps")),
        "level": UNCHECKED,  # choices computed at import: not readable, so not checked
        "dtype": ArgType(frozenset({"str"}), choices=("bfloat16", "float32", "None")),
        "bits": ArgType(frozenset({"int", "str"}), choices=("4", "8", "float8")),
        "ctx": ArgType(frozenset({"str"}), choices=("fork", "spawn")),
        "steps": ArgType(frozenset({"int"})),
        "modules": ArgType(frozenset({"list"}), frozenset({"str"})),
        "kwargs": ArgType(frozenset({"dict", "str"})),
        "flag": ArgType(frozenset({"bool"})),
        "device": UNCHECKED,
    }


def test_the_json_form_round_trips(tmp_path: Path) -> None:
    src = tmp_path / "args.py"
    src.write_text(SOURCE)
    for declared in read_types([src], []).values():
        assert ArgType.from_json(declared.to_json()) == declared


@pytest.mark.integration  # imports ms-swift, which takes half a minute on a small CPU
def test_the_static_reading_agrees_with_swifts_own_parsers() -> None:
    """Every option of swift's real parsers is known, and its choices or int/float/bool type read alike."""
    arguments = pytest.importorskip("swift.arguments")  # the one slow import here (seconds)
    from swift.utils.utils import _patch_get_type_hints  # type: ignore[import-untyped]
    from transformers import HfArgumentParser
    from transformers.hf_argparser import string_to_bool

    known = swiftargs.known_arguments(str(Path(sys.executable).parent / "swift"))
    assert known is not None
    compared, unchecked = 0, set()
    for command in ("PretrainArguments", "SftArguments", "RLHFArguments", "ExportArguments", "DeployArguments",
                    "InferArguments"):
        with _patch_get_type_hints():
            parser = HfArgumentParser([getattr(arguments, command)])
        for action in parser._actions:
            name = action.dest
            if action.option_strings[0] != f"--{name}":
                continue  # --help and the --no_X complements of booleans
            declared = known.types.get(name, ArgType(frozenset({"missing"})))
            assert "missing" not in declared.kinds, (command, name)  # the name check would refuse it
            if "any" in declared.kinds:
                unchecked.add(name)
            elif action.choices is not None:
                assert declared.choices is not None, (command, name)
                assert {str(c) for c in action.choices} <= set(declared.choices), (command, name)
            elif action.type in (int, float) and declared.choices is None:
                assert action.type.__name__ in declared.kinds | declared.items, (command, name)  # nargs='+' too
            elif action.type is string_to_bool:
                assert "bool" in declared.kinds, (command, name)
            compared += 1
    assert compared > 1000
    # Choices computed at import (log levels) and classes of their own: left to swift, never refused wrongly.
    assert unchecked == {"log_level", "log_level_replica", "generation_config", "parallelism_config"}
