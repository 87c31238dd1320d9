"""Exact token lengths (exact.py) against ms-swift itself, and the estimate's promise to err high.

The oracle is ms-swift's own path: `swift.dataset.load_dataset` on the converted file, then
`EncodePreprocessor` (what `swift sft` maps over the dataset), and finally a real `swift sft
--max_length` run, which logs `Dataset filtered, ...` when it drops a row. LLaMA-Factory's
`glaive_toolcall_en_demo.json` (300 tool-call rows, 109 with `tools: "[]"`) is used when it is
at $SWIFTPIPE_GLAIVE (default /tmp/glaive_toolcall_en_demo.json); it is not committed, our own
tool-call rows (tests/assets/data/toolcall.sharegpt.jsonl) stand in for it.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from swiftpipe.commands.convert import convert as convert_cmd
from swiftpipe.core.errors import UserError
from swiftpipe.data.convert import run
from swiftpipe.data.options import ConvertOptions
from swiftpipe.data.rows.exact import ExactCounter, choose, load_template
from swiftpipe.data.rows.tokens import TokenCounter
from swiftpipe.kinds.data import DataStage
from tests.data.conftest import DATA, DATASETS, convert_options
from tests.data.test_parallel import tiny_blocks  # noqa: F401 - a fixture
from tests.data.test_stage import context
from tests.data.test_swift_accepts import FILTERED, NUM_ROWS, finish, start_sft

GLAIVE = Path(os.environ.get("SWIFTPIPE_GLAIVE", "/tmp/glaive_toolcall_en_demo.json"))
PRETRAIN = DATASETS / "pretrain_text.jsonl"  # for swift pt, whose template differs


def fixtures() -> tuple[Path, ...]:
    chat_sets = sorted(p for p in DATASETS.glob("*.json*") if p != PRETRAIN)
    found = (*chat_sets, DATA / "agent.jsonl", DATA / "toolcall.sharegpt.jsonl")
    return (*found, GLAIVE) if GLAIVE.is_file() else found


def options(folder: Path, inputs: tuple[Path, ...], **kw: Any) -> ConvertOptions:
    folder.mkdir(parents=True, exist_ok=True)
    return convert_options(inputs, folder / "train.jsonl", rejects=folder / "rejects.jsonl",
                           report=folder / "report.json", max_reject_ratio=1.0, **kw)  # fmt: skip


def rows(path: Path) -> list[tuple[list[Any], str | None]]:
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [(r["messages"], r.get("tools")) for r in lines]


def swift_lengths(model: Path, path: Path) -> list[int]:
    """The lengths `swift sft` compares with --max_length, by ms-swift's own dataset path."""
    from swift.dataset import load_dataset  # type: ignore[import-untyped]
    from swift.dataset.utils import EncodePreprocessor  # type: ignore[import-untyped]

    template = load_template(model, "qwen3", "qwen3")
    dataset, _ = load_dataset([str(path)], num_proc=1, load_from_cache_file=False)
    encoded = EncodePreprocessor(template)(dataset, num_proc=1, load_from_cache_file=False)
    column = "lengths" if "lengths" in encoded.column_names else "length"
    return [max(n) if isinstance(n, list) else int(n) for n in encoded[column]]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from swiftpipe.msswift.tinymodel import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="module")
def converted(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[int]]:
    """Every fixture converted without a limit, and ms-swift's length of each row written."""
    done = run(options(tmp_path_factory.mktemp("all"), fixtures()))
    assert done.train_path is not None
    return done.train_path, swift_lengths(tiny_model, done.train_path)


@pytest.mark.integration
def test_exact_lengths_are_swifts_and_the_estimate_is_never_below(
    tiny_model: Path, converted: tuple[Path, list[int]]
) -> None:
    path, truth = converted
    pairs = rows(path)
    assert ExactCounter(tiny_model, "qwen3", "qwen3").count(pairs) == truth
    estimate = TokenCounter(tiny_model).count(pairs)
    under = [(i, e, t) for i, (e, t) in enumerate(zip(estimate, truth, strict=True)) if e < t]
    assert under == []


@pytest.mark.integration
def test_exact_limit_keeps_what_swift_keeps_and_swift_sft_drops_none(
    tiny_model: Path, converted: tuple[Path, list[int]], tmp_path: Path
) -> None:
    _, truth = converted
    limit = sorted(truth)[len(truth) // 2]  # about half the rows are too long
    done = run(options(tmp_path / "cut", fixtures(), tokenizer=tiny_model, max_length=limit, exact=True,
                       template="qwen3", model_type="qwen3"))  # fmt: skip
    # The same rows as swift would keep of the unfiltered conversion: none kept too long, none
    # rejected that fits.
    assert done.train == sum(1 for n in truth if n <= limit)
    assert done.report["tokens"]["over_max_length"] == sum(1 for n in truth if n > limit)
    assert done.report["tokens"]["estimate"] is False
    reject = json.loads(done.rejects_path.read_text(encoding="utf-8").splitlines()[-1])
    assert reject["reason"] == "too_long" and "tokens (ms-swift's template), above max_length" in reject["message"]

    log = finish(start_sft(tiny_model, tmp_path / "cut" / "train.jsonl", tmp_path / "sft", limit))
    assert FILTERED.findall(log) == []
    found = NUM_ROWS.search(log)
    assert found is not None and int(found.group(1)) == done.train


@pytest.mark.integration
@pytest.mark.usefixtures("tiny_blocks")
def test_workers_count_exact_lengths_like_the_serial_path(tiny_model: Path, tmp_path: Path) -> None:
    inputs = (DATA / "toolcall.sharegpt.jsonl", DATA / "agent.jsonl")
    kw: dict[str, Any] = {"tokenizer": tiny_model, "max_length": 160, "exact": True, "template": "qwen3",
                          "model_type": "qwen3"}  # fmt: skip
    serial = run(options(tmp_path / "one", inputs, jobs=1, **kw))
    run(options(tmp_path / "two", inputs, jobs=2, **kw))
    assert 0 < serial.rejected < serial.rows_in
    for name in ("train.jsonl", "rejects.jsonl"):
        one = (tmp_path / "one" / name).read_text(encoding="utf-8")
        assert (tmp_path / "two" / name).read_text(encoding="utf-8") == one
    assert "(ms-swift's template)" in (tmp_path / "two" / "rejects.jsonl").read_text(encoding="utf-8")


def test_exact_is_chosen_only_with_a_limit_and_a_model(tiny_tokenizer: Path) -> None:
    assert choose(False, tiny_tokenizer, 64, None, None) is False
    assert choose(None, None, 64, None, None) is False
    assert choose(None, tiny_tokenizer, None, None, None) is False
    assert choose(None, tiny_tokenizer, 64, None, None) is False  # no config.json: not a model


def test_exact_without_a_model_is_a_user_error(tiny_tokenizer: Path) -> None:
    with pytest.raises(UserError) as err:
        choose(True, tiny_tokenizer, 64, None, None)
    assert str(err.value) == (
        f"--exact: {tiny_tokenizer} has no config.json for ms-swift to load; pass the model directory"
    )


def test_exact_without_a_tokenizer_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError) as err:
        convert_cmd([DATA / "agent.jsonl"], tmp_path / "out.jsonl", rejects=None, report=None, max_reject_ratio=0.05,
                    dedupe=False, system=None, val_ratio=0.0, seed=42, tokenizer=None, max_length=None,
                    exact=True)  # fmt: skip
    assert str(err.value) == "--exact needs --tokenizer MODEL_DIR to count tokens; pass both"


def test_data_stage_asks_for_exact_lengths_of_a_model(tmp_path: Path, tiny_tokenizer: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    shutil.copy(tiny_tokenizer / "tokenizer.json", model / "tokenizer.json")
    (model / "config.json").write_text("{}")
    source = DATA / "agent.jsonl"
    yaml = f"model_type: qwen3\ntemplate: qwen3\ndata:\n  sources:\n    - path: {source}\n  max_length: 64\n"
    found = DataStage().plan(context(tmp_path, yaml, model=str(model))).params.options.settings
    assert (found.max_length, found.exact, found.template, found.model_type) == (64, True, "qwen3", "qwen3")
