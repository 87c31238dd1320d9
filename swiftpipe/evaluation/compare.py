"""Base model vs fine-tuned model: per dataset and metric, both scores and the delta.

Identical scores on every metric usually mean the fine-tuning changed nothing
that the benchmark sees (a no-op adapter) or that the server answered with the
wrong model; the comparison says so in `flags` instead of reporting "+0.00".
The answers themselves tell the two cases apart: identical answers to every
prompt point at a no-op adapter or the wrong model served, while different
answers with equal scores mean the model changed, just not in a way these
metrics reward.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from swiftpipe.core.fsio import atomic_write_text
from swiftpipe.evaluation.evalreport import DatasetReport

SAME = 1e-9
IDENTICAL_FLAG = (
    "identical: base and fine-tuned scores are equal on every metric; the adapter may be a no-op "
    "or the server may have served the base model"
)
SAME_ANSWERS_FLAG = (
    "identical answers: base and fine-tuned gave the same answer to all {n} prompts; the adapter "
    "is a no-op or the server served the base model"
)
SAME_SCORES_FLAG = (
    "identical scores, different answers ({k} of {n} differ): the fine-tuning changed the model, "
    "but not in a way these metrics reward"
)


@dataclass(frozen=True)
class Row:
    dataset: str
    metric: str
    primary: bool
    base: float | None
    finetuned: float | None

    @property
    def delta(self) -> float | None:
        if self.base is None or self.finetuned is None:
            return None
        return self.finetuned - self.base


@dataclass
class Comparison:
    rows: list[Row]
    flags: list[str] = field(default_factory=list)
    answers_compared: int = 0
    answers_identical: int = 0

    def to_dict(self) -> dict[str, object]:
        return {
            "rows": [{**asdict(r), "delta": r.delta} for r in self.rows],
            "answers": {"compared": self.answers_compared, "identical": self.answers_identical},
            "flags": self.flags,
        }


def answers(work_dir: Path) -> dict[tuple[str, int], str]:
    """Each prediction's text from evalscope's predictions/<model>/<dataset>_<subset>.jsonl."""
    found: dict[tuple[str, int], str] = {}
    for path in sorted(work_dir.glob("predictions/*/*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh):
                row = json.loads(line)
                found[(path.stem, row.get("index", n))] = _answer_text(row)
    return found


def _answer_text(row: dict[str, Any]) -> str:
    choices = (row.get("model_output") or {}).get("choices") or [{}]
    content = (choices[0].get("message") or {}).get("content")
    if isinstance(content, list):  # evalscope 1.x splits reasoning and text into parts
        return "".join(str(part.get("text") or part.get("reasoning") or "") for part in content)
    return str(content or "")


def compare(
    base: dict[str, DatasetReport],
    tuned: dict[str, DatasetReport],
    base_dir: Path | None = None,
    tuned_dir: Path | None = None,
) -> Comparison:
    """Pair up every metric of every dataset that either side reported; with the two
    evalscope work dirs, also compare the answers prompt by prompt."""
    rows = []
    for name in sorted(set(base) | set(tuned)):
        b, t = base.get(name), tuned.get(name)
        keys = list(dict.fromkeys([*(t.scores if t else {}), *(b.scores if b else {})]))
        either = t or b
        primary = either.primary if either is not None else None
        for key in keys:
            rows.append(Row(name, key, key == primary,
                            b.scores.get(key) if b else None, t.scores.get(key) if t else None))
    rows.sort(key=lambda r: (r.dataset, not r.primary, r.metric))
    result = Comparison(rows)
    if base_dir is not None and tuned_dir is not None:
        _compare_answers(result, answers(base_dir), answers(tuned_dir))
    paired = [r for r in rows if r.delta is not None]
    same_scores = bool(paired) and all(abs(r.delta or 0.0) < SAME for r in paired)
    n, k = result.answers_compared, result.answers_compared - result.answers_identical
    if n and k == 0:
        result.flags.append(SAME_ANSWERS_FLAG.format(n=n))
    elif same_scores and n:
        result.flags.append(SAME_SCORES_FLAG.format(k=k, n=n))
    elif same_scores:
        result.flags.append(IDENTICAL_FLAG)
    return result


def _compare_answers(result: Comparison, base: dict[tuple[str, int], str], tuned: dict[tuple[str, int], str]) -> None:
    # Prediction files are named after the dataset and subset, not the model, so they pair up.
    common = [key for key in tuned if key in base]
    result.answers_compared = len(common)
    result.answers_identical = sum(1 for key in common if base[key] == tuned[key])


def _fmt(value: float | None, sign: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value:+.4f}" if sign else f"{value:.4f}"


def markdown(result: Comparison) -> str:
    lines = [
        "# Base vs fine-tuned", "",
        "| dataset | metric | base | fine-tuned | delta |",
        "|---|---|---:|---:|---:|",
    ]
    for r in result.rows:
        metric = f"**{r.metric}**" if r.primary else r.metric
        lines.append(
            f"| {r.dataset} | {metric} | {_fmt(r.base)} | {_fmt(r.finetuned)} | {_fmt(r.delta, True)} |"
        )
    if result.answers_compared:
        same, n = result.answers_identical, result.answers_compared
        lines += ["", f"Answers: {n - same} of {n} differ between base and fine-tuned."]
    if result.flags:
        lines += ["", *(f"> warning: {flag}" for flag in result.flags)]
    lines += ["", "Scores are 0..1; the primary metric of each dataset is in bold."]
    return "\n".join(lines) + "\n"


def write(result: Comparison, out_dir: Path) -> tuple[Path, Path]:
    """compare.json and compare.md in `out_dir`, written atomically."""
    json_path, md_path = out_dir / "compare.json", out_dir / "compare.md"
    atomic_write_text(json_path, json.dumps(result.to_dict(), indent=2) + "\n")
    atomic_write_text(md_path, markdown(result))
    return json_path, md_path
