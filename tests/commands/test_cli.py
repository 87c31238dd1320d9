"""The CLI as a user meets it: a subprocess, exit codes, what reaches the terminal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HEAVY = ("torch", "transformers", "swift", "evalscope", "numpy", "matplotlib")


def swiftpipe(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "swiftpipe", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=60)


def test_help_imports_nothing_heavy() -> None:
    code = ("import sys; from swiftpipe.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_broken_pipeline_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "pipeline.yaml").write_text("name: x\nmodel: m\nstages:\n  sft:\n    dataset: [a]\n    lr: 1\n")
    result = swiftpipe("run", "pipeline.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "swiftpipe: error: pipeline.yaml:6 › stages.sft.lr: unknown key; valid keys are "
        "args, env, venv, dataset, val_dataset, resume, launch\n"
    )
    assert not (tmp_path / "runs").exists()


def test_status_before_any_run(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("name: x\nmodel: m\n")
    result = swiftpipe("status", "p.yaml", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, f"nothing has run in {tmp_path / 'runs' / 'x'} yet\n")


def test_checkpoints_of_a_missing_directory(tmp_path: Path) -> None:
    result = swiftpipe("checkpoints", str(tmp_path / "nope"))
    assert (result.returncode, result.stderr) == (2, f"swiftpipe: error: {tmp_path / 'nope'}: no such directory\n")


def test_unknown_stage_name_is_one_line_naming_the_stages(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("name: t\nmodel: m\ndata: {sources: [{path: d.jsonl}]}\n")
    result = swiftpipe("run", "p.yaml", "--only", "train", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "swiftpipe: error: --only train: not a stage of this pipeline (stages: data)\n"
