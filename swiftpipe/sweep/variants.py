"""The variants of a `sweep:` section: its keys, their values, the names they give stages."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from math import prod
from typing import Any

import yaml

from swiftpipe.config.interpolate import parse_as_in_a_file
from swiftpipe.config.schema import SweepConfig
from swiftpipe.config.validate import Problem, describe
from swiftpipe.config.yamlkeys import YamlLimit
from swiftpipe.core.errors import UserError

# Short names of the arguments swept most, for readable stage names; others use their initials.
_SHORT = {
    "learning_rate": "lr", "lora_rank": "r", "lora_alpha": "alpha", "lora_dropout": "drop",
    "num_train_epochs": "ep", "max_steps": "steps", "per_device_train_batch_size": "bs",
    "gradient_accumulation_steps": "ga", "warmup_ratio": "warmup", "weight_decay": "wd",
    "max_length": "len", "lr_scheduler_type": "sched",
}
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*")


def sweep_overrides(sweeps: list[str]) -> list[tuple[str, str]]:
    """`--sweep KEY=V1,V2` as (the key path it sets, the `--set` override that sets it)."""
    out = []
    for text in sweeps:
        key, sep, raw = text.partition("=")
        key = key.strip()
        if not sep or not _KEY.fullmatch(key) or not raw:
            raise UserError(f"--sweep {text}: expected KEY=V1,V2,..., "
                            "e.g. --sweep stages.sft.args.learning_rate=1e-4,2e-4")
        try:
            values = [parse_as_in_a_file(v) for v in raw.split(",")]
        except YamlLimit as exc:
            raise UserError(f"--sweep {key}: {exc.message}") from None
        path = f"sweep.params.{key}"
        out.append((path, f"{path}={yaml.safe_dump(values, default_flow_style=True, width=1 << 30).strip()}"))
    return out


def swept(sweep: SweepConfig) -> dict[str, Any]:
    """`params` as dotted key paths -> values (nested mappings of keys read as their paths)."""
    out: dict[str, Any] = {}

    def walk(params: Mapping[str, Any], prefix: str) -> None:
        for key, value in params.items():
            if isinstance(value, dict):
                walk(value, f"{prefix}{key}.")
            else:
                out[f"{prefix}{key}"] = value

    walk(sweep.params, "")
    return out


@dataclass(frozen=True)
class Variant:
    """One combination: each swept key's value, and the part of a stage name it gives."""

    values: dict[str, Any]
    parts: dict[str, str]

    def tag(self, keys: list[str]) -> str:
        return "-".join(self.parts[k] for k in keys)


def variants(sweep: SweepConfig, problems: list[Problem]) -> list[Variant]:
    """The variants, in grid order; [] and `problems` when the section is wrong."""
    params = swept(sweep)
    before = len(problems)
    for key, values in params.items():
        if not isinstance(values, list) or len(values) < 2:
            got = f"{len(values)}" if isinstance(values, list) else describe(values)
            problems.append(Problem(f"sweep.params.{key}", f"expected a list of 2 or more values, got {got}"))
    if len(problems) > before:
        return []
    names = _abbreviations(list(params))
    parts = {k: _value_parts(k, names[k], v, problems) for k, v in params.items()}
    total = prod(len(v) for v in params.values())
    picks = _picks(sweep, total, problems)
    if len(problems) > before:
        return []
    out = []
    for index in picks:
        chosen: dict[str, int] = {}
        for key in reversed(params):  # the last key varies fastest, as in itertools.product
            index, chosen[key] = divmod(index, len(params[key]))
        out.append(Variant({k: params[k][chosen[k]] for k in params}, {k: parts[k][chosen[k]] for k in params}))
    return out


def _picks(sweep: SweepConfig, total: int, problems: list[Problem]) -> list[int]:
    if sweep.method == "grid":
        if sweep.samples is not None:
            problems.append(Problem("sweep.samples", "only read with method: random; remove it"))
        return list(range(total))
    if sweep.samples is None:
        problems.append(Problem("sweep.samples", "method random draws this many variants; add samples: N"))
        return []
    if sweep.samples > total:
        problems.append(Problem("sweep.samples", f"expected at most {total} (the number of combinations), "
                                                 f"got {sweep.samples}"))
        return []
    return sorted(random.Random(sweep.seed).sample(range(total), sweep.samples))


def _abbreviations(keys: list[str]) -> dict[str, str]:
    """A short, distinct name per key: `lr`, `r`, its initials; the leaf or the path where alike."""
    leaves = {k: k.rsplit(".", 1)[-1] for k in keys}
    names = {k: _SHORT.get(leaf, "".join(w[0] for w in leaf.split("_") if w) if "_" in leaf else leaf)
             for k, leaf in leaves.items()}
    for fallback in (leaves, {k: k.removeprefix("stages.").replace(".", "_") for k in keys},
                     {k: f"p{i + 1}" for i, k in enumerate(keys)}):
        alike = {k for k in keys if list(names.values()).count(names[k]) > 1}
        names.update((k, fallback[k]) for k in alike)
    return {k: n + "_" if n[-1].isdigit() else n for k, n in names.items()}


def _value_parts(key: str, name: str, values: list[Any], problems: list[Problem]) -> list[str]:
    parts: list[str] = []
    for value in values:
        text = value_text(value)
        part = name + text if text[0].isdigit() else f"{name}_{text}"
        if part in parts:
            earlier = values[parts.index(part)]
            same = type(earlier) is type(value) and earlier == value
            problems.append(Problem(f"sweep.params.{key}", f"{describe(value)} is listed twice" if same else
                                    f"{describe(earlier)} and {describe(value)} would name their variants alike "
                                    f"({part}); make them differ in letters or digits"))
        parts.append(part)
    return parts


def value_text(value: Any) -> str:
    """A value as letters, digits, '-' and '_': 1e-4, 0p5, 8, cosine, m1 (for -1)."""
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, int | float):
        plain = repr(value).removesuffix(".0")
        sci = format(Decimal(repr(value)).normalize(), "e").replace("e+", "e").replace(".0e", "e")
        text = sci if len(sci) < len(plain) else plain
        return text.replace(".", "p").replace("-", "m", 1) if text.startswith("-") else text.replace(".", "p")
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return re.sub(r"[^A-Za-z0-9-]+", "_", text).strip("_") or "empty"


