"""The kinds registry, and `swiftpipe plan` over one pipeline using every kind that runs swift."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from swiftpipe.commands.plan import plan
from swiftpipe.engine.select import Selection
from swiftpipe.kinds import KINDS, REGISTRY, get_kind, user_kinds
from tests.kinds.conftest import SWIFT

WritePipeline = Callable[..., Path]


def test_every_kind_is_registered_under_its_own_name() -> None:
    assert {name: get_kind(name).name for name in REGISTRY} == {name: name for name in REGISTRY}
    assert KINDS.get("sft") is get_kind("sft")


def test_users_name_every_kind_but_the_one_swiftpipe_adds() -> None:
    assert user_kinds() == ["data", "pt", "sft", "rlhf", "export", "deploy", "eval", "infer", "select"]
    assert KINDS.user_kinds() == user_kinds() and get_kind("base-eval").internal
    assert (KINDS.merger(), KINDS.section()) == ("export", "data")


@pytest.mark.parametrize(("kind", "trains", "serves", "swift_args"), [
    ("pt", True, False, True), ("sft", True, False, True), ("rlhf", True, False, True),
    ("export", False, False, True), ("infer", False, False, True), ("deploy", False, True, True),
    ("eval", False, False, False), ("base-eval", False, False, False), ("data", False, False, False),
    ("select", False, False, False),
])
def test_what_each_kind_declares_about_itself(kind: str, trains: bool, serves: bool, swift_args: bool) -> None:
    declared = get_kind(kind)
    assert (declared.trains, declared.serves, declared.swift_args) == (trains, serves, swift_args)


def test_swiftpipe_plan_shows_each_command_and_what_waits_for_what(
    write_pipeline: WritePipeline, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_pipeline("""
        name: demo
        model: model
        stages:
          raw: {kind: pt, dataset: [t.jsonl]}
          sft: {from: raw, dataset: [t.jsonl]}
          merged: {kind: export, from: sft}
          answers: {kind: infer, from: merged, dataset: [t.jsonl], max_new_tokens: 8}
        """)
    (tmp_path / "model").mkdir()
    (tmp_path / "t.jsonl").write_text("{}\n")
    assert plan(path, overrides=[], selection=Selection()) == 0
    out = capsys.readouterr().out
    work = tmp_path / "runs" / "demo"
    assert "raw: run (never ran)\n  world size 1\n" in out
    assert f"  $ {SWIFT} pt --model {tmp_path / 'model'} --dataset {tmp_path / 't.jsonl'} " \
           f"--output_dir {work / 'raw'} --check_model false\n" in out
    # sft reads raw's LoRA through the export node swiftpipe adds to merge it
    assert "  raw-merged (export) <- raw  [added: merges raw's LoRA checkpoint into a model for sft]\n" in out
    assert "raw-merged: run (runs after raw)\n" in out and "merged: run (runs after sft)\n" in out
    assert f"  $ {SWIFT} export --adapters '<raw.run_dir>/checkpoint-<last>' --merge_lora true " \
           "--output_dir '<raw.run_dir>/checkpoint-<last>-merged.partial'\n" in out
    assert f"  $ {SWIFT} sft --model '<raw-merged.model_dir>' --dataset {tmp_path / 't.jsonl'} " \
           f"--output_dir {work / 'sft'} --check_model false\n" in out
    assert "answers: run (runs after merged)\n" in out
    assert f"  $ {SWIFT} infer --model '<merged.model_dir>' --val_dataset {tmp_path / 't.jsonl'} " \
           f"--result_path {work / 'answers' / 'results.jsonl'} --infer_backend transformers --max_new_tokens 8 " \
           "--temperature 0.0\n" in out
    assert not work.exists()  # plan writes nothing
