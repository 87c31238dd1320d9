"""The examples/ pipelines, run for real on the tiny model (swift, evalscope, CPU).

Each runs in a workdir of its own (`--set workdir=...`) and with free ports. What a user of
each example relies on is checked: a branch re-runs alone, the base is evaluated once, pt
feeds sft through a visible merge, infer answers every row, and an endpoint started by hand
is evaluated without any deploy.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from swiftpipe.core import host
from swiftpipe.engine.manifest import Manifest, load_manifest
from swiftpipe.serving.server import http_status

pytestmark = pytest.mark.integration

REPO = Path(__file__).parent.parent.parent
EXAMPLES = REPO / "examples"
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "MODELSCOPE_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}


def swiftpipe(example: str, workdir: Path, model: Path, *args: str,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "swiftpipe", "run", str(EXAMPLES / example), "--set", f"workdir={workdir}", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=1200,
                          env={**os.environ, "SWIFTPIPE_MODEL": str(model), **(env or {})})
    assert done.returncode == 0, done.stderr[-4000:]
    return done


def manifest(workdir: Path) -> Manifest:
    found = load_manifest(workdir)
    assert found is not None
    return found


def test_two_variants_rerun_one_branch_and_share_the_base(tmp_path: Path, tiny_model: Path) -> None:
    work = tmp_path / "run"
    port_args = ["--set", f"stages.deploy_a.port={host.free_port()}",
                 "--set", f"stages.deploy_b.port={host.free_port()}"]
    swiftpipe("two-variants.yaml", work, tiny_model, *port_args)
    first = manifest(work)
    assert {n: str(r.status) for n, r in first.stages.items()} == {
        n: "succeeded" for n in ("data", "sft_a", "export_a", "deploy_a", "eval_a-base", "eval_a",
                                 "sft_b", "export_b", "deploy_b", "eval_b")}
    assert first.stages["eval_b"].upstream == {"server": "deploy_b", "base": "eval_a-base"}

    again = swiftpipe("two-variants.yaml", work, tiny_model, *port_args,
                      "--set", "stages.sft_b.args.learning_rate=5e-3").stderr
    for name in ("data", "sft_a", "export_a", "eval_a-base", "eval_a"):
        assert f"] {name}: skipped (up to date)" in again, name
    for name in ("sft_b", "export_b", "eval_b"):
        assert f"] {name}: running (" in again, name
    assert "deploy_a: running" not in again  # nothing that reads it had to run
    second = manifest(work)
    assert len(second.stages["eval_a-base"].attempts) == 1  # the base model was evaluated once
    assert len(second.stages["sft_b"].attempts) == 2 and len(second.stages["sft_a"].attempts) == 1
    report = (work / "report" / "report.md").read_text()
    assert "eval_a-base" in report and "sft_a" in report and "sft_b" in report


def test_pretrain_then_sft_starts_sft_from_the_merged_pt_model(tmp_path: Path, tiny_model: Path) -> None:
    work = tmp_path / "run"
    out = swiftpipe("pretrain-then-sft.yaml", work, tiny_model).stderr
    assert "pt-merged: running (never ran)" in out
    stages = manifest(work).stages
    assert [n for n, r in stages.items() if str(r.status) == "succeeded"] == [
        "corpus", "pt", "dolly", "pt-merged", "sft"]
    assert stages["pt"].argv[1] == "pt"
    sft = stages["sft"].argv
    assert sft[sft.index("--model") + 1] == stages["pt-merged"].outputs["model_dir"]
    assert sft[sft.index("--dataset") + 1] == stages["dolly"].outputs["train"]
    first_row = json.loads(Path(stages["corpus"].outputs["train"]).read_text().splitlines()[0])
    assert [m["role"] for m in first_row["messages"]] == ["assistant"]


def test_sft_then_infer_answers_every_validation_row(tmp_path: Path, tiny_model: Path) -> None:
    work = tmp_path / "run"
    swiftpipe("sft-then-infer.yaml", work, tiny_model)
    stages = manifest(work).stages
    val_rows = Path(stages["data"].outputs["val"]).read_text().splitlines()
    infer = stages["infer"].outputs
    answers = Path(infer["results"]).read_text().splitlines()
    assert infer["rows"] == len(answers) == len(val_rows) > 0
    assert len(infer["sample"]) == min(3, len(val_rows)) and all("response" in s for s in infer["sample"])
    assert "infer" in (work / "report" / "report.md").read_text()


def test_eval_endpoint_evaluates_a_server_started_by_hand(tmp_path: Path, tiny_model: Path) -> None:
    port = host.free_port()
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "swift"), "deploy", "--model", str(tiny_model), "--infer_backend",
         "transformers", "--model_type", "qwen3", "--template", "qwen3", "--host", "127.0.0.1", "--port", str(port),
         "--served_model_name", "tiny",
         "--verbose", "false"],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **OFFLINE}, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while http_status(f"http://127.0.0.1:{port}/health") != 200:
            assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "server.log").read_text()
            time.sleep(1)
        work = tmp_path / "run"
        swiftpipe("eval-endpoint.yaml", work, tiny_model, env={"SWIFTPIPE_API_URL": f"http://127.0.0.1:{port}/v1"})
        stages = manifest(work).stages
        assert list(stages) == ["mcq", "qa"]
        assert set(stages["mcq"].outputs["primary"]) == {"general_mcq"}
        assert set(stages["qa"].outputs["primary"]) == {"general_qa"}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        log.close()
