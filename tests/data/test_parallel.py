from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from swiftpipe.data import parallel
from swiftpipe.data.convert import run
from tests.data.conftest import DATA, DATASETS, chat, convert_options

OUTPUTS = ("out.jsonl", "val.jsonl", "rej.jsonl", "rep.json")


def convert(folder: Path, inputs: list[Path], jobs: int, **kw: Any) -> dict[str, bytes]:
    folder.mkdir()
    run(
        convert_options(inputs, folder / "out.jsonl", val=folder / "val.jsonl", max_reject_ratio=1.0, jobs=jobs, **kw)
    )
    assert not [p.name for p in folder.iterdir() if p.name not in OUTPUTS]  # no spool files left
    return {name: (folder / name).read_bytes().replace(str(folder).encode(), b"DIR") for name in OUTPUTS}


@pytest.fixture
def tiny_blocks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every JSON Lines file goes to the workers, in blocks of a line or two; counts blocks."""
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "BLOCK_BYTES", 200)
    sent: list[int] = []
    payloads = parallel._payloads

    def counted(path: Path) -> Iterator[tuple[int, parallel.Payload]]:
        for item in payloads(path):
            sent.append(1)
            yield item

    monkeypatch.setattr(parallel, "_payloads", counted)
    return sent


def tricky(tmp_path: Path) -> list[Path]:
    """BOM, blank lines, a line longer than a block, duplicates in other blocks, gzip."""
    rows = [json.dumps(chat(f"q{i % 7}", "a " * (i % 3) + "x")) for i in range(40)]
    rows[5] = json.dumps(chat("long " * 200, "a"))
    rows[9] = '{"messages": ['
    text = "\ufeff" + "\n".join(rows[:20]) + "\n\n  \n" + "\n".join(rows[20:]) + "\n"
    plain = tmp_path / "tricky.jsonl"
    plain.write_text(text, encoding="utf-8")
    packed = tmp_path / "tricky.jsonl.gz"
    packed.write_bytes(gzip.compress((text + rows[0]).encode()))  # no final newline
    return [plain, packed]


CASES: list[dict[str, Any]] = [
    dict(val_ratio=0.3, seed=7),
    dict(val_ratio=0.3, seed=7, dedupe=True),
    dict(system="Be brief.", dedupe=True),
]


@pytest.mark.parametrize("kw", CASES)
def test_workers_write_exactly_what_the_serial_path_writes(
    tmp_path: Path, kw: dict[str, Any], tiny_blocks: list[int]
) -> None:
    inputs = [
        *sorted(DATASETS.glob("*.json*")),
        *sorted(DATA.glob("*.json*")),
        *tricky(tmp_path),
    ]
    serial = convert(tmp_path / "serial", inputs, 1, **kw)
    assert not tiny_blocks
    workers = convert(tmp_path / "workers", inputs, 2, **kw)
    assert len(tiny_blocks) > 100
    assert workers == serial
    report = json.loads(serial["rep.json"])
    assert report["invariant_ok"] and report["rejected"] > 0 and report["train"] > 100


@pytest.mark.usefixtures("tiny_blocks")
def test_workers_with_token_lengths(tmp_path: Path, tiny_tokenizer: Path) -> None:
    inputs = [DATA / "broken.jsonl", *tricky(tmp_path)]
    kw: dict[str, Any] = dict(dedupe=True, tokenizer=tiny_tokenizer, max_length=300)
    serial = convert(tmp_path / "serial", inputs, 1, **kw)
    assert b"too_long" in serial["rej.jsonl"] and b"duplicate" in serial["rej.jsonl"]
    assert convert(tmp_path / "workers", inputs, 2, **kw) == serial


def test_small_files_stay_serial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pool(self: parallel.Workers) -> None:
        raise AssertionError("a pool was started for small inputs")

    monkeypatch.setattr(parallel.Workers, "_start", no_pool)
    convert(tmp_path / "out", sorted(DATASETS.glob("*.json*")), 4)


@pytest.mark.usefixtures("tiny_blocks")
def test_a_line_longer_than_a_block_is_read_in_parts_with_its_size_capped(tmp_path: Path) -> None:
    rows = [json.dumps(chat(f"q{i}", "a")) for i in range(30)]
    rows[4] = json.dumps(chat("long " * 200, "a"))  # over two blocks of 200 bytes: read in parts
    rows[11] = json.dumps(chat("longer " * 400, "a"))  # and over --max-row-bytes too
    source = tmp_path / "long.jsonl"
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    serial = convert(tmp_path / "serial", [source], 1, max_row_bytes=2000)
    assert convert(tmp_path / "workers", [source], 2, max_row_bytes=2000) == serial
    reject = json.loads(serial["rej.jsonl"])
    assert (reject["line"], reject["reason"]) == (12, "row_too_large")
    assert reject["row"].endswith(f"... ({len(rows[11].encode()):,} bytes, cut)")
