"""The evalscope settings every evaluating kind shares (eval, base-eval)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from swiftpipe.config.bounds import Entry, Range
from swiftpipe.config.schema import ArgValue, doc

# generation_config keys whose type and range are checked (evalscope's GenerateConfig); others pass as given.
GENERATION_CHECKS = {
    "temperature": Entry(float, Range(at_least=0)),
    "max_tokens": Entry(int, Range(at_least=1)),
    "timeout": Entry(float, Range(above=0)),
    "top_p": Entry(float, Range(at_least=0, at_most=1)),
    "retries": Entry(int, Range(at_least=0)),
    "retry_interval": Entry(int, Range(at_least=0)),
}


@dataclass(frozen=True)
class EvalSettings:
    datasets: dict[str, dict[str, Any]] = field(
        metadata=doc("evalscope dataset name -> dataset args (local_path, subset_list, ...)", nonempty=True)
    )
    limit: int | None = field(default=None, metadata=doc("samples per subset", at_least=1))
    batch_size: int = field(default=4, metadata=doc("concurrent requests", at_least=1))
    generation_config: dict[str, Any] = field(
        default_factory=lambda: {"temperature": 0.0, "max_tokens": 256},
        metadata=doc("sampling settings; temperature is always set explicitly", entries=GENERATION_CHECKS),
    )
    ignore_errors: bool = field(default=False, metadata=doc("pass even when requests failed"))
    args: dict[str, ArgValue] = field(default_factory=dict, metadata=doc("evalscope eval arguments"))
    env: dict[str, str] = field(default_factory=dict, metadata=doc("environment for this stage"))
    venv: str | None = field(default=None, metadata=doc("run evalscope from this virtualenv"))


def settings_of(cfg: Any) -> EvalSettings:
    """Just the evalscope settings of a config that has them (and more)."""
    return EvalSettings(**{f.name: getattr(cfg, f.name) for f in fields(EvalSettings)})
