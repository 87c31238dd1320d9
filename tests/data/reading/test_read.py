from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest

from swiftpipe.core.errors import UserError
from swiftpipe.data.reading.jsonarray import JsonArrayReader
from swiftpipe.data.reading.read import input_kind, read_records
from tests.data.conftest import DATA


def summary(path: Path) -> list[tuple[int, int | None, str | None]]:
    return [(r.line, r.item, r.reject.reason if r.reject else None) for r in read_records(path)]


def test_jsonl_lines_are_one_based_and_blank_lines_are_not_rows(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"a": 1}\n\n   \n{"b": 2}\nnot json\n{"c": "caf\xe9"}\n')
    records = list(read_records(path))
    assert [(r.line, r.value) for r in records[:2]] == [(1, {"a": 1}), (4, {"b": 2})]
    assert records[2].reject is not None and records[2].reject.reason == "invalid_json"
    assert records[2].reject.message == "invalid JSON at character 1: Expecting value"
    assert records[3].reject is not None and records[3].reject.reason == "invalid_utf8"
    assert records[3].reject.message == "invalid UTF-8 at byte 11 of the line (b'\\xe9')"
    assert records[3].raw == '{"c": "caf\ufffd"}'


def test_broken_json_fixture_gives_element_indexes_and_stops_at_broken_element() -> None:
    assert summary(DATA / "broken.json") == [
        (2, 0, None),
        (3, 1, None),
        (4, 2, "invalid_utf8"),
        (5, 3, None),
        (6, 4, "invalid_json"),
    ]


def test_gzipped_jsonl_is_read() -> None:
    records = list(read_records(DATA / "small.sharegpt.jsonl.gz"))
    assert [r.line for r in records] == [1, 2, 3, 4, 5]
    assert records[0].value["conversations"][0]["value"] == "Question 0?"


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 1 << 16])
def test_array_parser_is_independent_of_chunk_boundaries(chunk: int) -> None:
    rows = [{"n": i, "t": "ü" * i + '"\\'} for i in range(20)] + [123456789, -1.5e3, "s", None]
    text = json.dumps({"meta": {"x": [1, 2]}, "rows": rows, "tail": "z"}, indent=1).encode()
    got = [e.value for e in JsonArrayReader(io.BytesIO(text), "x.json", chunk_size=chunk)]
    assert got == rows


def test_array_parser_streams(tmp_path: Path) -> None:
    class Counting(io.BytesIO):
        read_bytes = 0

        def read(self, n: int | None = -1) -> bytes:
            data = super().read(n)
            Counting.read_bytes += len(data)
            return data

    body = b"[" + b",".join(b'{"i": %d, "pad": "%s"}' % (i, b"x" * 100) for i in range(50_000)) + b"]"
    stream = Counting(body)
    first = next(iter(JsonArrayReader(stream, "big.json", chunk_size=1 << 12)))
    assert first.value["i"] == 0
    assert Counting.read_bytes <= 1 << 13 < len(body)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b'"just a string"', "x.json: not a JSON array or object (it starts with '\"'); use .jsonl for JSON Lines"),
        (
            b'{"a": [1], "b": [2]}',
            "x.json: the top-level object holds more than one array ('a' and 'b'); keep one array of rows",
        ),
        (
            b'{"a": 1}',
            "x.json: the top-level object holds no array of rows; give a JSON array or an object with one array",
        ),
        (
            b"[1]\n[2]",
            "x.json: line 2: unexpected text after the top-level JSON value; the file holds more than one value",
        ),
        (b"[1 2]", "x.json: line 1: invalid JSON after element 0: expected one of ',]', got '2'"),
    ],
)
def test_array_structure_errors_are_user_errors(text: bytes, message: str) -> None:
    with pytest.raises(UserError) as err:
        list(JsonArrayReader(io.BytesIO(text), "x.json"))
    assert str(err.value) == message


def test_json_lines_saved_as_json_are_read_as_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "rows.json"
    path.write_text('{"messages": [1]}\n{"messages": [2]}\n')
    assert [r.value for r in read_records(path)] == [{"messages": [1]}, {"messages": [2]}]


def test_single_line_object_file_is_an_object_with_one_array(tmp_path: Path) -> None:
    path = tmp_path / "rows.json"
    path.write_text('{"data": [{"a": 1}, {"a": 2}]}\n')
    assert [(r.line, r.item, r.value) for r in read_records(path)] == [(1, 0, {"a": 1}), (1, 1, {"a": 2})]


def test_truncated_gzip_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl.gz"
    data = gzip.compress(b'{"a": 1}\n' * 5000)
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(UserError) as err:
        list(read_records(path))
    assert (
        str(err.value) == f"{path}: cannot read the file (the compressed stream ends early); check that it is complete"
    )


@pytest.mark.parametrize(
    ("name", "kind"), [("a.jsonl", "jsonl"), ("a.JSON", "json"), ("a.json.gz", "json"), ("a.jsonl.gz", "jsonl")]
)
def test_input_kind(name: str, kind: str) -> None:
    assert input_kind(Path(name)) == kind


def test_unsupported_suffix() -> None:
    with pytest.raises(UserError) as err:
        input_kind(Path("data.txt"))
    assert str(err.value) == "data.txt: unsupported file type; use .jsonl, .json or .csv (optionally .gz)"
