"""examples/sft-then-dpo.yaml for real: sft, the visible merge, then `swift rlhf --rlhf_type dpo`
on preference rows the data stage converted for rlhf (tiny model, CPU, a few steps)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.test_examples import manifest, swiftpipe

pytestmark = pytest.mark.integration


def test_sft_then_dpo_trains_on_converted_preference_pairs(tmp_path: Path, tiny_model: Path) -> None:
    work = tmp_path / "run"
    out = swiftpipe("sft-then-dpo.yaml", work, tiny_model).stderr
    assert "sft-merged: running (never ran)" in out
    stages = manifest(work).stages
    assert {n: str(r.status) for n, r in stages.items()} == {
        n: "succeeded" for n in ("chats", "sft", "pairs", "sft-merged", "dpo")}
    pairs = [json.loads(line) for line in Path(stages["pairs"].outputs["train"]).read_text().splitlines()]
    assert len(pairs) == 16 and all(set(r) == {"messages", "rejected_response"} for r in pairs)
    dpo = stages["dpo"].argv
    assert dpo[1] == "rlhf" and dpo[dpo.index("--rlhf_type") + 1] == "dpo"
    assert dpo[dpo.index("--model") + 1] == stages["sft-merged"].outputs["model_dir"]
    assert dpo[dpo.index("--dataset") + 1] == stages["pairs"].outputs["train"]
    assert Path(stages["dpo"].outputs["last_checkpoint"]).name == "checkpoint-4"
    logged = Path(stages["dpo"].outputs["logging"]).read_text()
    assert "rewards/chosen" in logged  # swift trained with its DPO trainer, on pairs
    # The report treats the rlhf stage as the training stage it is: a loss chart and a results row.
    report = (work / "report" / "report.md").read_text()
    assert "![loss-dpo](loss-dpo.png)" in report and (work / "report" / "loss-dpo.png").is_file()
    assert "| dpo | 4 | " in report
