"""The stage kinds. Adding a kind is one module with a `KIND` plus one line here."""

from __future__ import annotations

import importlib
from functools import cache

from swiftpipe.engine.kind import Kind

# kind name -> module defining KIND; imported on first use so `swiftpipe --help` stays fast.
REGISTRY = {
    "data": "swiftpipe.kinds.data",
    "pt": "swiftpipe.kinds.pt",
    "sft": "swiftpipe.kinds.sft",
    "rlhf": "swiftpipe.kinds.rlhf",
    "export": "swiftpipe.kinds.export",
    "deploy": "swiftpipe.kinds.deploy",
    "eval": "swiftpipe.kinds.eval",
    "infer": "swiftpipe.kinds.infer",
    "select": "swiftpipe.kinds.select",
    "base-eval": "swiftpipe.kinds.base_eval",
}


@cache
def get_kind(name: str) -> Kind:
    kind: Kind = importlib.import_module(REGISTRY[name]).KIND
    return kind


def user_kinds() -> list[str]:
    """The kinds a pipeline may name in `kind:`."""
    return [name for name in REGISTRY if not get_kind(name).internal]


class _Registry:
    """The registry as the engine sees it (swiftpipe.engine.kind.Kinds)."""

    def get(self, name: str) -> Kind:
        return get_kind(name)

    def user_kinds(self) -> list[str]:
        return user_kinds()

    def merger(self) -> str:
        return "export"

    def section(self) -> str:
        return "data"


KINDS = _Registry()
