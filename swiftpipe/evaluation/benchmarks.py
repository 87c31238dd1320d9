"""CMMLU and C-Eval as users have them: the official CSV folders, read and converted.

evalscope 1.14 loads its `cmmlu` and `ceval` benchmarks with Hugging Face `datasets` and
wants its own layout (benchmarks/{cmmlu,ceval}/*_adapter.py):
- cmmlu: one `default` config, splits `test` (evaluated) and `dev` (few-shot), rows
  {question, choices: ["(A) ..", ..], answer: "(B)", category: <subject>}; 0-shot by default.
- ceval: one config per subject, splits `val` (evaluated) and `dev` (few-shot), rows
  {id, question, A, B, C, D, answer, explanation}; 5-shot by default. The prompt names the
  subject in Chinese from evalscope's own table, so only C-Eval's 52 subjects work.
Both need a README.md with a YAML `configs:` block. The official CSVs are instead
CMMLU's `data/{dev,test}/<subject>.csv` (`,Question,A,B,C,D,Answer`) and C-Eval's
`{val,dev,test}/<subject>_<split>.csv` (`id,question,A,B,C,D,answer,explanation`; test has
no answers). Given such a folder, evalscope fails deep inside (`KeyError: 'choices'`).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swiftpipe.core.errors import UserError
from swiftpipe.core.fsio import atomic_write_text

LETTERS = ("A", "B", "C", "D")
CEVAL_SUBJECTS = frozenset((
    "accountant", "advanced_mathematics", "art_studies", "basic_medicine", "business_administration",
    "chinese_language_and_literature", "civil_servant", "clinical_medicine", "college_chemistry",
    "college_economics", "college_physics", "college_programming", "computer_architecture", "computer_network",
    "discrete_mathematics", "education_science", "electrical_engineer",
    "environmental_impact_assessment_engineer", "fire_engineer", "high_school_biology",
    "high_school_chemistry", "high_school_chinese", "high_school_geography", "high_school_history",
    "high_school_mathematics", "high_school_physics", "high_school_politics",
    "ideological_and_moral_cultivation", "law", "legal_professional", "logic", "mao_zedong_thought", "marxism",
    "metrology_engineer", "middle_school_biology", "middle_school_chemistry", "middle_school_geography",
    "middle_school_history", "middle_school_mathematics", "middle_school_physics", "middle_school_politics",
    "modern_chinese_history", "operating_system", "physician", "plant_protection",
    "probability_and_statistics", "professional_tour_guide", "sports_science", "tax_accountant",
    "teacher_qualification", "urban_and_rural_planner", "veterinary_medicine",
))


@dataclass(frozen=True)
class Shape:
    """What evalscope's adapter for one benchmark reads and defaults to."""

    title: str
    eval_split: str
    few_shot_default: int


SHAPES = {"cmmlu": Shape("CMMLU", "test", 0), "ceval": Shape("C-Eval", "val", 5)}


@dataclass(frozen=True)
class Benchmark:
    """An official CSV folder: subject -> split -> rows (every value a string)."""

    name: str  # cmmlu | ceval
    source: Path
    rows: dict[str, dict[str, list[dict[str, str]]]]

    @property
    def shape(self) -> Shape:
        return SHAPES[self.name]

    def counts(self) -> dict[str, dict[str, int]]:
        return {s: {split: len(r) for split, r in splits.items()} for s, splits in self.rows.items()}

    def subjects(self) -> list[str]:
        return sorted(s for s, splits in self.rows.items() if self.shape.eval_split in splits)


def csv_root(name: str, path: Path) -> Path | None:
    """The folder of official CSVs under `path` for cmmlu/ceval, or None (any other layout)."""
    if name == "cmmlu":
        for root in (path / "data", path):
            if any(True for split in ("test", "dev") for _ in (root / split).glob("*.csv")):
                return root
    if name == "ceval" and any(True for split in ("val", "dev", "test") for _ in (path / split).glob(f"*_{split}.csv")):
        return path
    return None


def read(name: str, root: Path, where: str) -> Benchmark:
    """Every subject's rows; a malformed file is one line naming the file and the row."""
    rows: dict[str, dict[str, list[dict[str, str]]]] = {}
    for split in ("test", "val", "dev"):
        for path in sorted((root / split).glob("*.csv")):
            subject = path.stem.removesuffix(f"_{split}") if name == "ceval" else path.stem
            if name == "ceval" and split == "test":
                continue  # C-Eval's test split has no answers; evalscope scores val
            rows.setdefault(subject, {})[split] = _rows(name, path, where)
    return Benchmark(name, root, rows)


def _rows(name: str, path: Path, where: str) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            table = list(csv.reader(fh))
    except UnicodeDecodeError as exc:
        raise UserError(f"{where}: {path} is not UTF-8 text (byte {exc.start}), save it as UTF-8") from None
    header = [h.strip() for h in table[0]] if table else []
    want = ["Question", *LETTERS, "Answer"] if name == "cmmlu" else ["question", *LETTERS, "answer"]
    missing = [c for c in want if c not in header]
    if missing:
        raise UserError(f"{where}: {path} has no column {missing[0]} (header: {','.join(header)}), "
                        f"expected the official {SHAPES[name].title} columns {','.join(want)}")
    out = []
    for n, cells in enumerate(table[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        row = {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(header)}
        answer = row[want[-1]].strip().upper()
        if answer not in LETTERS:
            raise UserError(f"{where}: {path} row {n}: answer {row[want[-1]]!r} is not one of A, B, C, D, "
                            "fix that row or remove it")
        out.append({"question": row[want[0]], **{k: row[k] for k in LETTERS}, "answer": answer,
                    "id": row.get("id") or str(n - 2), "explanation": row.get("explanation") or ""})
    return out


def check(bench: Benchmark, args: dict[str, Any], where: str, head: str | None = None) -> list[str]:
    """The subjects to evaluate; a subject that is missing or lacks few-shot rows is one line.
    `where` is the dataset's key path, `head` what the message starts with (the key by default)."""
    shape, where, key = bench.shape, head or where, where
    found = bench.subjects()
    if not found:
        raise UserError(f"{where}: {bench.source} holds no {shape.eval_split} CSV, add {shape.eval_split}/ "
                        f"(the split {shape.title} is scored on)")
    asked = [str(s) for s in args.get("subset_list") or found]
    for subject in asked:
        if subject not in found:
            raise UserError(f"{where}.subset_list: {subject} has no {shape.eval_split} rows in {bench.source} "
                            f"(found: {', '.join(found)}), remove it from subset_list")
        if bench.name == "ceval" and subject not in CEVAL_SUBJECTS:
            raise UserError(f"{where}: {subject} is not a C-Eval subject (evalscope's ceval prompt names only "
                            "C-Eval's 52 subjects), rename the files or evaluate them as general_mcq")
    shots = int(args.get("few_shot_num", shape.few_shot_default))
    default = f" ({shape.title}'s default)" if "few_shot_num" not in args else ""
    for subject in asked if shots > 0 else []:
        have = len(bench.rows[subject].get("dev", []))
        if have < shots:
            file = f"dev/{subject}.csv" if bench.name == "cmmlu" else f"dev/{subject}_dev.csv"
            raise UserError(f"{where}: few_shot_num is {shots}{default} but {subject} has {have} dev rows in "
                            f"{bench.source}, add {file} with at least {shots} rows or set "
                            f"{key}.few_shot_num: 0")
    return asked


def convert(bench: Benchmark, out: Path) -> list[Path]:
    """Write the layout evalscope reads into `out`; the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    configs: list[tuple[str, list[tuple[str, str]]]] = []
    if bench.name == "cmmlu":
        splits = []
        for split in ("test", "dev"):
            rows = [_cmmlu_row(r, s) for s, by in sorted(bench.rows.items()) for r in by.get(split, [])]
            if rows:
                written.append(_jsonl(out / f"{split}.jsonl", rows))
                splits.append((split, f"{split}.jsonl"))
        configs.append(("default", splits))
    else:
        for subject, by in sorted(bench.rows.items()):
            files = []
            for split, rows in sorted(by.items()):
                written.append(_jsonl(out / subject / f"{split}.jsonl", rows))
                files.append((split, f"{subject}/{split}.jsonl"))
            configs.append((subject, files))
    atomic_write_text(out / "README.md", _readme(bench, configs))
    return [*written, out / "README.md"]


def _cmmlu_row(row: dict[str, str], subject: str) -> dict[str, Any]:
    choices = [f"({k}) {row[k]}" for k in LETTERS]
    return {"question": row["question"], "choices": choices, "answer": f"({row['answer']})", "category": subject}


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return path


def _readme(bench: Benchmark, configs: list[tuple[str, list[tuple[str, str]]]]) -> str:
    lines = ["---", "configs:"]
    for name, files in configs:
        lines += [f"- config_name: {name}", "  data_files:"]
        lines += [f"  - split: {split}\n    path: {path}" for split, path in files]
    lines += ["---", "", f"Converted by swiftpipe from the {bench.shape.title} CSV folder {bench.source}.", ""]
    return "\n".join(lines)


@dataclass(frozen=True)
class Conversion:
    """One dataset whose official CSV folder is converted under the stage folder before launch."""

    dataset: str
    bench: Benchmark
    target: Path
    subjects: list[str]

    def note(self) -> str:
        return (f"{self.dataset}: the {self.bench.shape.title} CSV folder {self.bench.source} is converted to "
                f"{self.target} ({len(self.subjects)} subject{'' if len(self.subjects) == 1 else 's'}: "
                f"{', '.join(self.subjects)})")

    def outputs(self) -> dict[str, Any]:
        return {"source": str(self.bench.source), "converted": str(self.target), "subjects": self.subjects,
                "rows": self.bench.counts()}


def prepare(datasets: dict[str, dict[str, Any]], stage_dir: Path, where: str, shown: str) -> tuple[
        dict[str, dict[str, Any]], list[Conversion]]:
    """The datasets as evalscope will get them (converted folders, their subjects) and the
    conversions to do; reads the CSVs and checks few-shot rows, writes nothing."""
    out: dict[str, dict[str, Any]] = {}
    conversions = []
    for name, args in datasets.items():
        root = csv_root(name, Path(args["local_path"])) if name in SHAPES and "local_path" in args else None
        if root is None:
            out[name] = args
            continue
        key = f"{where}.datasets.{name}"
        bench = read(name, root, f"{shown} › {key}")
        subjects = check(bench, args, key, f"{shown} › {key}")
        target = stage_dir / "benchmarks" / name
        out[name] = {**args, "local_path": str(target), "subset_list": subjects}
        conversions.append(Conversion(name, bench, target, subjects))
    return out, conversions
