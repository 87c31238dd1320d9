"""The launch seam: every stage hands its command to a Launcher instead of spawning it.

`LocalLauncher` runs the command here, in its own process group, teeing its output into
the stage log (swiftpipe.core.process). Other launchers (torchrun across nodes, a SLURM job)
implement the same method.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol


class Launcher(Protocol):
    def run(
        self,
        argv: Sequence[str],
        env: dict[str, str],
        log_path: Path,
        *,
        echo: bool = True,
        on_line: Callable[[str], None] | None = None,
    ) -> int:
        """Run `argv` to completion with exactly `env`; return its exit code."""
        ...


class LocalLauncher:
    def run(
        self,
        argv: Sequence[str],
        env: dict[str, str],
        log_path: Path,
        *,
        echo: bool = True,
        on_line: Callable[[str], None] | None = None,
    ) -> int:
        from swiftpipe.core import process

        return process.run([str(a) for a in argv], env=env, log_path=log_path, echo=echo, on_line=on_line)
