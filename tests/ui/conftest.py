"""A hand-written workdir for the UI's unit tests: a manifest of every kind of stage, experiments."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from swiftpipe.engine.manifest import save_manifest
from swiftpipe.engine.pipeline import LoadedPipeline
from swiftpipe.ui.app import make_app
from tests.report.helpers import experiment, logging_jsonl, pipeline, two_variants

COMMAND = "swiftpipe run pipeline.yaml"


@pytest.fixture
def demo(tmp_path: Path) -> LoadedPipeline:
    """The report tests' two-variant manifest saved in a workdir, a log for sft_a, two experiments."""
    loaded = pipeline(tmp_path)
    manifest = two_variants(tmp_path, loaded.workdir)
    (loaded.workdir / "logs").mkdir(parents=True)
    log = loaded.workdir / "logs" / "sft_a.log"
    log.write_text("step 1\nstep 2 <script>alert(1)</script>\n")
    manifest.stages["sft_a"].log = str(log)
    save_manifest(manifest, loaded.workdir)
    logging_jsonl(tmp_path / "run_c")
    experiment(loaded.workdir, "exp-20261205-100000-aa01", 1e-4, 0.5, tmp_path / "run_a", "low")
    experiment(loaded.workdir, "exp-20261205-100000-aa02", 2e-4, 0.75, tmp_path / "run_c", "high")
    return loaded


@pytest.fixture
def client(demo: LoadedPipeline) -> Callable[..., TestClient]:
    def make(token: str | None = None, loaded: LoadedPipeline = demo) -> TestClient:
        return TestClient(make_app(loaded, token=token, command=COMMAND))

    return make

