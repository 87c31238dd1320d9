from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from swiftpipe.engine.manifest import Artifact, Manifest, load_manifest, manifest_path, save_manifest
from swiftpipe.engine.status import Status
from swiftpipe.errors import UserError


def test_round_trip(tmp_path: Path) -> None:
    m = Manifest(pipeline="p.yaml", workdir=str(tmp_path))
    rec = m.stage("sft")
    rec.status = Status.SUCCEEDED
    rec.artifacts.append(Artifact("/x", "file", 3, "abc"))
    save_manifest(m, tmp_path)
    again = load_manifest(tmp_path)
    assert again is not None
    assert again.stages["sft"].status == "succeeded"
    assert again.stages["sft"].artifacts == [Artifact("/x", "file", 3, "abc")]


def test_a_failed_write_leaves_the_previous_manifest_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = Manifest(pipeline="p.yaml", workdir=str(tmp_path))
    m.stage("sft").status = Status.SUCCEEDED
    save_manifest(m, tmp_path)
    before = manifest_path(tmp_path).read_text()

    def crash(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    m.stage("sft").status = Status.FAILED
    with pytest.raises(OSError):
        save_manifest(m, tmp_path)
    assert manifest_path(tmp_path).read_text() == before
    assert json.loads(before)["stages"]["sft"]["status"] == "succeeded"


def test_missing_manifest_is_none(tmp_path: Path) -> None:
    assert load_manifest(tmp_path) is None


def test_corrupt_manifest_is_a_user_error(tmp_path: Path) -> None:
    manifest_path(tmp_path).write_text("{not json")
    with pytest.raises(UserError) as info:
        load_manifest(tmp_path)
    assert str(info.value).startswith(f"{manifest_path(tmp_path)}: unreadable manifest (")
    assert str(info.value).endswith("); move it aside to start afresh")
