"""A `swift deploy` server: its command line and its ServerSpec, for every kind that starts one.

The deploy kind serves a stage's model; the base-eval kind serves the base model for a
while. Neither imports the other: both build their server here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swiftpipe.core.argv import flags
from swiftpipe.core.errors import UserError
from swiftpipe.serving.server import ServerSpec


@dataclass(frozen=True)
class ServeSettings:
    """How to serve a model, apart from which model and where it listens."""

    backend: str = "auto"
    ready_timeout: float = 600.0
    args: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    venv: str | None = None

    @classmethod
    def of(cls, cfg: Any) -> ServeSettings:
        """The serving settings of a deploy stage's config."""
        return cls(cfg.backend, cfg.ready_timeout, dict(cfg.args), dict(cfg.env), cfg.venv)


def deploy_argv(
    swift: str, model: str, *, backend: str, host: str, port: int, name: str, args: Mapping[str, Any]
) -> list[str]:
    """The `swift deploy` command line; never holds the API key."""
    return [
        swift, "deploy", "--model", model, "--infer_backend", backend, "--host", host,
        "--port", str(port), "--served_model_name", name, "--verbose", "false", *flags(dict(args)),
    ]


def api_key(env_name: str | None, where: str) -> str | None:
    """A server's API key from the environment variable `env_name` (never from the file)."""
    if env_name is None:
        return None
    value = os.environ.get(env_name)
    if not value:
        raise UserError(
            f"{where}.api_key_env: environment variable {env_name} is not set; export it or remove api_key_env"
        )
    return value


def server_spec(
    argv: list[str], env: dict[str, str], *, host: str, port: int, name: str, log: Path, ready_timeout: float,
    key: str | None, where: str,
) -> ServerSpec:
    return ServerSpec(
        argv=[str(a) for a in argv], env=env, host=host, port=port, served_model_name=name, log_path=log,
        ready_timeout=ready_timeout, api_key=key, where=f"{where}.port",
    )
