from __future__ import annotations

import json
from pathlib import Path

import pytest

from swiftpipe.core.errors import UserError
from swiftpipe.msswift.checkpoints import inspect, last_complete, list_checkpoints, resolve, run_dirs


def make_ckpt(run: Path, step: int, *, state: str | None = "ok", weights: bool = True) -> Path:
    ckpt = run / f"checkpoint-{step}"
    ckpt.mkdir(parents=True)
    if weights:
        (ckpt / "adapter_model.safetensors").write_bytes(b"w")
    if state == "ok":
        log = [{"loss": 1.0 / step, "step": step}, {"eval_loss": 2.0 / step, "step": step}]
        (ckpt / "trainer_state.json").write_text(json.dumps({"log_history": log}))
    elif state == "truncated":
        (ckpt / "trainer_state.json").write_text('{"log_history": [{"loss": 1.')
    return ckpt


def test_numeric_order_not_lexical(tmp_path: Path) -> None:
    for step in (9, 10, 100):
        make_ckpt(tmp_path, step)
    assert [c.step for c in list_checkpoints(tmp_path)] == [9, 10, 100]


def test_last_skips_newer_incomplete_checkpoints(tmp_path: Path) -> None:
    make_ckpt(tmp_path, 2)
    make_ckpt(tmp_path, 4, state=None)  # crashed before trainer_state.json was written
    make_ckpt(tmp_path, 6, state="truncated")
    make_ckpt(tmp_path, 8, weights=False)
    ckpt, skipped = last_complete(tmp_path)
    assert ckpt is not None and ckpt.step == 2
    assert [(c.step, c.problem) for c in skipped] == [
        (8, "no weights file"), (6, "trainer_state.json does not parse"), (4, "no trainer_state.json")]


def test_resolve_last_reports_skipped(tmp_path: Path) -> None:
    make_ckpt(tmp_path, 2)
    make_ckpt(tmp_path, 4, state=None)
    ckpt, notices = resolve("last", tmp_path, base_dir=tmp_path)
    assert ckpt.step == 2
    assert notices == ["skipping checkpoint-4: no trainer_state.json"]


def test_losses_are_read_from_trainer_state(tmp_path: Path) -> None:
    ckpt = inspect(make_ckpt(tmp_path, 4))
    assert (ckpt.complete, ckpt.loss, ckpt.eval_loss) == (True, 0.25, 0.5)


def test_newer_empty_version_folder_is_ignored_by_run_dirs_order(tmp_path: Path) -> None:
    make_ckpt(tmp_path / "v0-20260101-000000", 4)
    (tmp_path / "v1-20260102-000000").mkdir()  # a failed run consumed v1 and wrote nothing
    runs = run_dirs(tmp_path)
    assert [r.name for r in runs] == ["v0-20260101-000000", "v1-20260102-000000"]
    assert last_complete(runs[-1]) == (None, [])


def test_best_comes_from_the_summary_line(tmp_path: Path) -> None:
    make_ckpt(tmp_path, 2)
    best = str(tmp_path / "checkpoint-2")
    lines = [{"loss": 1.0}, {"last_model_checkpoint": best, "best_model_checkpoint": best}]
    (tmp_path / "logging.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    assert resolve("best", tmp_path, base_dir=tmp_path)[0].step == 2


def test_best_null_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "logging.jsonl").write_text(json.dumps({"last_model_checkpoint": "x", "best_model_checkpoint": None}))
    with pytest.raises(UserError) as info:
        resolve("best", tmp_path, base_dir=tmp_path)
    assert str(info.value) == (
        f"{tmp_path}: no best checkpoint (best_model_checkpoint is null); it needs evaluation during "
        "training: set data.val_ratio or stages.sft.val_dataset, or use checkpoint: last"
    )


def test_explicit_incomplete_path_is_refused(tmp_path: Path) -> None:
    make_ckpt(tmp_path, 4, state="truncated")
    with pytest.raises(UserError) as info:
        resolve("checkpoint-4", tmp_path, base_dir=tmp_path)
    assert str(info.value) == (
        f"checkpoint {tmp_path / 'checkpoint-4'}: incomplete (trainer_state.json does not parse)"
    )


def make_zero_ckpt(run: Path, step: int, *, latest: bool = True, optim: bool = True) -> Path:
    """The layout DeepSpeed ZeRO leaves (2 ranks): global_step<N>/ shards, latest, no optimizer.pt."""
    ckpt = make_ckpt(run, step)
    shards = ckpt / f"global_step{step}"
    shards.mkdir()
    for rank in (0, 1):
        (shards / f"zero_pp_rank_{rank}_mp_rank_00_model_states.pt").write_bytes(b"m")
        if optim:
            (shards / f"bf16_zero_pp_rank_{rank}_mp_rank_00_optim_states.pt").write_bytes(b"o")
    if latest:
        (ckpt / "latest").write_text(f"global_step{step}")
    (ckpt / "zero_to_fp32.py").write_text("# deepspeed's converter\n")
    return ckpt


def test_zero_checkpoint_without_optimizer_pt_is_complete_and_last(tmp_path: Path) -> None:
    make_zero_ckpt(tmp_path, 2)
    make_zero_ckpt(tmp_path, 4)
    assert not (tmp_path / "checkpoint-4" / "optimizer.pt").exists()
    ckpt, skipped = last_complete(tmp_path)
    assert ckpt is not None and (ckpt.step, ckpt.complete, ckpt.zero, skipped) == (4, True, True, [])
    assert not inspect(make_ckpt(tmp_path, 6)).zero


def test_zero_checkpoint_that_cannot_resume_is_skipped(tmp_path: Path) -> None:
    make_zero_ckpt(tmp_path, 2)
    make_zero_ckpt(tmp_path, 4, optim=False)
    make_zero_ckpt(tmp_path, 6, latest=False)  # crashed before deepspeed wrote 'latest'
    bad = make_zero_ckpt(tmp_path, 8)
    (bad / "latest").write_text("global_step7")
    ckpt, skipped = last_complete(tmp_path)
    assert ckpt is not None and ckpt.step == 2
    assert [(c.step, c.problem) for c in skipped] == [
        (8, "ZeRO checkpoint: 'latest' names global_step7, which is not there"),
        (6, "ZeRO checkpoint without its 'latest' file"),
        (4, "ZeRO checkpoint: global_step4 holds no optimizer states"),
    ]


def write_safetensors(path: Path, shapes: dict[str, list[int]]) -> None:
    """A safetensors file with these tensor shapes (float32, zeros): an 8-byte header length, the header, data."""
    header: dict[str, object] = {}
    offset = 0
    for name, shape in shapes.items():
        size = 4 * (shape[0] * shape[1] if len(shape) == 2 else shape[0])
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header).encode()
    path.write_bytes(len(raw).to_bytes(8, "little") + raw + b"\0" * offset)


def test_a_zero3_save_with_empty_tensors_is_incomplete(tmp_path: Path) -> None:
    good = make_zero_ckpt(tmp_path, 2)
    write_safetensors(good / "adapter_model.safetensors", {"a.lora_A.weight": [8, 64], "a.lora_B.weight": [64, 8]})
    bad = make_zero_ckpt(tmp_path, 4)
    write_safetensors(bad / "adapter_model.safetensors", {"a.lora_A.weight": [8, 64], "mlp.lora_B.weight": [0]})
    ckpt, skipped = last_complete(tmp_path)
    assert ckpt is not None and ckpt.step == 2
    assert [(c.step, c.problem) for c in skipped] == [
        (4, "ZeRO checkpoint: 1 empty tensor(s) in adapter_model.safetensors, e.g. mlp.lora_B.weight")]
