from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from swiftpipe.core.errors import UserError
from swiftpipe.engine.manifest import Artifact, Manifest, load_manifest, manifest_path, save_manifest
from swiftpipe.engine.status import Status


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


def test_a_failed_write_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        save_manifest(Manifest(pipeline="p.yaml", workdir=str(tmp_path)), tmp_path)
    assert os.listdir(tmp_path) == []


def test_writes_never_go_through_a_name_planted_beside_the_file(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep me\n")
    for planted in ("manifest.json.tmp", f".manifest.json.{os.getpid()}.tmp"):
        (tmp_path / planted).symlink_to(victim)
    save_manifest(Manifest(pipeline="p.yaml", workdir=str(tmp_path)), tmp_path)
    assert victim.read_text() == "keep me\n" and load_manifest(tmp_path) is not None
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f".manifest.json.{os.getpid()}.tmp", "manifest.json", "manifest.json.tmp", "victim"])
    assert oct(manifest_path(tmp_path).stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize(
    ("stages", "message"),
    [
        ([], "stages: expected a mapping, got a list"),
        ({"sft": []}, "stages.sft: expected a mapping, got a list"),
        ({"sft": {"outputs": ["x"]}}, "stages.sft.outputs: expected a mapping, got a list"),
        ({"sft": {"exit_code": "1"}}, "stages.sft.exit_code: expected an integer or null, got a string"),
        ({"sft": {"attempts": [{"started": "t", "pid": 1}]}},
         "stages.sft.attempts[0].pid: unknown key (expected one of started, ended, status, exit_code)"),
        ({"sft": {"attempts": [{}]}}, "stages.sft.attempts[0].started: missing"),
        ({"sft": {"artifacts": [{"path": "/x", "kind": "file", "size": "big"}]}},
         "stages.sft.artifacts[0].size: expected an integer, got a string"),
    ],
)
def test_a_manifest_of_the_wrong_shape_is_one_line_naming_the_key(
    tmp_path: Path, stages: object, message: str
) -> None:
    path = manifest_path(tmp_path)
    path.write_text(json.dumps({"format": 1, "pipeline": "p.yaml", "workdir": str(tmp_path), "stages": stages}))
    with pytest.raises(UserError) as info:
        load_manifest(tmp_path)
    assert str(info.value) == f"{path} › {message}; fix it or move the file aside to start afresh"


def test_a_record_of_the_wrong_shape_is_left_out(tmp_path: Path) -> None:
    save_manifest(Manifest(pipeline="p.yaml", workdir=str(tmp_path)), tmp_path)
    (tmp_path / "records").mkdir()
    (tmp_path / "records" / "sft.json").write_text('{"outputs": []}')
    loaded = load_manifest(tmp_path)
    assert loaded is not None and loaded.stages == {}
