"""The pipeline.yaml schema: every key swiftpipe reads is declared here, once.

Each field's `doc` metadata feeds the README reference and `swiftpipe plan`.
`args` mappings are passed to swift/evalscope verbatim as `--name value`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Scalar = str | int | float | bool | None
# A value under `args`: scalars, lists (several values) and mappings (sent as JSON).
ArgValue = Any

DataFormat = Literal["auto", "sharegpt", "alpaca", "messages", "dolly", "query-response"]
Backend = Literal["auto", "lmdeploy", "transformers", "vllm"]


def doc(text: str) -> dict[str, str]:
    return {"doc": text}


@dataclass(frozen=True)
class DataSource:
    path: str = field(metadata=doc("dataset file (.jsonl, .json, optionally .gz), relative to pipeline.yaml"))
    format: DataFormat = field(default="auto", metadata=doc("input format; auto-detected per file"))
    limit: int | None = field(default=None, metadata=doc("use only the first N rows"))


@dataclass(frozen=True)
class DataConfig:
    sources: list[DataSource] = field(metadata=doc("input files to convert"))
    val_ratio: float = field(default=0.0, metadata=doc("share of rows for the validation split"))
    seed: int = field(default=42, metadata=doc("seed of the deterministic split"))
    dedupe: bool = field(default=True, metadata=doc("reject exact duplicate conversations"))
    system: str | None = field(default=None, metadata=doc("system prompt for rows without one"))
    max_reject_ratio: float = field(default=0.05, metadata=doc("fail when more rows are rejected"))
    max_length: int | None = field(
        default=None, metadata=doc("token limit; defaults to stages.sft.args.max_length")
    )


@dataclass(frozen=True)
class SftConfig:
    args: dict[str, ArgValue] = field(default_factory=dict, metadata=doc("ms-swift sft arguments"))
    dataset: list[str] = field(default_factory=list, metadata=doc("extra training files"))
    val_dataset: list[str] = field(default_factory=list, metadata=doc("extra validation files"))
    resume: bool = field(
        default=True, metadata=doc("continue an interrupted run from its newest complete checkpoint")
    )
    env: dict[str, str] = field(default_factory=dict, metadata=doc("environment for this stage"))
    venv: str | None = field(default=None, metadata=doc("run swift from this virtualenv"))


@dataclass(frozen=True)
class ExportConfig:
    checkpoint: str = field(default="last", metadata=doc("last, best, or a checkpoint path"))
    args: dict[str, ArgValue] = field(default_factory=dict, metadata=doc("ms-swift export arguments"))
    env: dict[str, str] = field(default_factory=dict, metadata=doc("environment for this stage"))
    venv: str | None = field(default=None, metadata=doc("run swift from this virtualenv"))


@dataclass(frozen=True)
class DeployConfig:
    backend: Backend = field(default="auto", metadata=doc("inference backend of swift deploy"))
    host: str = field(default="127.0.0.1", metadata=doc("address the server listens on"))
    port: int = field(default=8000, metadata=doc("port; a busy port is an error, never moved"))
    served_model_name: str | None = field(default=None, metadata=doc("defaults to the pipeline name"))
    api_key_env: str | None = field(
        default=None, metadata=doc("environment variable holding the server's API key")
    )
    ready_timeout: float = field(default=600.0, metadata=doc("seconds to wait for the server"))
    args: dict[str, ArgValue] = field(default_factory=dict, metadata=doc("ms-swift deploy arguments"))
    env: dict[str, str] = field(default_factory=dict, metadata=doc("environment for this stage"))
    venv: str | None = field(default=None, metadata=doc("run swift from this virtualenv"))


@dataclass(frozen=True)
class EvalConfig:
    datasets: dict[str, dict[str, Any]] = field(
        metadata=doc("evalscope dataset name -> dataset args (local_path, subset_list, ...)")
    )
    limit: int | None = field(default=None, metadata=doc("samples per subset"))
    batch_size: int = field(default=4, metadata=doc("concurrent requests"))
    generation_config: dict[str, Any] = field(
        default_factory=lambda: {"temperature": 0.0, "max_tokens": 256},
        metadata=doc("sampling settings; temperature is always set explicitly"),
    )
    compare_base: bool = field(default=False, metadata=doc("also evaluate the base model"))
    ignore_errors: bool = field(default=False, metadata=doc("pass even when requests failed"))
    args: dict[str, ArgValue] = field(default_factory=dict, metadata=doc("evalscope eval arguments"))
    env: dict[str, str] = field(default_factory=dict, metadata=doc("environment for this stage"))
    venv: str | None = field(default=None, metadata=doc("run evalscope from this virtualenv"))


@dataclass(frozen=True)
class StagesConfig:
    sft: SftConfig | None = field(default=None, metadata=doc("swift sft"))
    export: ExportConfig | None = field(default=None, metadata=doc("swift export --merge_lora"))
    deploy: DeployConfig | None = field(default=None, metadata=doc("swift deploy"))
    eval: EvalConfig | None = field(default=None, metadata=doc("evalscope eval"))


@dataclass(frozen=True)
class TrackingConfig:
    backend: Literal["none", "swanlab"] = field(default="none", metadata=doc("experiment tracker"))
    project: str = field(default="swiftpipe", metadata=doc("tracker project"))
    experiment: str | None = field(default=None, metadata=doc("defaults to the pipeline name"))
    mode: Literal["local", "cloud"] = field(
        default="local", metadata=doc("swanlab mode; the token comes only from SWANLAB_API_KEY")
    )


@dataclass(frozen=True)
class Pipeline:
    name: str = field(metadata=doc("pipeline name; used for the workdir and served model name"))
    model: str = field(metadata=doc("base model: a local directory (or a hub id when offline: false)"))
    model_type: str | None = field(default=None, metadata=doc("ms-swift --model_type"))
    template: str | None = field(default=None, metadata=doc("ms-swift --template"))
    workdir: str | None = field(default=None, metadata=doc("defaults to runs/<name>"))
    offline: bool = field(default=True, metadata=doc("forbid hub downloads in every stage"))
    env: dict[str, str] = field(default_factory=dict, metadata=doc("environment for every stage"))
    data: DataConfig | None = field(default=None, metadata=doc("the data stage"))
    stages: StagesConfig = field(default_factory=StagesConfig, metadata=doc("the stages to run"))
    tracking: TrackingConfig = field(default_factory=TrackingConfig, metadata=doc("tracking"))


@dataclass(frozen=True)
class LoadedPipeline:
    """A validated pipeline plus where it came from (not YAML keys)."""

    config: Pipeline
    source: Path  # the pipeline file, absolute
    display_name: str  # the file as the user named it, for messages
    overrides: tuple[str, ...] = ()

    @property
    def base_dir(self) -> Path:
        return self.source.parent

    def path(self, value: str) -> Path:
        """Resolve a path from the config relative to the pipeline file."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else (self.base_dir / p).resolve()

    @property
    def workdir(self) -> Path:
        return self.path(self.config.workdir or f"runs/{self.config.name}")
