"""The dashboard in headless Chromium, on real runs of the tiny model: what a person sees.

One module-scoped run (started with the UI already open) is shared by the tests, in file order:
the first watches it go from running to succeeded without a reload, the others read its workdir
after it finished, and the comparison adds a second run at another learning rate. The screenshots
land in docs/screenshots/ for the README.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from swiftpipe.engine.manifest import save_manifest
from tests.conftest import REPO
from tests.integration.tiny import swiftpipe, write_sft_pipeline, write_train
from tests.report.helpers import pipeline, two_variants
from tests.ui.server import ui_server

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = REPO / "docs" / "screenshots"
STEPS = 6
ARGS = {"max_steps": STEPS, "save_steps": STEPS, "eval_steps": 3, "split_dataset_ratio": 0.2, "learning_rate": 1e-4}


def _missing(why: str) -> None:
    if os.environ.get("SWIFTPIPE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests: {why} (SWIFTPIPE_REQUIRE_BROWSER=1)")
    pytest.skip(f"browser tests: {why}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Playwright driving the system's Chromium (no browser download)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed")
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} is not installed")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


@dataclass
class Run:
    folder: Path
    pipeline: Path
    url: str
    proc: subprocess.Popen[str]

    def finished(self) -> None:
        """Wait for the run (started before the first test) and check it succeeded."""
        out, _ = self.proc.communicate(timeout=900)
        assert self.proc.returncode == 0, out


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path, browser: Any) -> Iterator[Run]:
    """The UI on an empty workdir, then `swiftpipe run` of a 6-step sft in the background."""
    folder = tmp_path_factory.mktemp("ui-run")
    write_train(folder / "train.jsonl")
    path = write_sft_pipeline(folder, tiny_model, ARGS)
    with ui_server(path) as url:
        proc = subprocess.Popen([sys.executable, "-m", "swiftpipe", "run", "pipeline.yaml", "--name", "lr 1e-4"],
                                cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
        try:
            yield Run(folder, path, url, proc)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            proc.communicate(timeout=120)


def _points(page: Any, fig: str) -> list[int]:
    """How many points each trace of a drawn figure has, as plotly.js holds them."""
    script = "id => { const d = document.getElementById(id); return d && d.data ? d.data.map(t => t.x.length) : []; }"
    return list(page.evaluate(script, f"fig-{fig}"))


def _state(page: Any, stage: str) -> str:
    return str(page.locator(f"#sec-stages tr:has(td b:text-is('{stage}')) .pill").inner_text(timeout=5000))


def _pause_after_a_step(run: Run, timeout: float = 300) -> list[Any]:
    """Stop every process of the run as soon as sft has logged a training step: however fast the
    machine, the page then has a curve that is not whole yet. Returns the processes, to resume."""
    import psutil  # type: ignore[import-untyped]

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and run.proc.poll() is None:
        if any('"loss"' in line for log in run.folder.rglob("logging.jsonl") for line in log.read_text().splitlines()):
            root = psutil.Process(run.proc.pid)
            procs = [root, *root.children(recursive=True)]
            for proc in procs:
                with contextlib.suppress(psutil.NoSuchProcess):
                    proc.send_signal(signal.SIGSTOP)
            return procs
        time.sleep(0.02)
    raise AssertionError("sft logged no training step")


def test_the_page_follows_a_run_without_reload(run: Run, browser: Any) -> None:
    import psutil

    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    page.goto(run.url)
    page.evaluate("() => { window.notReloaded = true; }")
    page.locator("#sec-stages .pill", has_text="running").wait_for(timeout=300_000)
    assert _state(page, "sft") == "running"
    paused = _pause_after_a_step(run)
    try:
        page.wait_for_function("() => { const d = document.getElementById('fig-loss-sft'); "
                               "return d && d.data && d.data[0].x.length > 0; }", timeout=60_000)
        page.wait_for_timeout(2500)  # a poll after the pause: the page has every step logged so far
        part = _points(page, "loss-sft")[0]
        assert _state(page, "sft") == "running"
    finally:
        for proc in paused:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.send_signal(signal.SIGCONT)
    assert 1 <= part < STEPS  # part of the curve, drawn while sft ran
    page.locator("#sec-stages .pill", has_text="succeeded").wait_for(timeout=120_000)
    page.wait_for_function(f"() => document.getElementById('fig-loss-sft').data[0].x.length === {STEPS}")
    assert page.evaluate("() => window.notReloaded") is True  # it grew to the whole curve without a reload
    run.finished()


def test_the_finished_run(run: Run, browser: Any) -> None:
    run.finished()
    page = browser.new_page(viewport={"width": 1280, "height": 1500})
    page.goto(run.url)
    page.wait_for_function(f"() => document.getElementById('fig-loss-sft')?.data?.[0]?.x.length === {STEPS}")
    assert _state(page, "sft") == "succeeded"
    assert _points(page, "loss-sft") == [STEPS, 2]  # train loss every step, eval loss at steps 3 and 6
    page.locator("#log", has_text="last_model_checkpoint").wait_for()
    assert page.locator("#sec-results td").first.inner_text() == "sft"
    page.screenshot(path=str(SHOTS / "run.png"), full_page=True)
    page.reload()  # a refresh loses nothing: everything comes from the workdir
    page.wait_for_function(f"() => document.getElementById('fig-loss-sft')?.data?.[0]?.x.length === {STEPS}")
    assert _state(page, "sft") == "succeeded"


def test_two_learning_rates_compared(run: Run, browser: Any) -> None:
    run.finished()
    second = swiftpipe("run", "pipeline.yaml", "--set", "stages.sft.args.learning_rate=2e-4", "--name", "lr 2e-4",
                       cwd=run.folder)
    assert second.returncode == 0, second.stderr
    page = browser.new_page(viewport={"width": 1280, "height": 1500})
    page.goto(run.url + "/experiments")
    assert page.locator("#exps tbody tr").count() == 2
    for box in page.locator("input.pick").all():
        box.check()
    page.click("#compare")
    page.locator("#compared").wait_for()
    params = page.locator("#compared table.params tr").all_inner_texts()
    assert params[1].split("\t") == ["stages.sft.args.learning_rate", "1e-4", "2e-4"]
    page.wait_for_function("() => document.getElementById('fig-loss-0')?.data?.length === 4")
    names = page.evaluate("() => document.getElementById('fig-loss-0').data.map(t => t.name)")
    assert names == ["lr 1e-4 train", "lr 1e-4 eval", "lr 2e-4 train", "lr 2e-4 eval"]
    losses = page.locator("#compared table.metrics tr:has-text('sft.train_loss') td.num").all_inner_texts()
    assert len(losses) == 2 and all(text.strip() != "-" for text in losses)
    page.screenshot(path=str(SHOTS / "experiments.png"), full_page=True)


def test_scores_base_against_fine_tuned(tmp_path: Path, browser: Any) -> None:
    """The eval tables and the score chart, on a hand-written workdir of two evaluated variants."""
    loaded = pipeline(tmp_path)
    save_manifest(two_variants(tmp_path, loaded.workdir), loaded.workdir)
    with ui_server(loaded.source) as url:
        page = browser.new_page(viewport={"width": 1280, "height": 1500})
        page.goto(url)
        page.wait_for_function("() => document.getElementById('fig-scores')?.data?.length === 3")
        table = page.locator("section:has(h2:text-is('Evaluation: eval_a (sft_a)')) table").first
        rows = [r.split("\t") for r in table.locator("tr").all_inner_texts()]
        assert rows[0] == ["DATASET", "METRIC", "BASE", "FINE-TUNED", "DELTA"]
        assert rows[1:] == [["arc", "accuracy", "–", "0.300", "–"],
                            ["general_mcq", "accuracy", "0.500", "0.750", "+0.250"],
                            ["general_qa", "rouge (recall, l)", "0.400", "0.400", "+0.000"]]
        page.screenshot(path=str(SHOTS / "scores.png"), full_page=True)
