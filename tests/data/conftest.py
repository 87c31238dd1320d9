from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent.parent / "assets" / "data"
DATASETS = Path(__file__).parent.parent.parent / "datasets"


@pytest.fixture(scope="session")
def tiny_tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model directory holding only a small BPE tokenizer.json with the ChatML specials."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    from swiftpipe.tinymodel import SPECIAL_TOKENS

    bpe = Tokenizer(models.BPE(unk_token=None))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(["the user asks and the assistant answers"] * 4, trainer=trainer)
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
