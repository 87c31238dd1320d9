"""The evalscope settings every evaluating kind shares (eval, base-eval)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from swiftpipe.config.schema import ArgValue, doc


@dataclass(frozen=True)
class EvalSettings:
    datasets: dict[str, dict[str, Any]] = field(
        metadata=doc("evalscope dataset name -> dataset args (local_path, subset_list, ...)")
    )
    limit: int | None = field(default=None, metadata=doc("samples per subset"))
    batch_size: int = field(default=4, metadata=doc("concurrent requests"))
    generation_config: dict[str, Any] = field(
        default_factory=lambda: {"temperature": 0.0, "max_tokens": 256},
        metadata=doc("sampling settings; temperature is always set explicitly"),
    )
    ignore_errors: bool = field(default=False, metadata=doc("pass even when requests failed"))
    args: dict[str, ArgValue] = field(default_factory=dict, metadata=doc("evalscope eval arguments"))
    env: dict[str, str] = field(default_factory=dict, metadata=doc("environment for this stage"))
    venv: str | None = field(default=None, metadata=doc("run evalscope from this virtualenv"))


def settings_of(cfg: Any) -> EvalSettings:
    """Just the evalscope settings of a config that has them (and more)."""
    return EvalSettings(**{f.name: getattr(cfg, f.name) for f in fields(EvalSettings)})
