"""Helpers of the kinds that run swift: the model a stage starts from and what identifies it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from swiftpipe.core.errors import UserError
from swiftpipe.engine.outputs import Pending
from swiftpipe.engine.pipeline import LoadedPipeline
from swiftpipe.kinds.common import (
    FINGERPRINT_TOOLS,
    base_model,
    model_args,
    model_inputs,
    model_source,
    program,
    stage_versions,
    weights_digest,
)
from swiftpipe.loading import load_pipeline
from tests.conftest import stage_context

WritePipeline = Callable[..., Path]


def model_folder(root: Path) -> Path:
    root.mkdir(parents=True)
    for name, text in (("config.json", "{}"), ("model.safetensors", "w"), ("tokenizer.json", "t"), ("args.json", "a"),
                       ("trainer_state.json", "s"), ("notes.md", "n"), (".hidden.json", "h")):
        (root / name).write_text(text)
    (root / "runs").mkdir()
    (root / "runs" / "events.json").write_text("e")
    return root


def test_the_weights_digest_covers_weights_and_configs_only(tmp_path: Path) -> None:
    model = model_folder(tmp_path / "m")
    digest = weights_digest(model)
    expected = hashlib.sha256()
    for name, text in (("config.json", "{}"), ("model.safetensors", "w"), ("tokenizer.json", "t")):
        expected.update(name.encode() + b"\0" + text.encode() + b"\0")
    assert digest == expected.hexdigest()
    for name in ("args.json", "trainer_state.json", "notes.md", ".hidden.json", "runs/events.json"):
        (model / name).write_text("changed")
    assert weights_digest(model) == digest  # paths, times and training state do not make another model


def test_the_weights_digest_follows_the_weights_and_their_names(tmp_path: Path) -> None:
    model = model_folder(tmp_path / "m")
    digest = weights_digest(model)
    (model / "model.safetensors").write_text("other")
    changed = weights_digest(model)
    assert changed != digest
    (model / "model.safetensors").rename(model / "model-0001.safetensors")
    assert weights_digest(model) not in (digest, changed)
    assert weights_digest(model_folder(tmp_path / "copy")) == digest  # the same files elsewhere: the same model


def load(write_pipeline: WritePipeline, head: str = "", *overrides: str) -> LoadedPipeline:
    path = write_pipeline(f"name: demo\nmodel: model\n{head}stages:\n  sft: {{dataset: [t.jsonl]}}\n"
                          "  merged: {kind: export}\n  again: {kind: sft, from: merged, dataset: [t.jsonl]}\n")
    (path.parent / "t.jsonl").write_text("{}\n")
    return load_pipeline(path, list(overrides))


def test_a_local_base_model_is_its_absolute_folder_identified_by_its_files(write_pipeline: WritePipeline,
                                                                           tmp_path: Path) -> None:
    model_folder(tmp_path / "model")
    ctx = stage_context(load(write_pipeline), "sft")
    assert base_model(ctx) == tmp_path / "model"
    inputs = model_inputs(ctx)
    assert inputs["path"] == str(tmp_path / "model") and set(inputs) == {"path", "files"}
    assert model_source(ctx) == (tmp_path / "model", inputs)


def test_online_a_hub_id_is_passed_on_and_identified_by_its_name(write_pipeline: WritePipeline) -> None:
    ctx = stage_context(load(write_pipeline, "offline: false\n", "model=Qwen/Qwen3-0.6B"), "sft")
    assert base_model(ctx) == "Qwen/Qwen3-0.6B" and model_inputs(ctx) == {"id": "Qwen/Qwen3-0.6B"}


def test_offline_a_missing_model_folder_is_one_line(write_pipeline: WritePipeline, tmp_path: Path) -> None:
    loaded = load(write_pipeline)
    with pytest.raises(UserError) as err:
        base_model(stage_context(loaded, "sft"))
    assert str(err.value) == (f"{loaded.display_name} › model: {tmp_path / 'model'}: no such directory (offline: "
                              "hub ids are not downloaded; build the demo model with 'make tiny-model')")


def test_an_upstream_model_is_identified_by_its_weights_not_its_path(write_pipeline: WritePipeline,
                                                                     tmp_path: Path) -> None:
    loaded = load(write_pipeline)
    pending_dir, pending_id = model_source(stage_context(loaded, "again"))
    assert (pending_dir, pending_id) == ("<merged.model_dir>", "<merged.model_digest>")
    assert isinstance(pending_dir, Pending) and isinstance(pending_id, Pending)
    merged = {"model_dir": "/m", "model_digest": "d1", "checkpoint": "/c"}
    assert model_source(stage_context(loaded, "again", {"merged": merged})) == ("/m", {"from": "merged",
                                                                                     "weights": "d1"})


def test_model_args_add_model_type_and_template_when_set(write_pipeline: WritePipeline) -> None:
    plain = stage_context(load(write_pipeline), "sft")
    assert model_args(plain, "/m") == ["--model", "/m"]
    both = stage_context(load(write_pipeline, "model_type: qwen3\ntemplate: chatml\n"), "sft")
    assert model_args(both, Path("/m")) == ["--model", "/m", "--model_type", "qwen3", "--template", "chatml"]


def test_program_is_looked_up_on_the_childs_path(write_pipeline: WritePipeline, tmp_path: Path) -> None:
    ctx = stage_context(load(write_pipeline), "sft")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "tool").write_text("#!/bin/sh\n")
    (tmp_path / "bin" / "tool").chmod(0o755)
    assert program(ctx, "tool", {"PATH": str(tmp_path / "bin")}) == str(tmp_path / "bin" / "tool")
    with pytest.raises(UserError) as err:
        program(ctx, "tool", {"PATH": str(tmp_path)})
    assert str(err.value) == ("stages.sft: program 'tool' not found on PATH; run 'make install' or set the stage's "
                              "'venv' to an environment that has it")


def test_stage_versions_name_the_tools_that_shape_a_model() -> None:
    assert list(stage_versions()) == list(FINGERPRINT_TOOLS) == ["ms-swift", "torch", "transformers", "peft"]
