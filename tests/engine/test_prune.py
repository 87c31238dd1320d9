"""What removing experiments frees: plan_prune over workdirs built by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from swiftpipe.engine.experiments import Experiment, StageRun
from swiftpipe.engine.prune import human, plan_prune, size


def exp(ident: str, **outputs: object) -> Experiment:
    return Experiment(id=ident, started="s", ended="e", outcome="succeeded", pipeline="/p",
                      stages={"sft": StageRun("sft", "succeeded", outputs=dict(outputs))})


def folder(path: Path, nbytes: int = 10) -> str:
    path.mkdir(parents=True)
    (path / "f").write_bytes(b"x" * nbytes)
    return str(path)


@pytest.mark.parametrize(("count", "text"), [(0, "0 B"), (1023, "1023 B"), (1536, "1.5 KiB"),
                                             (5 * 1024**2, "5.0 MiB"), (3 * 1024**4, "3072.0 GiB")])
def test_human(count: int, text: str) -> None:
    assert human(count) == text


def test_a_path_holding_one_in_use_is_kept(tmp_path: Path) -> None:
    run = folder(tmp_path / "sft" / "v0")
    inner = folder(tmp_path / "sft" / "v0" / "checkpoint-1")
    prune = plan_prune(tmp_path, [exp("a", run_dir=run)], [exp("b", best_checkpoint=inner)], None)
    assert (prune.paths, prune.kept) == ({}, {Path(run): "b uses it"})


def test_nothing_outside_the_workdir_nor_the_workdir_nor_its_records(tmp_path: Path) -> None:
    work = tmp_path / "w"
    outside = folder(tmp_path / "model")
    records = folder(work / "experiments")
    gone = str(work / "sft" / "missing")
    prune = plan_prune(work, [exp("a", model_dir=outside, work_dir=str(work), r=records, x=gone, n="general_mcq")],
                       [], None)
    assert (prune.paths, prune.kept) == ({}, {})


def test_only_the_outermost_paths_with_their_sizes(tmp_path: Path) -> None:
    run = folder(tmp_path / "sft" / "v0", 100)
    ckpt = folder(tmp_path / "sft" / "v0" / "checkpoint-1", 1000)
    merged = folder(tmp_path / "export" / "merged", 7)
    prune = plan_prune(tmp_path, [exp("a", run_dir=run, last_checkpoint=ckpt, scores={"paths": [merged]})], [], None)
    assert (prune.paths, prune.freed) == ({Path(merged): 7, Path(run): 1100}, 1107)


def test_size_counts_a_link_not_its_target(tmp_path: Path) -> None:
    target = folder(tmp_path / "big", 5000)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "to-big").symlink_to(target)
    assert size(tmp_path / "d") == len(target)


def test_what_a_later_run_moved_aside_is_freed_with_the_experiment_that_made_it(tmp_path: Path) -> None:
    current = folder(tmp_path / "eval" / "finetuned", 5)
    aside = folder(tmp_path / "eval.stale-20261206-100005" / "finetuned", 30)
    first = Experiment(id="a", started="2026-12-06T10:00:00.000+0000", ended="2026-12-06T10:00:02.500+0000",
                       outcome="succeeded", pipeline="/p",
                       stages={"eval": StageRun("eval", "succeeded", outputs={"work_dir": current})})
    second = Experiment(id="b", started="2026-12-06T10:00:04.000+0000", ended="2026-12-06T10:00:09.000+0000",
                        outcome="succeeded", pipeline="/p",
                        stages={"eval": StageRun("eval", "succeeded", outputs={"work_dir": current})})
    prune = plan_prune(tmp_path, [first], [second], None)
    assert (prune.paths, prune.kept) == ({Path(aside): 30}, {})
    # the other way round, `a`'s files are the moved-aside ones, so the current folder is `b`'s alone
    assert plan_prune(tmp_path, [second], [first], None).paths == {Path(current): 5}
