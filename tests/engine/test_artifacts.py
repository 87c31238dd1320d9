"""Artifacts: what a produced file or folder is recorded as, and when it no longer counts as there."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from swiftpipe.engine import artifacts
from swiftpipe.engine.artifacts import describe, missing, sha256_file, stale_reason
from swiftpipe.engine.manifest import Artifact


def test_a_file_is_recorded_by_size_and_sha256(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_bytes(b'{"a": 1}\n')
    digest = hashlib.sha256(b'{"a": 1}\n').hexdigest()
    assert sha256_file(path) == digest
    assert describe(path) == Artifact(str(path), "file", 9, digest)


def test_a_file_over_the_hash_limit_is_recorded_by_size_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(artifacts, "HASH_LIMIT", 4)
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"12345")
    assert describe(path) == Artifact(str(path), "file", 5, None)


def test_a_folder_is_recorded_by_total_size_and_file_count(tmp_path: Path) -> None:
    (tmp_path / "m" / "sub").mkdir(parents=True)
    (tmp_path / "m" / "config.json").write_bytes(b"{}")
    (tmp_path / "m" / "sub" / "weights.bin").write_bytes(b"abcde")
    assert describe(tmp_path / "m") == Artifact(str(tmp_path / "m"), "dir", 7, files=2)


def test_intact_artifacts_are_not_stale(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "w.bin").write_bytes(b"abc")
    (tmp_path / "f.txt").write_text("x")
    recorded = [describe(tmp_path / "m"), describe(tmp_path / "f.txt")]
    assert missing(recorded) is None and stale_reason(recorded) is None


def test_a_file_gone_or_resized_is_named(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_text("x")
    recorded = [describe(path)]
    path.write_text("xy")
    assert missing(recorded) == str(path)
    path.unlink()
    assert stale_reason(recorded) == f"{path} is missing or changed"


def test_a_folder_gone_or_with_other_files_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "w.bin").write_bytes(b"abc")
    recorded = [describe(folder)]
    (folder / "extra").write_bytes(b"")  # same size, one file more
    assert missing(recorded) == str(folder)
    (folder / "extra").unlink()
    (folder / "w.bin").write_bytes(b"abcd")
    assert missing(recorded) == str(folder)
    (folder / "w.bin").unlink()
    folder.rmdir()
    folder.write_text("now a file")
    assert stale_reason(recorded) == f"{folder} is missing or changed"
