"""The executors. Adding one is a package with an `EXECUTOR` plus one line here.

Only this registry and the executors' own packages name a particular executor; everything
else goes through swiftpipe.engine.executor.
"""

from __future__ import annotations

import importlib
from functools import cache

from swiftpipe.engine.executor import ExecutorKind

# executor.type -> the module defining EXECUTOR; imported on first use.
REGISTRY = {
    "local": "swiftpipe.executors.local",
    "slurm": "swiftpipe.executors.slurm",
    "ray": "swiftpipe.executors.ray",
}
DEFAULT = "local"


@cache
def get_executor(name: str) -> ExecutorKind:
    executor: ExecutorKind = importlib.import_module(REGISTRY[name]).EXECUTOR
    return executor


class _Registry:
    """The registry as a pipeline's loader sees it (swiftpipe.engine.executor.Executors)."""

    def get(self, name: str) -> ExecutorKind:
        return get_executor(name)

    def names(self) -> list[str]:
        return list(REGISTRY)


EXECUTORS = _Registry()
