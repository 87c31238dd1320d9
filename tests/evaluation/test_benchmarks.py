"""The official CMMLU and C-Eval CSV folders: found, checked and converted for evalscope."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from swiftpipe.core.errors import UserError
from swiftpipe.evaluation import benchmarks

REPO = Path(__file__).parent.parent.parent
CMMLU = REPO / "datasets" / "eval" / "cmmlu-sample"
CEVAL = REPO / "datasets" / "eval" / "ceval-sample"


def ceval_folder(root: Path, dev_rows: int = 5, subject: str = "logic") -> Path:
    for split, n in (("val", 2), ("dev", dev_rows)):
        (root / split).mkdir(parents=True, exist_ok=True)
        rows = "".join(f"{i},q{i},1,2,3,4,B,\n" for i in range(n))
        (root / split / f"{subject}_{split}.csv").write_text("id,question,A,B,C,D,answer,explanation\n" + rows)
    return root


def test_the_sample_folders_are_found_and_read() -> None:
    cmmlu = benchmarks.read("cmmlu", benchmarks.csv_root("cmmlu", CMMLU) or CMMLU, "w")
    assert cmmlu.source == CMMLU / "data"
    assert cmmlu.counts() == {s: {"test": 10, "dev": 5} for s in
                              ("chinese_food_culture", "computer_science", "elementary_mathematics")}
    ceval = benchmarks.read("ceval", benchmarks.csv_root("ceval", CEVAL) or CEVAL, "w")
    assert ceval.counts() == {s: {"val": 10, "dev": 5} for s in
                              ("computer_network", "high_school_mathematics", "logic")}  # test: no answers
    assert benchmarks.csv_root("cmmlu", CMMLU / "data") == CMMLU / "data"
    assert benchmarks.csv_root("ceval", CMMLU) is None
    assert benchmarks.csv_root("general_mcq", CMMLU) is None


def test_cmmlu_is_written_as_evalscope_reads_it(tmp_path: Path) -> None:
    bench = benchmarks.read("cmmlu", CMMLU / "data", "w")
    written = benchmarks.convert(bench, tmp_path / "out")
    assert [p.name for p in written] == ["test.jsonl", "dev.jsonl", "README.md"]
    first = json.loads((tmp_path / "out" / "test.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert set(first) == {"question", "choices", "answer", "category"}
    assert first["category"] == "chinese_food_culture"
    assert [c[:4] for c in first["choices"]] == ["(A) ", "(B) ", "(C) ", "(D) "] and first["answer"] in (
        "(A)", "(B)", "(C)", "(D)")
    assert (tmp_path / "out" / "README.md").read_text().startswith(
        "---\nconfigs:\n- config_name: default\n  data_files:\n  - split: test\n    path: test.jsonl\n"
        "  - split: dev\n    path: dev.jsonl\n---\n")


def test_ceval_gets_one_config_per_subject(tmp_path: Path) -> None:
    bench = benchmarks.read("ceval", ceval_folder(tmp_path / "src"), "w")
    benchmarks.convert(bench, tmp_path / "out")
    assert (tmp_path / "out" / "README.md").read_text().startswith(
        "---\nconfigs:\n- config_name: logic\n  data_files:\n  - split: dev\n    path: logic/dev.jsonl\n"
        "  - split: val\n    path: logic/val.jsonl\n---\n")
    row = json.loads((tmp_path / "out" / "logic" / "val.jsonl").read_text().splitlines()[0])
    assert row == {"question": "q0", "A": "1", "B": "2", "C": "3", "D": "4", "answer": "B", "id": "0",
                   "explanation": ""}  # every value a string: numeric options stay text


def test_ceval_five_shot_needs_five_dev_rows_per_subject(tmp_path: Path) -> None:
    bench = benchmarks.read("ceval", ceval_folder(tmp_path, dev_rows=3), "stages.eval.datasets.ceval")
    with pytest.raises(UserError) as err:
        benchmarks.check(bench, {}, "stages.eval.datasets.ceval")
    assert str(err.value) == (
        f"stages.eval.datasets.ceval: few_shot_num is 5 (C-Eval's default) but logic has 3 dev rows in {tmp_path}, "
        "add dev/logic_dev.csv with at least 5 rows or set stages.eval.datasets.ceval.few_shot_num: 0")
    assert benchmarks.check(bench, {"few_shot_num": 3}, "w") == ["logic"]
    assert benchmarks.check(bench, {"few_shot_num": 0}, "w") == ["logic"]


def test_a_missing_dev_split_with_few_shot_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "data" / "test").mkdir(parents=True)
    (tmp_path / "data" / "test" / "arts.csv").write_text(",Question,A,B,C,D,Answer\n0,q,a,b,c,d,A\n")
    bench = benchmarks.read("cmmlu", tmp_path / "data", "w")
    assert benchmarks.check(bench, {}, "w") == ["arts"]  # CMMLU is 0-shot by default
    with pytest.raises(UserError) as err:
        benchmarks.check(bench, {"few_shot_num": 2}, "w")
    assert str(err.value) == (f"w: few_shot_num is 2 but arts has 0 dev rows in {tmp_path / 'data'}, "
                              "add dev/arts.csv with at least 2 rows or set w.few_shot_num: 0")


def test_subjects_are_checked(tmp_path: Path) -> None:
    bench = benchmarks.read("ceval", ceval_folder(tmp_path / "a"), "w")
    with pytest.raises(UserError) as err:
        benchmarks.check(bench, {"subset_list": ["law"]}, "w")
    assert str(err.value) == (f"w.subset_list: law has no val rows in {tmp_path / 'a'} (found: logic), "
                              "remove it from subset_list")
    odd = benchmarks.read("ceval", ceval_folder(tmp_path / "b", subject="cooking"), "w")
    with pytest.raises(UserError) as err:
        benchmarks.check(odd, {}, "w")
    assert str(err.value) == ("w: cooking is not a C-Eval subject (evalscope's ceval prompt names only C-Eval's 52 "
                              "subjects), rename the files or evaluate them as general_mcq")


def test_malformed_csvs_name_the_file_and_row(tmp_path: Path) -> None:
    (tmp_path / "test").mkdir()
    bad = tmp_path / "test" / "arts.csv"
    bad.write_text(",Question,A,B,C,D,Answer\n0,q,a,b,c,d,E\n")
    with pytest.raises(UserError) as err:
        benchmarks.read("cmmlu", tmp_path, "w")
    assert str(err.value) == f"w: {bad} row 2: answer 'E' is not one of A, B, C, D, fix that row or remove it"
    bad.write_bytes(b",Question,A,B,C,D,Answer\n0," + "问".encode("gbk") + b",a,b,c,d,A\n")
    with pytest.raises(UserError) as err:
        benchmarks.read("cmmlu", tmp_path, "w")
    assert str(err.value) == f"w: {bad} is not UTF-8 text (byte 27), save it as UTF-8"
    bad.write_text("Question,A,B,C,Answer\n")
    with pytest.raises(UserError) as err:
        benchmarks.read("cmmlu", tmp_path, "w")
    assert str(err.value) == (f"w: {bad} has no column D (header: Question,A,B,C,Answer), expected the official "
                              "CMMLU columns Question,A,B,C,D,Answer")


def test_prepare_points_evalscope_at_the_converted_folder(tmp_path: Path) -> None:
    given: dict[str, dict[str, Any]] = {"cmmlu": {"local_path": str(CMMLU), "few_shot_num": 1},
                                        "general_mcq": {"local_path": "x"}}
    sent, conversions = benchmarks.prepare(given, tmp_path / "eval", "stages.eval", "p")
    assert sent["general_mcq"] == {"local_path": "x"}
    assert sent["cmmlu"] == {"local_path": str(tmp_path / "eval" / "benchmarks" / "cmmlu"), "few_shot_num": 1,
                             "subset_list": ["chinese_food_culture", "computer_science", "elementary_mathematics"]}
    assert [c.dataset for c in conversions] == ["cmmlu"]
    assert not (tmp_path / "eval").exists()  # planning writes nothing


def test_a_prompt_longer_than_the_served_model_is_noticed(tmp_path: Path) -> None:
    from swiftpipe.evaluation import context

    model = REPO / "models" / "tiny-qwen3"
    if not (model / "tokenizer.json").is_file():
        pytest.skip("the tiny model is not built")
    _, conversions = benchmarks.prepare({"ceval": {"local_path": str(CEVAL)}}, tmp_path, "stages.eval", "p")
    subject, tokens = context.longest_prompt(conversions[0], 5, lambda t: t)  # counted in characters
    assert subject in ("computer_network", "high_school_mathematics", "logic") and tokens > 400
    assert context.overflow(conversions, {"ceval": {}}, 16, model, "stages.eval") == []
    [note] = context.overflow(conversions, {"ceval": {}}, 1500, model, "stages.eval")
    assert note.startswith("stages.eval.datasets.ceval: the 5-shot prompt for ")
    assert note.endswith("tokens; with max_tokens 1500 it exceeds the served model's 2048 positions (config.json "
                         "max_position_embeddings), lower few_shot_num or max_tokens")
    assert context.overflow(conversions, {"ceval": {}}, 1500, tmp_path, "stages.eval") == []  # no config.json
