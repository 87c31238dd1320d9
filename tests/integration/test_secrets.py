"""Secrets never land anywhere: the real `swift sft` and `swift export`, then every file is searched.

`hub_token` and `swanlab_token` are routed into the environment (HF_TOKEN, MODELSCOPE_API_TOKEN,
SWANLAB_API_KEY); `swanlab_secret` has no variable, so it stays on swift's command line and is
masked in the log and on the terminal, and scrubbed from the args.json files swift writes.
`use_hf: true` because with the ModelScope hub a token makes swift log in over the network.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.tiny import write_sft_pipeline, write_train

pytestmark = pytest.mark.integration

SECRETS = {"HUB": "hubTOKEN-5d0e8a31c2", "SWAN": "swanTOKEN-9b7f44e1aa", "HOOK": "hookSECRET-c3a19f0d27"}


def swiftpipe(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "swiftpipe", *args], capture_output=True, cwd=cwd,
                          env={**os.environ, **SECRETS}, timeout=900)


@pytest.fixture
def project(tmp_path: Path, tiny_model: Path) -> Path:
    write_train(tmp_path / "train.jsonl", 8)
    secrets = {"use_hf": True, "hub_token": "${HUB}", "swanlab_token": "${SWAN}", "swanlab_secret": "${HOOK}"}
    write_sft_pipeline(tmp_path, tiny_model, {"max_steps": 2, "save_steps": 2, **secrets},
                       more="  export:\n    args: {use_hf: true, hub_token: \"${HUB}\"}\n")
    return tmp_path


def files_holding(root: Path, secret: bytes) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and secret in p.read_bytes())


def test_no_secret_in_any_file_or_output_after_a_real_run(project: Path) -> None:
    done = swiftpipe("run", "pipeline.yaml", cwd=project)
    assert done.returncode == 0, done.stderr[-3000:].decode(errors="replace")
    shown = [swiftpipe(cmd, "pipeline.yaml", cwd=project) for cmd in ("plan", "status")]
    outputs = [done, *shown]
    for secret in map(str.encode, SECRETS.values()):
        assert files_holding(project, secret) == []
        assert not any(secret in o.stdout or secret in o.stderr for o in outputs)

    manifest = json.loads((project / "runs" / "it" / "manifest.json").read_text())
    run_dir = Path(manifest["stages"]["sft"]["outputs"]["run_dir"])
    args = json.loads((run_dir / "args.json").read_text())
    assert (args["hub_token"], args["swanlab_token"], args["swanlab_secret"]) == (None, None, "***")
    assert json.loads((run_dir / "checkpoint-2" / "args.json").read_text())["swanlab_secret"] == "***"
    assert manifest["stages"]["sft"]["env"]["SWANLAB_API_KEY"] == "***"
    assert b"--swanlab_secret ***" in done.stdout  # swift's own `run sh:` line, masked on the terminal
    log = (project / "runs" / "it" / "logs" / "sft.log").read_text()
    assert log.startswith("$ ") and "--swanlab_secret ***" in log.splitlines()[0]
