"""What every kind that runs ms-swift shares: its `args`, `env` and `venv` keys, secrets routed
out of argv, the stage's `swift` checked against every name under `args:`, and running it with
its exit code checked. Training, export, infer and deploy are built on it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from swiftpipe.config.schema import ArgValue, doc
from swiftpipe.core import process
from swiftpipe.core.errors import StageFailed
from swiftpipe.engine.stage import StageContext, StagePlan
from swiftpipe.kinds.common import swift_program
from swiftpipe.msswift import secrets


@dataclass(frozen=True)
class SwiftConfig:
    """The keys of every kind that runs swift (a kind's config extends it)."""

    args: dict[str, ArgValue] = field(
        default_factory=dict, metadata=doc("ms-swift arguments of this command, passed as --name value"))
    env: dict[str, str] = field(default_factory=dict, metadata=doc("environment for this stage"))
    venv: str | None = field(default=None, metadata=doc("run swift from this virtualenv"))


@dataclass(frozen=True)
class SwiftCall:
    """What a plan builds its swift command from."""

    swift: str  # the stage's swift, which accepts every name under args:
    args: dict[str, ArgValue]  # args: with any secret routed into the environment instead
    env: dict[str, str | None]  # the child's environment overlay


def prepare(ctx: StageContext[Any], cfg: SwiftConfig, extra_env: Mapping[str, str] | None = None) -> SwiftCall:
    """The stage's environment (a routed secret never reaches swift's argv) and its checked swift."""
    args, secret_env = secrets.route(cfg.args)
    env = ctx.env({**(extra_env or {}), **cfg.env, **secret_env}, cfg.venv)
    return SwiftCall(swift_program(ctx, env, cfg.args), args, env)


def run_swift(ctx: StageContext[Any], plan: StagePlan[Any], command: str,
              on_line: Callable[[str], None] | None = None) -> None:
    """Run the plan's swift through the stage's launcher; StageFailed when it exits non-zero."""
    rc = ctx.launcher.run(plan.argv, process.child_env(plan.env), ctx.log_path(), echo=ctx.options.echo,
                          on_line=on_line)
    if rc != 0:
        raise StageFailed(f"swift {command} exited with code {rc}", rc)
