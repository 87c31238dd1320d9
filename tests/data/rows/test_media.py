"""Media paths stay inside the dataset's folder (or `media_root`); NUL characters are rejected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from swiftpipe.core.errors import UserError
from swiftpipe.kinds.data import DataStage
from swiftpipe.loading import load_pipeline
from tests.conftest import stage_context
from tests.data.test_shapes import Write, convert, only_reject, only_row, rows

ROW = {"messages": [{"role": "user", "content": "<image>What is this?"}, {"role": "assistant", "content": "A fern."}]}


def outside(ref: str, root: Path) -> tuple[str, str]:
    return ("media_outside", f"'images' item 0: {ref} lies outside {root}; keep media files under the dataset's "
                             "folder or set the data option media_root")


@pytest.mark.parametrize("ref", ["../../../../etc/passwd", "/etc/shadow", "~/.bashrc", "/proc/self/environ",
                                 "link.png", "img/../../x.png"])
def test_a_path_outside_the_dataset_folder_is_rejected(tmp_path: Path, write_jsonl: Write, ref: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "link.png").symlink_to("/etc/passwd")
    (tmp_path / "x.png").write_bytes(b"\x89PNG")
    result = convert(tmp_path, write_jsonl([{**ROW, "images": [ref]}], "data/in.jsonl"))
    assert result.rejected == 1
    reject = rows(tmp_path / "rej.jsonl")[0]
    assert (reject["reason"], reject["message"]) == outside(ref, data.resolve())


def test_media_root_allows_a_wider_folder(tmp_path: Path, write_jsonl: Write) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "fern.png").write_bytes(b"\x89PNG")
    (tmp_path / "data").mkdir()

    def write(rows: list[Any]) -> Path:
        return write_jsonl(rows, "data/in.jsonl")

    row = {**ROW, "images": ["../shared/fern.png"]}
    assert only_reject(tmp_path, write, row) == outside("../shared/fern.png", tmp_path / "data")
    out = only_row(tmp_path, write, row, media_root=tmp_path / "shared")
    assert out["images"] == [str(tmp_path / "data" / "../shared/fern.png")]
    assert only_reject(tmp_path, write, {**ROW, "images": ["/etc/passwd"]}, media_root=tmp_path / "shared") \
        == outside("/etc/passwd", tmp_path / "shared")


def test_a_symlink_inside_the_folder_to_a_file_inside_is_kept(tmp_path: Path, write_jsonl: Write) -> None:
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "fern.png").write_bytes(b"\x89PNG")
    (tmp_path / "alias.png").symlink_to(tmp_path / "img" / "fern.png")
    assert only_row(tmp_path, write_jsonl, {**ROW, "images": ["alias.png"]})["images"] == [str(tmp_path / "alias.png")]


def test_nul_characters_are_rejected_per_row(tmp_path: Path, write_jsonl: Write) -> None:
    nul = {"messages": [{"role": "user", "content": "hi\u0000"}, {"role": "assistant", "content": "ok"}]}
    key = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok"}], "x\u0000": 1}
    escaped = {"messages": [{"role": "user", "content": "C:\\u0000"}, {"role": "assistant", "content": "ok"}]}
    result = convert(tmp_path, write_jsonl([nul, key, escaped, json.dumps(nul)[:-1] + ', "k": "\\\\"}']))
    got = [(r["line"], r["reason"], r["message"]) for r in rows(tmp_path / "rej.jsonl")]
    message = "a string holds a NUL character (U+0000); remove it"
    assert got == [(1, "nul_byte", message), (2, "nul_byte", message), (4, "nul_byte", message)]
    assert result.train == 1 and rows(tmp_path / "out.jsonl")[0]["messages"][0]["content"] == "C:\\u0000"


def test_a_nul_in_a_csv_cell_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_bytes(b"instruction,output\nhi\x00there,ok\nhello,fine\n")
    result = convert(tmp_path, tmp_path / "in.csv")
    [reject] = rows(tmp_path / "rej.jsonl")
    assert (reject["line"], reject["reason"], reject["message"]) == (
        2, "nul_byte", "a cell holds a NUL character (U+0000); remove it")
    assert result.train == 1


def stage_media_root(tmp_path: Path, extra: str) -> Path | None:
    (tmp_path / "d.jsonl").write_text(json.dumps(ROW) + "\n")
    (tmp_path / "pipeline.yaml").write_text(f"name: t\nmodel: nomodel\ndata:\n  sources: [{{path: d.jsonl}}]\n{extra}")
    ctx = stage_context(load_pipeline(tmp_path / "pipeline.yaml"), "data")
    root: Path | None = DataStage().plan(ctx).params.options.settings.media_root
    return root


def test_the_data_option_media_root_reaches_the_converter(tmp_path: Path) -> None:
    (tmp_path / "media").mkdir()
    assert stage_media_root(tmp_path, "  media_root: media\n") == tmp_path / "media"
    assert stage_media_root(tmp_path, "") is None
    with pytest.raises(UserError) as info:
        stage_media_root(tmp_path, "  media_root: nowhere\n")
    assert str(info.value) == f"data.media_root: {tmp_path / 'nowhere'}: no such directory; check the path"
