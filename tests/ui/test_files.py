"""Paths inside the workdir only, and the end of a log as a person reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from swiftpipe.ui.files import OutsideWorkdir, inside, relative_href, tail_text


def test_inside_resolves_and_refuses_escapes(tmp_path: Path) -> None:
    (tmp_path / "w" / "logs").mkdir(parents=True)
    assert inside(tmp_path / "w", "logs/../logs/a.log") == (tmp_path / "w" / "logs" / "a.log").resolve()
    assert inside(tmp_path / "w", "") == (tmp_path / "w").resolve()
    for bad in ("../x", "logs/../../x", "/etc/passwd", "a\x00b"):
        with pytest.raises(OutsideWorkdir):
            inside(tmp_path / "w", bad)


def test_relative_href(tmp_path: Path) -> None:
    assert relative_href(tmp_path / "w", tmp_path / "w" / "sft" / "v0") == "/files/sft/v0"
    assert relative_href(tmp_path / "w", tmp_path / "elsewhere") is None


def test_the_tail_folds_progress_bars_and_starts_on_a_line(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text("first\nTrain: 10%\rTrain: 50%\rTrain: 100%\nlast\n")
    assert tail_text(log) == "first\nTrain: 100%\nlast\n"
    log.write_text("x" * 50 + "\nkept\n")
    assert tail_text(log, max_bytes=20) == "kept\n"
    assert tail_text(tmp_path / "absent.log") == ""
    log.write_text("2026-12-06 - evalscope - \x1b[32mINFO\x1b[0m: done\n")
    assert tail_text(log) == "2026-12-06 - evalscope - INFO: done\n"
