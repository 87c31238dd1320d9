"""Stages read the files they name, on a machine whose caches are warm.

Two CMMLU folders with the same subject and different rows are evaluated one after the
other by the real evalscope (two pipelines, two workdirs, one tiny-model server), then the
first folder's rows are changed behind the same file name and it is evaluated again. Each
report must score its own questions: the `datasets` cache that evalscope loads through keys
a local folder by its name and layout, so without a cache of the stage's own the second
folder would be scored on the first one's rows. The user's home cache is kept as it was.

`swift sft` keeps its own `datasets` cache of each training file (under MODELSCOPE_CACHE),
keyed by the file's path and modification time: training rows rewritten behind the same
name are the ones the next run trains on.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from swiftpipe.commands.run import run
from swiftpipe.commands.stop import stop
from swiftpipe.core import host
from swiftpipe.engine.manifest import load_manifest
from swiftpipe.engine.select import Selection
from swiftpipe.evaluation.evalreport import read_report
from tests.integration.tiny import swiftpipe, write_sft_pipeline, write_train

pytestmark = pytest.mark.integration

VENV = Path(sys.executable).parent.parent
EVAL = """
    venv: {venv}
    datasets:
      cmmlu: {{local_path: {folder}, subset_list: [agronomy], few_shot_num: 0}}
    limit: 100
    batch_size: 4
    generation_config: {{temperature: 0, max_tokens: 4, timeout: 60, retries: 1}}
"""
QUESTION = re.compile(r"[a-z]+ question \d+")
TRAINED = re.compile(r"\[INFO:swift\] Dataset Token Length: .*, size=(\d+)")


def cmmlu_folder(root: Path, tag: str, n: int) -> Path:
    """An official CMMLU folder: test/agronomy.csv with `n` questions that name `tag`."""
    (root / "test").mkdir(parents=True, exist_ok=True)
    rows = [f"{i},{tag} question {i}?,one,two,three,four,{'ABCD'[i % 4]}" for i in range(n)]
    (root / "test" / "agronomy.csv").write_text("\n".join([",Question,A,B,C,D,Answer", *rows]) + "\n")
    return root


def scored(workdir: Path) -> tuple[int | None, list[str]]:
    """(agronomy's count in the cmmlu report, the questions evalscope asked) of a workdir's eval."""
    record = load_manifest(workdir)
    assert record is not None and str(record.stages["eval"].status) == "succeeded"
    found = workdir / "eval" / "finetuned"
    report = read_report(found / "reports" / "tiny" / "cmmlu.json")
    asked = (found / "predictions" / "tiny" / "cmmlu_agronomy.jsonl").read_text(encoding="utf-8")
    return report.counts.get("agronomy"), sorted(set(QUESTION.findall(asked)))


def test_two_cmmlu_folders_and_a_changed_folder_each_score_their_own_rows(
    tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home-cache"  # the user's own cache, warmed by every evaluation before ours
    (home / "datasets").mkdir(parents=True)
    (home / "datasets" / "kept.txt").write_text("the user's")
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.delenv("HF_DATASETS_CACHE", raising=False)
    port = host.free_port()
    first, second = tmp_path / "a" / "pipeline.yaml", tmp_path / "b" / "pipeline.yaml"
    folder_a = cmmlu_folder(tmp_path / "a" / "cmmlu", "alpha", 7)
    folder_b = cmmlu_folder(tmp_path / "b" / "cmmlu", "beta", 3)
    first.write_text(f"""
name: a
model: {tiny_model}
model_type: qwen3
template: qwen3
stages:
  deploy:
    backend: transformers
    port: {port}
    served_model_name: tiny
    ready_timeout: 120
    venv: {VENV}
    args: {{model_type: qwen3, template: qwen3}}
  eval:{EVAL.format(venv=VENV, folder=folder_a)}""")
    second.write_text(f"""
name: b
model: {tiny_model}
stages:
  eval:
    api_url: http://127.0.0.1:{port}/v1
    served_model_name: tiny{EVAL.format(venv=VENV, folder=folder_b)}""")
    try:
        assert run(first, overrides=[], selection=Selection(), keep_serving=True) == 0
        assert scored(tmp_path / "a" / "runs" / "a") == (7, [f"alpha question {i}" for i in range(7)])
        assert run(second, overrides=[], selection=Selection(), keep_serving=False) == 0
        assert scored(tmp_path / "b" / "runs" / "b") == (3, [f"beta question {i}" for i in range(3)])
        cmmlu_folder(folder_a, "gamma", 5)  # new rows behind the same file name
        assert run(first, overrides=[], selection=Selection(), keep_serving=False) == 0
        assert scored(tmp_path / "a" / "runs" / "a") == (5, [f"gamma question {i}" for i in range(5)])
    finally:
        stop(first, overrides=[])
    assert (home / "datasets" / "kept.txt").read_text() == "the user's"
    assert sorted(p.name for p in (home / "datasets").iterdir()) == ["kept.txt"]


def test_training_rows_changed_behind_the_same_name_are_the_ones_swift_trains_on(
    tmp_path: Path, tiny_model: Path
) -> None:
    cache = {"MODELSCOPE_CACHE": str(tmp_path / "modelscope")}  # swift's dataset cache, warmed by run one
    write_sft_pipeline(tmp_path, tiny_model, {
        "max_steps": 1, "save_steps": 1, "torch_dtype": "float32", "report_to": "none", "dataloader_num_workers": 0})
    loaded = []
    for rows in (16, 12):
        write_train(tmp_path / "train.jsonl", rows)
        done = swiftpipe("run", "pipeline.yaml", cwd=tmp_path, env=cache)
        assert done.returncode == 0, done.stderr[-3000:]
        log = (tmp_path / "runs" / "it" / "logs" / "sft.log").read_text()
        loaded.append(int(TRAINED.findall(log)[-1]))  # what swift loaded, in its own words
    assert loaded == [16, 12]
    assert any((tmp_path / "modelscope" / "datasets").iterdir())  # the cache was there to be stale
