"""Eval stages as score tables, their variant labels, and the side-by-side table of variants."""

from __future__ import annotations

from collections import Counter
from typing import Any

from swiftpipe.engine.manifest import Manifest, StageRecord
from swiftpipe.engine.outputs import Scores
from swiftpipe.engine.status import Status
from swiftpipe.report.model import (
    EvalTable,
    LossCurve,
    ResultRow,
    ScoreRow,
    VariantRow,
    VariantTable,
    declared,
    trains,
    usable,
)


def score_rows(tuned: dict[str, Any], base: dict[str, Any]) -> list[ScoreRow]:
    """One row per dataset of two `primary` mappings ({dataset: {"metric", "score"}})."""
    rows = []
    for name in sorted(set(tuned) | set(base)):
        t, b = tuned.get(name) or {}, base.get(name) or {}
        rows.append(ScoreRow(name, str(t.get("metric") or b.get("metric")), t.get("score"), b.get("score")))
    return rows


def training_stage(name: str, manifest: Manifest) -> str | None:
    """The nearest training stage upstream of `name` (eval -> deploy -> export -> sft), not via a base."""
    seen = {name}
    todo = [name]
    while todo:
        current = todo.pop(0)
        record = manifest.stages[current]
        if current != name and trains(current, record):
            return current
        for slot, parent in record.upstream.items():
            if slot != "base" and parent in manifest.stages and parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return None


def variant_labels(evals: list[str], manifest: Manifest) -> dict[str, str]:
    """Each eval's training stage; the eval's own name where none is found or two evals share one."""
    found = {e: training_stage(e, manifest) for e in evals}
    shared = Counter(t for t in found.values() if t)
    labels = {e: t if t and shared[t] == 1 else e for e, t in found.items()}
    if len(set(labels.values())) < len(labels):  # a training stage named like another eval
        labels = {e: e for e in evals}
    return labels


def _base(name: str, manifest: Manifest, key: str = "primary") -> tuple[str | None, dict[str, Any]]:
    record = manifest.stages[name]
    base = record.upstream.get("base")
    if base and base in manifest.stages:
        base_record = manifest.stages[base]
        return base, (dict(getattr(_scores(base_record), key)) if usable(base_record) else {})
    # Manifests from before base-eval stages kept the base model's scores in the eval record.
    return None, dict(record.outputs.get(f"base_{key}") or {})


def subset_rows(tuned: dict[str, Any], base: dict[str, Any]) -> list[ScoreRow]:
    """Per subject of datasets with two or more (`subsets`: {dataset: {subject: score}})."""
    rows = []
    for name in sorted(set(tuned) | set(base)):
        t, b = dict(tuned.get(name) or {}), dict(base.get(name) or {})
        subjects = sorted(set(t) | set(b))
        if len(subjects) > 1:
            rows += [ScoreRow(name, s, t.get(s), b.get(s)) for s in subjects]
    return rows


def _scores(record: StageRecord) -> Scores:
    return Scores.from_dict(record.outputs)  # every key of Scores is optional


def _shown(record: StageRecord) -> bool:
    """Succeeded, up to date, or failed with some datasets finished (their scores are kept)."""
    return usable(record) or (record.status == Status.FAILED and bool(_scores(record).primary))


def _evaluates(name: str, record: StageRecord) -> bool:
    """An eval stage a user wrote (the base model's, which swiftpipe adds, is its base column)."""
    kind = declared(name, record)
    return kind is not None and kind.produces == Scores.produces and not kind.internal


def eval_tables(manifest: Manifest) -> list[EvalTable]:
    """One table per eval stage with scores, in the manifest's order."""
    names = [n for n, r in manifest.stages.items() if _evaluates(n, r) and _shown(r)]
    labels = variant_labels(names, manifest)
    tables = []
    for name in names:
        record = manifest.stages[name]
        scores = _scores(record)
        base_stage, base = _base(name, manifest)
        rows = score_rows(scores.primary, base)
        failed = not usable(record)
        flags = [f"{d}: {e}" for d, e in (scores.failed or {}).items()] if failed else []
        if failed:
            flags.insert(0, "this eval stage failed; the scores shown are of the datasets that finished")
        subsets = subset_rows(scores.subsets, _base(name, manifest, "subsets")[1])
        tables.append(EvalTable(name, labels[name], base_stage, rows, flags + list(scores.flags or []),
                                subsets, failed))
    return tables


def result_rows(manifest: Manifest, tables: list[EvalTable], losses: list[LossCurve]) -> list[ResultRow]:
    """The results table: per eval stage and dataset, its training stage's steps, final loss and
    time next to the base and fine-tuned scores; then each training stage no evaluation reads."""
    last = {c.stage: c.train[-1][1] for c in losses if c.train}
    rows = []
    evaluated = set()
    for table in tables:
        train = training_stage(table.stage, manifest)
        evaluated.add(train)
        record = manifest.stages[train] if train else None
        steps = record.metrics.get("global_step") if record else None
        for score in table.rows:
            rows.append(ResultRow(table.label, steps if isinstance(steps, int) else None,
                                  last.get(train) if train else None, record.duration_s if record else None, score))
    for name, record in manifest.stages.items():  # trained but not evaluated: its training alone
        if name not in evaluated and trains(name, record) and record.status.usable:
            steps = record.metrics.get("global_step")
            rows.append(ResultRow(name, steps if isinstance(steps, int) else None, last.get(name),
                                  record.duration_s, None))
    return rows


def variant_table(tables: list[EvalTable]) -> VariantTable | None:
    """Base and every variant side by side, on the (dataset, metric) pairs two or more evals scored."""
    scored = Counter((r.dataset, r.metric) for t in tables for r in t.rows if r.finetuned is not None)
    keys = sorted(k for k, n in scored.items() if n >= 2)
    if not keys:
        return None
    columns = [t for t in tables if any((r.dataset, r.metric) in keys for r in t.rows)]
    bases = list(dict.fromkeys(t.base_stage for t in columns if t.base_stage))
    rows = []
    for key in keys:
        tuned = {t.stage: r.finetuned for t in columns for r in t.rows if (r.dataset, r.metric) == key}
        base = {t.base_stage: r.base for t in columns for r in t.rows if (r.dataset, r.metric) == key}
        rows.append(VariantRow(*key, [base.get(b) for b in bases] + [tuned.get(t.stage) for t in columns]))
    labels = ["base"] if len(bases) == 1 else [f"base: {b}" for b in bases]
    return VariantTable(labels + [t.label for t in columns], len(bases), rows)
