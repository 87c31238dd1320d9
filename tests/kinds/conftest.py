"""Shared by the kind tests: a launcher double that runs nothing and returns the exit code it is given."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import Popen
from typing import BinaryIO


@dataclass
class Call:
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    echo: bool


@dataclass
class FakeLauncher:
    """A Launcher (engine/launch.py) standing in for swift: it records each command, feeds `lines` to
    the stage's line handler, lets `act` write the files swift would (given the argv), and returns `rc`."""

    rc: int = 0
    lines: Sequence[str] = ()
    act: Callable[[list[str]], None] | None = None
    calls: list[Call] = field(default_factory=list)

    def run(self, argv: Sequence[str], env: dict[str, str], log_path: Path, *, echo: bool = True,
            on_line: Callable[[str], None] | None = None) -> int:
        args = [str(a) for a in argv]
        self.calls.append(Call(args, dict(env), log_path, echo))
        for line in self.lines:
            if on_line is not None:
                on_line(line)
        if self.act is not None:
            self.act(args)
        return self.rc

    def start(self, argv: Sequence[str], env: dict[str, str], log: BinaryIO) -> Popen[bytes]:
        raise AssertionError("these tests start no server")


def flag(argv: Sequence[object], name: str) -> str:
    """The value after `name` in an argv."""
    items = [str(a) for a in argv]
    return items[items.index(name) + 1]


# The swift a stage without a venv runs: the one installed beside swiftpipe (stage.py puts it first on PATH).
SWIFT = str(Path(sys.executable).parent / "swift")


def checkpoint(run_dir: Path, step: int, *, complete: bool = True) -> Path:
    """A `checkpoint-<step>` folder as swift writes it; without trainer_state.json when not complete."""
    ckpt = run_dir / f"checkpoint-{step}"
    ckpt.mkdir(parents=True)
    (ckpt / "adapter_model.safetensors").write_bytes(b"weights" * step)
    (ckpt / "adapter_config.json").write_text("{}")
    if complete:
        (ckpt / "trainer_state.json").write_text(json.dumps({"global_step": step, "log_history": []}))
    return ckpt
