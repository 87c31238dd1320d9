"""`swiftpipe checkpoints DIR`: a run folder, a stage's output folder, or a whole workdir."""

from __future__ import annotations

from pathlib import Path

import pytest

from swiftpipe.commands.checkpoints import checkpoints
from tests.msswift.test_checkpoints import make_ckpt


def test_a_workdir_lists_the_runs_of_every_training_stage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sft, dpo = tmp_path / "sft" / "v0-20261205-1", tmp_path / "dpo" / "v0-20261205-2"
    make_ckpt(sft, 10)
    make_ckpt(dpo, 4)
    (tmp_path / "logs").mkdir()  # a folder without runs is passed over
    assert checkpoints(tmp_path) == 0
    out = capsys.readouterr().out
    assert [line for line in out.splitlines() if not line.startswith(" ")] == [str(dpo), str(sft)]
    assert "checkpoint-4" in out and "checkpoint-10" in out
