"""The quick paths (orjson parsing, the shortcut for common rows) change nothing but speed,
and one runaway row costs neither the memory nor the time of its size.

The oracle for "nothing changed" is the same conversion with both quick paths switched off:
every line parsed by the standard library, every row through the general path.
"""

from __future__ import annotations

import io
import json
import random
import resource
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import orjson
import pytest

from swiftpipe.commands.convert import convert as convert_cmd
from swiftpipe.core.errors import UserError
from swiftpipe.data.convert import run
from swiftpipe.data.reading.read import MAX_ROW_BYTES, exact_value, jsonl_records
from swiftpipe.data.rows.tokens import Rows, count_within
from swiftpipe.data.rows.transform import BlockConverter
from swiftpipe.kinds.data import DataStage
from tests.data.conftest import DATA, DATASETS, convert_options
from tests.data.test_stage import context

HOSTILE = [
    b"\xef\xbb\xbf" + b'{"a": 1}',  # a byte-order mark (line 1 only)
    b'{"a": 123456789012345678901234567890, "b": -9223372036854775809}',  # beyond 64 bits
    b'{"a": 1e400, "b": NaN, "c": -Infinity}',
    b'{"a": "\\ud800 lone", "b": "\\ud83d\\ude00 pair"}',
    b'{"a": "\xff not utf-8"}',
    b'{"a": 1, "a": 2, "b": 3}',
    b"[" * 3000 + b"]" * 3000,
    b"   ",
    b"\x1c",
    b'{"a": 1} trailing',
    b'{"a": "\\u2028\\u2029 / \\/ \\u0000 \\u007f \\u00e9"}',
    b'{"a": [0.1, 1.5e-7, 2.5E+300, -0.0, 1.0, 17, 3.141592653589793238462643383279]}',
    b'"just a string"',
    b"{bad json",
]


def _records(data: bytes, **kw: Any) -> list[tuple[int, Any, str | None]]:
    out = []
    for r in jsonl_records(io.BytesIO(data), **kw):
        value = None if r.reject else exact_value(r)
        out.append((r.line, repr(value), f"{r.reject.reason}: {r.reject.message}" if r.reject else None))
    return out


def _stdlib_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both quick paths off: orjson refuses every line, the shortcut every row."""

    def refuse(_data: bytes) -> Any:
        raise orjson.JSONDecodeError("off", "", 0)

    monkeypatch.setattr(orjson, "loads", refuse)  # read.py looks it up per call
    monkeypatch.setattr(BlockConverter, "_fast_path", lambda self, fmt: None)
    assert not next(jsonl_records(io.BytesIO(b'{"a": 1}\n'))).quick


def test_orjson_reads_every_line_as_the_standard_library(monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"\n".join(HOSTILE) + b"\n"
    quick = _records(data)
    _stdlib_only(monkeypatch)
    assert quick == _records(data)
    assert len(quick) == len(HOSTILE) - 2  # the blank lines are not rows


def test_floats_read_by_orjson_are_the_standard_librarys() -> None:
    rng = random.Random(7)
    texts = [repr(rng.uniform(-1e6, 1e6)) for _ in range(2000)]
    texts += [f"{rng.randint(1, 10**17)}e{rng.randint(-320, 290)}" for _ in range(2000)]
    texts += [f"0.{rng.randint(0, 10**25):025d}" for _ in range(2000)]
    line = ("[" + ", ".join(texts) + "]").encode()
    assert [repr(x) for x in orjson.loads(line)] == [repr(x) for x in json.loads(line)]


def _awkward_corpus(path: Path) -> Path:
    """Rows of the commonest shapes with awkward text: escapes, non-BMP, separators, floats."""
    rng = random.Random(3)
    texts = ["plain", 'quote " and \\ backslash', "tab\tnew\nline", "\u2028\u2029", "🙂 non-BMP 𝄞", "é/ü/ß",
             "</script> & <b>", "\x7f\x1f ctrl", "{not a placeholder}", "{{name}}", "  padded  ",
             "中文 日本語"]  # fmt: skip
    rows: list[Any] = []
    for i in range(600):
        a, b = rng.choice(texts), rng.choice(texts)
        if i % 3 == 0:
            rows.append({"conversations": [{"from": "human", "value": a}, {"from": "gpt", "value": b}]})
        elif i % 3 == 1:  # another key: the general path, on the numbers as json.loads reads them
            rows.append({"conversations": [{"from": "user", "value": a}, {"from": "assistant", "value": b}],
                         "score": rng.choice([0.1, 1e-7, 2.5e300, 12345678901234567890123, -0.0])})  # fmt: skip
        else:
            rows.append({"conversations": [{"from": "human", "value": a}, {"from": "gpt", "value": b or " "}]})
    path.write_text("".join(json.dumps(r, ensure_ascii=i % 2 == 0) + "\n" for i, r in enumerate(rows)))
    return path


def _convert_all(folder: Path, inputs: tuple[Path, ...], **kw: Any) -> list[bytes]:
    out = []
    for i, source in enumerate(inputs):
        sub = folder / str(i)
        sub.mkdir(parents=True)
        run(convert_options([source], sub / "t.jsonl", val=sub / "v.jsonl", rejects=sub / "r.jsonl",
                            report=sub / "p.json", max_reject_ratio=1.0, val_ratio=0.2, jobs=1, **kw))  # fmt: skip
        # A file of only rejected rows has no train or validation file.
        out += [(sub / n).read_bytes() if (sub / n).exists() else b"-" for n in ("t.jsonl", "v.jsonl", "r.jsonl")]
    return out


@pytest.mark.parametrize("system", [None, "Be brief. 100% {{sure}}"])
def test_outputs_are_byte_identical_without_the_quick_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, system: str | None
) -> None:
    corpora = tuple(sorted(DATA.glob("*.jsonl*"))) + tuple(sorted(DATASETS.glob("*.jsonl")))
    inputs = (*corpora, _awkward_corpus(tmp_path / "awkward.jsonl"))
    quick = _convert_all(tmp_path / "quick", inputs, system=system)
    _stdlib_only(monkeypatch)
    assert quick == _convert_all(tmp_path / "stdlib", inputs, system=system)


def test_a_row_over_the_size_limit_is_rejected_unread() -> None:
    data = b'{"a": 1}\n{"x": "' + b"y" * 100 + b'"}\n{"b": 2}\n'
    got = _records(data, max_bytes=50)
    assert got[0] == (1, "{'a': 1}", None)
    assert got[1] == (2, "None", "row_too_large: the row is 109 bytes, above the limit of 50 (--max-row-bytes)")
    assert got[2] == (3, "{'b': 2}", None)


def test_rows_too_long_to_count_are_never_tokenised() -> None:
    rows: Rows = [([{"role": "user", "content": "x" * n}], None) for n in (10, 100_000, 20)]
    seen: list[int] = []

    def count(batch: list[Any]) -> list[int]:
        seen.extend(len(m[0]["content"]) for m, _ in batch)
        return [len(m[0]["content"]) for m, _ in batch]

    assert count_within(rows, 100, 10, count) == [10, -2500, 20]
    assert seen == [10, 20]
    assert count_within(rows, None, 10, count) == [10, 100_000, 20]


BIG_ROW = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (AS_BYTES, AS_BYTES))
from pathlib import Path
from swiftpipe.commands.convert import convert
convert([Path(sys.argv[1])], Path(sys.argv[2]), rejects=None, report=None, max_reject_ratio=1.0, dedupe=False,
        system=None, val_ratio=0.0, seed=42, tokenizer=Path(sys.argv[3]), max_length=1024, exact=False,
        max_row_bytes=int(sys.argv[4]))
"""


@pytest.mark.parametrize("max_row_bytes", [64 << 20, 1 << 20])
def test_a_50_mb_row_is_rejected_in_bounded_memory(tmp_path: Path, tiny_tokenizer: Path, max_row_bytes: int) -> None:
    source = tmp_path / "big.jsonl"
    with open(source, "w") as f:
        f.write(json.dumps({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}))
        f.write('\n{"messages": [{"role": "user", "content": "' + "word " * 10_000_000 + '"}, ')
        f.write('{"role": "assistant", "content": "a"}]}\n')
    limit = 2 << 30  # tokenising the row took 6.9 GB; the row itself, parsed and written, a few hundred MB
    script = textwrap.dedent(BIG_ROW).replace("AS_BYTES", str(limit))
    out = tmp_path / "out.jsonl"
    args = [str(source), str(out), str(tiny_tokenizer), str(max_row_bytes)]
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert out.read_text().count("\n") == 1
    reject = json.loads((tmp_path / "out.rejects.jsonl").read_text())
    if max_row_bytes < 50 << 20:
        assert (reject["reason"], reject["message"]) == (
            "row_too_large", "the row is 50,000,086 bytes, above the limit of 1,048,576 (--max-row-bytes)")  # fmt: skip
    else:
        assert (reject["reason"], reject["message"]) == (
            "too_long", "at least 961538 tokens (too long to tokenise), above max_length 1024")  # fmt: skip
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss < limit // 1024


def test_the_row_limit_is_a_positive_number_of_bytes(tmp_path: Path) -> None:
    with pytest.raises(UserError) as err:
        convert_cmd([DATA / "agent.jsonl"], tmp_path / "out.jsonl", rejects=None, report=None, max_reject_ratio=0.05,
                    dedupe=False, system=None, val_ratio=0.0, seed=42, tokenizer=None, max_length=None,
                    max_row_bytes=0)  # fmt: skip
    assert str(err.value) == "--max-row-bytes 0: must be a positive number of bytes"


def test_data_stage_passes_its_row_limit(tmp_path: Path) -> None:
    yaml = f"data:\n  sources:\n    - path: {DATA / 'agent.jsonl'}\n  max_row_bytes: 1000\n"
    assert DataStage().plan(context(tmp_path, yaml)).params.options.settings.max_row_bytes == 1000
    plain = yaml.replace("  max_row_bytes: 1000\n", "")
    assert DataStage().plan(context(tmp_path, plain)).params.options.settings.max_row_bytes == MAX_ROW_BYTES
