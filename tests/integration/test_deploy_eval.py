"""The real chain on the tiny model: swift sft and export (run directly), then swiftpipe's
deploy stage (transformers backend) and eval stage (real evalscope, base vs fine-tuned), then
the report. Afterwards nothing of the run may be alive and the ports must be free."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from swiftpipe.commands.run import run
from swiftpipe.core import host, process
from swiftpipe.engine.manifest import Manifest, StageRecord, load_manifest, save_manifest
from swiftpipe.engine.select import Selection
from swiftpipe.engine.status import Status
from swiftpipe.evaluation.evalreport import read_report
from swiftpipe.kinds.common import weights_digest
from swiftpipe.serving import ports
from swiftpipe.serving.server import ServerInfo
from tests.integration.tiny import write_train

pytestmark = pytest.mark.integration

REPO = Path(__file__).parent.parent.parent
VENV = Path(sys.executable).parent.parent
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "MODELSCOPE_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}


def swift(*args: str, cwd: Path) -> None:
    done = subprocess.run([str(VENV / "bin" / "swift"), *args], cwd=cwd, env={**os.environ, **OFFLINE},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]


def train_and_merge(root: Path, model: Path) -> tuple[Path, Path]:
    write_train(root / "train.jsonl", 16)
    swift("sft", "--model", str(model), "--model_type", "qwen3", "--template", "qwen3",
          "--dataset", str(root / "train.jsonl"), "--tuner_type", "lora", "--max_steps", "2",
          "--per_device_train_batch_size", "2", "--logging_steps", "1", "--save_steps", "2",
          "--split_dataset_ratio", "0.2", "--eval_steps", "1", "--report_to", "none",
          "--torch_dtype", "float32", "--dataloader_num_workers", "0", "--check_model", "false",
          "--output_dir", str(root / "sft"), cwd=root)
    run_dir = next((root / "sft").glob("v*-*"))
    merged = root / "merged"
    swift("export", "--adapters", str(run_dir / "checkpoint-2"), "--merge_lora", "true",
          "--output_dir", str(merged), cwd=root)
    return run_dir, merged


def test_deploy_eval_compare_report_and_nothing_left(tmp_path: Path, tiny_model: Path) -> None:
    run_dir, merged = train_and_merge(tmp_path, tiny_model)
    data = REPO / "datasets" / "eval"
    (tmp_path / "pipeline.yaml").write_text(f"""
name: it
model: {tiny_model}
model_type: qwen3
template: qwen3
stages:
  export:
    checkpoint: {run_dir / "checkpoint-2"}
  deploy:
    backend: transformers
    port: {host.free_port()}
    served_model_name: tiny
    ready_timeout: 120
    venv: {VENV}
  eval:
    venv: {VENV}
    datasets:
      general_mcq: {{local_path: {data / "mcq"}, subset_list: [demo]}}
      general_qa: {{local_path: {data / "qa"}, subset_list: [demo]}}
    limit: 5
    batch_size: 2
    generation_config: {{temperature: 0, max_tokens: 16, timeout: 60, retries: 1}}
    compare_base: true
""")
    workdir = tmp_path / "runs" / "it"
    manifest = Manifest(str(tmp_path / "pipeline.yaml"), str(workdir))
    manifest.stages["sft"] = StageRecord(status=Status.SUCCEEDED, outputs={"run_dir": str(run_dir)})
    manifest.stages["export"] = StageRecord(status=Status.SUCCEEDED, fingerprint="given",
                                            outputs={"model_dir": str(merged),
                                                     "model_digest": weights_digest(merged)})
    save_manifest(manifest, workdir)

    assert run(tmp_path / "pipeline.yaml", overrides=[], selection=Selection(from_stage="deploy"),
               keep_serving=False) == 0

    result = load_manifest(workdir)
    assert result is not None
    for log in (workdir / "logs").glob("*.log"):  # both servers stopped without a traceback
        assert "Traceback" not in log.read_text(errors="replace"), log
    deploy, evals, base = result.stages["deploy"], result.stages["eval"], result.stages["eval-base"]
    assert deploy.status == "succeeded" and evals.status == "succeeded" and base.status == "succeeded"
    sides = ((evals, workdir / "eval" / "finetuned", "tiny"), (base, workdir / "eval-base", "it-base"))
    for record, folder, model in sides:
        for dataset in ("general_mcq", "general_qa"):
            report = read_report(folder / "reports" / model / f"{dataset}.json")
            assert record.outputs["primary"][dataset] == {"metric": report.primary, "score": report.primary_score}
            assert report.requested == 5 and report.errored == 0
    compare = json.loads((workdir / "eval" / "compare.json").read_text())
    assert {r["dataset"] for r in compare["rows"]} == {"general_mcq", "general_qa"}
    servers = [ServerInfo.from_outputs(deploy.outputs), ServerInfo.from_outputs(base.outputs["server"])]
    for info in servers:
        assert info is not None and not info.running
        assert process.group_members(info.pgid) == []
        assert not ports.listening("127.0.0.1", info.port)
    page = (workdir / "report" / "index.html").read_text()
    assert "Evaluation" in page and "data:image/png;base64," in page
    assert (workdir / "report" / "loss.png").is_file() and (workdir / "report" / "report.md").is_file()
