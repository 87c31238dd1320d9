"""ms-swift accepts every row we write: none is dropped in preprocessing or for length.

`swift sft` logs `Dataset filtered, origin length: X, filtered dataset length: Y` only when
rows were dropped (swift/dataset/preprocessor/core.py and swift/pipelines/utils.py), and
`train_dataset: Dataset({... num_rows: N` with the rows it kept. The converted demo data is
trained with `--max_length` set to our largest token *estimate*, so a single row that swift
counts longer than we do would be dropped and fail the test. The second run shows the check
can fail: a row too long for `--max_length` makes the line appear.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from swiftpipe.data.convert import run
from tests.data.conftest import DATA, DATASETS, convert_options

FILTERED = re.compile(r"Dataset filtered, origin length: (\d+), filtered dataset length: (\d+)")
NUM_ROWS = re.compile(r"train_dataset: Dataset\(\{.*?num_rows: (\d+)", re.DOTALL)
PRETRAIN = DATASETS / "pretrain_text.jsonl"


def start_sft(model: Path, dataset: Path, out: Path, max_length: int, command: str = "sft") -> subprocess.Popen[str]:
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "MODELSCOPE_OFFLINE": "1",
        "MODELSCOPE_CACHE": str(out / "ms-cache"),
        "HF_HOME": str(out / "hf"),
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
    }
    cmd = [
        "swift",
        command,
        "--model",
        str(model),
        "--model_type",
        "qwen3",
        "--template",
        "qwen3",
        "--dataset",
        str(dataset.resolve()),
        "--max_steps",
        "1",
        "--check_model",
        "false",
        "--torch_dtype",
        "float32",
        "--fp16",
        "false",
        "--bf16",
        "false",
        "--report_to",
        "none",
        "--dataloader_num_workers",
        "0",
        "--output_dir",
        str(out / "sft"),
        "--max_length",
        str(max_length),
        "--split_dataset_ratio",
        "0",
    ]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(proc: subprocess.Popen[str]) -> str:
    log, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, log[-3000:]
    return log


@pytest.mark.integration
def test_swift_keeps_every_converted_row(tmp_path: Path) -> None:
    from swiftpipe.msswift.tinymodel import build_tiny_model

    model = build_tiny_model(tmp_path / "tiny")
    # pretrain_text is for swift pt, preference.dpo for swift rlhf (tests/integration/test_rlhf.py)
    chat_sets = sorted(p for p in DATASETS.glob("*.json*") if p not in (PRETRAIN, DATASETS / "preference.dpo.jsonl"))
    inputs = (*chat_sets, DATA / "agent.jsonl")
    good = run(
        convert_options(inputs, tmp_path / "demo.jsonl", max_reject_ratio=0.0, tokenizer=model, max_length=100_000)
    )
    assert good.failure is None and good.rejected == 0
    longest = good.report["tokens"]["max"]

    # The inverse: three rows, one of them far longer than the other two, trained with a
    # --max_length between them; we do not filter by length here, so swift must.
    short = '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n'
    long = short.replace('"hello"', '"' + "hello " * 400 + '"')
    (tmp_path / "raw.jsonl").write_text(short + long + short.replace("hi", "hey"))
    raw = [tmp_path / "raw.jsonl"]
    bad = run(convert_options(raw, tmp_path / "long.jsonl", rejects=tmp_path / "long.rejects.jsonl"))
    assert bad.train == 3

    procs = [
        start_sft(model, good.train_path or Path(), tmp_path / "a", longest),
        start_sft(model, bad.train_path or Path(), tmp_path / "b", 64),
    ]
    log_good, log_bad = finish(procs[0]), finish(procs[1])

    dropped = [(int(x), int(y)) for x, y in FILTERED.findall(log_good)]
    assert all(x == y for x, y in dropped), dropped
    rows = NUM_ROWS.search(log_good)
    # every demo row (their number grows as datasets/ does), none lost on the way to swift
    assert rows is not None and int(rows.group(1)) == good.train == good.rows_in > 147

    assert FILTERED.findall(log_bad) == [("3", "2")]


@pytest.mark.integration
def test_swift_pt_keeps_every_converted_text_row(tmp_path: Path) -> None:
    from swiftpipe.msswift.tinymodel import build_tiny_model

    model = build_tiny_model(tmp_path / "tiny")
    done = run(
        convert_options([PRETRAIN], tmp_path / "pt.jsonl", max_reject_ratio=0.0, tokenizer=model, max_length=100_000)
    )
    assert done.failure is None and done.report["sources"][0]["format"] == "text"
    log = finish(start_sft(model, tmp_path / "pt.jsonl", tmp_path / "a", done.report["tokens"]["max"], "pt"))
    assert [(int(x), int(y)) for x, y in FILTERED.findall(log) if x != y] == []
    rows = NUM_ROWS.search(log)
    assert rows is not None and int(rows.group(1)) == done.train == 220
