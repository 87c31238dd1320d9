"""Will a few-shot benchmark prompt fit the served model? An estimate before launch.

The prompt is rebuilt roughly as evalscope's ceval/cmmlu adapters write it (the few-shot
examples, the question, the options, an instruction of about 120 characters) and counted
with the served model's own tokenizer.json; with max_tokens on top it is compared with
config.json's max_position_embeddings. A model without those files is not checked. The
count is an estimate, so an overflow is a notice, not an error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from swiftpipe.evaluation.benchmarks import LETTERS, Conversion

INSTRUCTION = "以" * 120  # the adapters' Chinese instruction around each question, about this long


def _question(row: dict[str, str], answered: bool) -> str:
    options = "\n".join(f"{k}. {row[k]}" for k in LETTERS)
    tail = f"\n解析：{row.get('explanation', '')}\n答案：{row['answer']}" if answered else ""
    return f"问题：{row['question']}\n选项：\n{options}{tail}"


def positions(model_dir: Path) -> int | None:
    try:
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = config.get("max_position_embeddings") if isinstance(config, dict) else None
    return value if isinstance(value, int) else None


def longest_prompt(conversion: Conversion, shots: int, count: Any) -> tuple[str, int]:
    """(subject, tokens) of the longest prompt over the evaluated subjects."""
    best = ("", 0)
    for subject in conversion.subjects:
        rows = conversion.bench.rows[subject]
        examples = "\n\n".join(_question(r, True) for r in rows.get("dev", [])[:shots])
        asked = rows.get(conversion.bench.shape.eval_split, [])
        longest = max((len(count(_question(r, False))) for r in asked), default=0)
        tokens = len(count(INSTRUCTION + examples)) + longest
        best = max(best, (subject, tokens), key=lambda b: b[1])
    return best


def overflow(conversions: list[Conversion], datasets: dict[str, dict[str, Any]], max_tokens: int,
             model_dir: Path, where: str) -> list[str]:
    """A notice per benchmark whose longest prompt plus max_tokens exceeds the model's positions."""
    limit = positions(model_dir)
    if limit is None or not (model_dir / "tokenizer.json").is_file() or not conversions:
        return []
    from tokenizers import Tokenizer  # only when there is something to count

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    notes = []
    for c in conversions:
        shots = int(datasets[c.dataset].get("few_shot_num", c.bench.shape.few_shot_default))
        subject, tokens = longest_prompt(c, shots, lambda text: tokenizer.encode(text).ids)
        if tokens + max_tokens > limit:
            notes.append(f"{where}.datasets.{c.dataset}: the {shots}-shot prompt for {subject} is about {tokens} "
                         f"tokens; with max_tokens {max_tokens} it exceeds the served model's {limit} positions "
                         f"(config.json max_position_embeddings), lower few_shot_num or max_tokens")
    return notes
