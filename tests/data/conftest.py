from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from swiftpipe.data.options import ConvertOptions, Source
from swiftpipe.data.rows.row import Settings

DATA = Path(__file__).parent.parent / "assets" / "data"
DATASETS = Path(__file__).parent.parent.parent / "datasets"


@pytest.fixture(scope="session")
def tiny_tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model directory holding only a small BPE tokenizer.json with the ChatML specials."""
    from swiftpipe.msswift.tinymodel import train_bpe

    bpe = train_bpe(["the user asks and the assistant answers"] * 4, vocab_size=400)
    out = tmp_path_factory.mktemp("tok")
    bpe.save(str(out / "tokenizer.json"))
    return out


@pytest.fixture
def write_jsonl(tmp_path: Path) -> Callable[..., Path]:
    """Write rows (dicts, or raw strings written as they are) to tmp_path/<name>."""

    def write(rows: list[Any], name: str = "in.jsonl") -> Path:
        path = tmp_path / name
        lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        return path

    return write


def chat(*pairs: str, system: str | None = None) -> dict[str, Any]:
    """A messages row from alternating user/assistant texts."""
    roles = ["user", "assistant"]
    messages = [{"role": roles[i % 2], "content": text} for i, text in enumerate(pairs)]
    if system is not None:
        messages.insert(0, {"role": "system", "content": system})
    return {"messages": messages}


def convert_options(
    inputs: Iterable[Path],
    train: Path,
    *,
    val: Path | None = None,
    rejects: Path | None = None,
    report: Path | None = None,
    fmt: str = "auto",
    max_reject_ratio: float = 0.05,
    jobs: int | None = None,
    **settings: Any,
) -> ConvertOptions:
    """Options for `inputs` (all of format `fmt`) -> `train`; rejects and report default to
    `rej.jsonl` and `rep.json` beside it; `settings` are `Settings` fields."""
    return ConvertOptions(
        sources=tuple(Source(path, fmt) for path in inputs),
        train=train,
        val=val,
        rejects=rejects or train.with_name("rej.jsonl"),
        report=report or train.with_name("rep.json"),
        settings=Settings(**settings),
        max_reject_ratio=max_reject_ratio,
        jobs=jobs,
    )
