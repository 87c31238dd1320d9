"""The one atomic writer, the create-only writer, move_aside and a log's tail."""

from __future__ import annotations

import os
import types
from pathlib import Path

import pytest

from swiftpipe.core import fsio

STAMP = "20260102-030405"


def test_atomic_write_replaces_a_symlink_instead_of_writing_through_it(tmp_path: Path) -> None:
    users = tmp_path / "users-file.txt"
    users.write_text("the user's own")
    link = tmp_path / "manifest.json"
    link.symlink_to(users)
    fsio.atomic_write_text(link, "ours")
    assert not link.is_symlink() and link.read_text() == "ours"
    assert users.read_text() == "the user's own"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json", "users-file.txt"]  # no temp left


def test_atomic_write_creates_missing_folders_and_replaces_the_old_content(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "state.json"
    fsio.atomic_write_text(path, "one")
    fsio.atomic_write_text(path, "twö")
    assert path.read_bytes() == "twö".encode()
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]


def test_write_new_text_refuses_a_name_that_is_taken(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text("old")
    with pytest.raises(FileExistsError):
        fsio.write_new_text(path, "new")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_write_new_text_refuses_a_dangling_symlink_and_creates_nothing_at_its_target(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.txt"
    link = tmp_path / "run.json"
    link.symlink_to(target)
    with pytest.raises(FileExistsError):
        fsio.write_new_text(link, "new")
    assert not target.exists() and link.is_symlink()


def test_write_new_text_creates_the_file(tmp_path: Path) -> None:
    fsio.write_new_text(tmp_path / "run.json", "new")
    assert (tmp_path / "run.json").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every move_aside happens within the same second, STAMP; clock ticks count 1, 2, ..."""
    ticks = iter(range(1, 100))
    clock = types.SimpleNamespace(strftime=lambda fmt: STAMP, monotonic_ns=lambda: next(ticks))
    monkeypatch.setattr(fsio, "time", clock)


@pytest.mark.usefixtures("frozen_clock")
def test_two_moves_in_one_second_get_two_names_and_overwrite_nothing(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    path.write_text("first")
    first = fsio.move_aside(path)
    path.write_text("second")
    second = fsio.move_aside(path)
    assert first == tmp_path / f"results.jsonl.stale-{STAMP}"
    assert second == tmp_path / f"results.jsonl.stale-{STAMP}-{os.getpid()}-1"
    assert (first.read_text(), second.read_text()) == ("first", "second")
    assert not path.exists()


@pytest.mark.usefixtures("frozen_clock")
def test_keep_suffix_keeps_the_extension_last(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    path.write_text("first")
    assert fsio.move_aside(path, keep_suffix=True) == tmp_path / f"results.stale-{STAMP}.jsonl"
    path.write_text("second")
    assert fsio.move_aside(path, keep_suffix=True) == tmp_path / f"results.stale-{STAMP}-{os.getpid()}-1.jsonl"


@pytest.mark.usefixtures("frozen_clock")
def test_move_aside_moves_folders_and_dangling_links_and_nothing_when_nothing_is_there(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "f").write_text("x")
    assert fsio.move_aside(tmp_path / "out") == tmp_path / f"out.stale-{STAMP}"
    assert (tmp_path / f"out.stale-{STAMP}" / "f").read_text() == "x"
    (tmp_path / "link").symlink_to(tmp_path / "gone")
    assert fsio.move_aside(tmp_path / "link") == tmp_path / f"link.stale-{STAMP}"
    assert fsio.move_aside(tmp_path / "never") is None


def test_tail_splits_progress_lines_and_drops_blank_ones(tmp_path: Path) -> None:
    log = tmp_path / "sft.log"
    log.write_bytes(b"start\nTrain:  10%\rTrain:  50%\rTrain: 100%\n\n   \nError: out of memory\n")
    assert fsio.tail(log, 3) == "Train:  50%\nTrain: 100%\nError: out of memory"
    assert fsio.tail(log) == "start\nTrain:  10%\nTrain:  50%\nTrain: 100%\nError: out of memory"


def test_tail_reads_only_the_end_of_a_long_log_and_nothing_of_a_missing_one(tmp_path: Path) -> None:
    log = tmp_path / "sft.log"
    log.write_bytes(b"early line\n" + b"x" * 20000 + b"\nlast\n")
    assert fsio.tail(log, 5) == "x" * (16384 - len(b"\nlast\n")) + "\nlast"
    assert fsio.tail(tmp_path / "missing.log") == ""


def test_last_error_finds_the_failing_ranks_exception_above_torchruns_summary(tmp_path: Path) -> None:
    log = tmp_path / "pt.log"
    log.write_text(
        "[rank1]: Traceback (most recent call last):\n"
        "[rank1]:   File \"io_utils.py\", line 137, in update_last_checkpoint_symlink\n"
        "[rank1]: FileNotFoundError: [Errno 2] No such file or directory: 'last-checkpoint.tmp'\n"
        "Train: 100%|##########| 2/2\n"
        + "padding line\n" * 40 +
        "torch.distributed.elastic.multiprocessing.errors.ChildFailedError: \n"
        "============================================================\n"
        "  exitcode  : 1 (pid: 29507)\n")
    assert fsio.last_error(log) == ("[rank1]: FileNotFoundError: [Errno 2] No such file or directory: "
                                    "'last-checkpoint.tmp'")
    assert "FileNotFoundError" not in fsio.tail(log)


def test_last_error_is_empty_without_an_exception_or_a_log(tmp_path: Path) -> None:
    log = tmp_path / "ok.log"
    log.write_text("Error rate: 0.1\nValueErrors counted: 3\nKeyError\n")
    assert fsio.last_error(log) == "KeyError"
    log.write_text("loss 6.5\nErrors: none\n")
    assert fsio.last_error(log) == ""
    assert fsio.last_error(tmp_path / "missing.log") == ""
