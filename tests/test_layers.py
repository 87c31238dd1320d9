"""The layers contract (pyproject.toml [tool.importlinter]) holds, and it catches what it is for."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).parent / "lint-imports"


def lint(root: Path, config: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports over the swiftpipe package found under `root`."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT), "--no-cache", "--config", str(config)], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)


def copy(tmp_path: Path) -> tuple[Path, Path]:
    shutil.copytree(REPO / "swiftpipe", tmp_path / "swiftpipe", ignore=shutil.ignore_patterns("__pycache__"))
    config = tmp_path / "pyproject.toml"
    shutil.copy(REPO / "pyproject.toml", config)
    return tmp_path, config


def test_the_package_keeps_its_layers_and_has_no_cycle() -> None:
    done = lint(REPO, REPO / "pyproject.toml")
    assert done.returncode == 0, done.stdout[-3000:]
    assert "Contracts: 2 kept, 0 broken." in done.stdout


def test_an_upward_import_breaks_the_contract(tmp_path: Path) -> None:
    root, config = copy(tmp_path)
    graph = root / "swiftpipe" / "engine" / "graph.py"
    graph.write_text(graph.read_text() + "\nfrom swiftpipe.kinds import KINDS  # the engine reaching up\n")
    done = lint(root, config)
    assert done.returncode == 1
    assert "one-way layers BROKEN" in done.stdout
    assert "swiftpipe.engine.graph -> swiftpipe.kinds" in done.stdout


def test_a_package_left_out_of_the_layers_breaks_the_contract(tmp_path: Path) -> None:
    root, config = copy(tmp_path)
    config.write_text(config.read_text().replace('    "kinds",\n', "", 1))
    done = lint(root, config)
    assert done.returncode == 1
    assert "- swiftpipe.kinds" in done.stdout and "not listed as layers" in done.stdout
