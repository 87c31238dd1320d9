"""The options file and the result file: every field survives JSON and comes back typed."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from swiftpipe.data.options import (
    ConvertOptions,
    Failure,
    Outcome,
    Source,
    decode,
    encode,
    read_options,
    read_outcome,
    write_options,
    write_outcome,
)
from swiftpipe.data.rows.row import Settings

SETTINGS = Settings(
    system="be brief",
    dedupe=True,
    val_ratio=0.1 + 0.2,  # not a short decimal: the float must come back to the last bit
    seed=7,
    tokenizer=Path("/models/qwen"),
    max_length=2048,
    purpose="rlhf",
    multimodal=False,
    strict=True,
    system_template="lang: {reasoning_language}",
    exact=True,
    template="qwen3",
    model_type="qwen3",
    media_root=Path("/data/media"),
    max_row_bytes=1000,
)
OPTIONS = ConvertOptions(
    sources=(Source(Path("/data/a.jsonl"), "sharegpt", 12), Source(Path("/data/b ü.json"), "auto", 0)),
    train=Path("/out/train.jsonl"),
    val=Path("/out/val.jsonl"),
    rejects=Path("/out/rejects.jsonl"),
    report=Path("/out/report.json"),
    settings=SETTINGS,
    max_reject_ratio=0.5,
    jobs=3,
    result=Path("/out/result.json"),
)


def defaults(cls: type[Any]) -> dict[str, Any]:
    found = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            found[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            found[f.name] = f.default_factory()
    return found


def test_the_samples_set_every_field_away_from_its_default() -> None:
    # So the round trips below cover every field, including one added later.
    for sample in (SETTINGS, OPTIONS, OPTIONS.sources[0]):
        same = {k for k, v in defaults(type(sample)).items() if getattr(sample, k) == v}
        assert same == set(), f"{type(sample).__name__}: {same} left at the default"


def test_every_option_survives_the_file(tmp_path: Path) -> None:
    path = tmp_path / "options.json"
    write_options(path, OPTIONS)
    assert read_options(path) == OPTIONS
    assert [p.name for p in tmp_path.iterdir()] == ["options.json"]  # no temporary file left


def test_unset_options_survive_as_none() -> None:
    bare = ConvertOptions((Source(Path("/a.csv")),), Path("/t.jsonl"), None, Path("/r.jsonl"), Path("/p.json"))
    assert decode(ConvertOptions, encode(bare)) == bare


def test_the_file_is_plain_json_with_paths_as_text() -> None:
    data = json.loads(encode(OPTIONS))
    assert data["sources"][1] == {"path": "/data/b ü.json", "format": "auto", "limit": 0}
    assert data["settings"]["tokenizer"] == "/models/qwen"
    assert data["result"] == "/out/result.json"


def test_an_outcome_survives_its_file(tmp_path: Path) -> None:
    outcome = Outcome(
        {"train": None, "val": None, "rejects": "/out/rejects.jsonl", "report": "/out/report.json"},
        {"rows_in": 10, "train": 0, "val": 0, "rejected": 10},
        Failure("data", "no rows left to train on"),
    )
    path = tmp_path / "result.json"
    write_outcome(path, outcome)
    assert read_outcome(path) == outcome
    assert read_outcome(tmp_path / "missing.json") is None
