"""A loaded pipeline: its validated config, its stage graph, the executor's settings, its source."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swiftpipe.config.schema import Pipeline
from swiftpipe.engine.graph import Graph


@dataclass(frozen=True)
class LoadedPipeline:
    """A validated pipeline, its stage graph, its executor's settings, and where it came from."""

    config: Pipeline
    graph: Graph
    executor: Any  # the executor's own settings (`executor:` less `type`), typed by that executor
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
