from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from swiftpipe.commands.convert import convert, sibling
from swiftpipe.core.errors import UserError

DATA = Path(__file__).parent.parent / "assets" / "data"
REPO = Path(__file__).parent.parent.parent
GOOD = DATA / "small.sharegpt.jsonl.gz"  # 5 rows, 1 reject


def call(inputs: list[Path], output: Path, **kw: Any) -> int:
    args: dict[str, Any] = dict(
        rejects=None,
        report=None,
        max_reject_ratio=0.5,
        dedupe=False,
        system=None,
        val_ratio=0.0,
        seed=42,
        tokenizer=None,
        max_length=None,
    )
    args.update(kw)
    return convert(inputs, output, **args)


def test_default_paths_beside_output(tmp_path: Path) -> None:
    out = tmp_path / "train.jsonl"
    assert call([GOOD], out, val_ratio=0.5) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "train.jsonl",
        "train.rejects.jsonl",
        "train.report.json",
        "train.val.jsonl",
    ]
    assert sibling(Path("x/data.jsonl"), ".val.jsonl") == Path("x/data.val.jsonl")


def test_explicit_val_output(tmp_path: Path) -> None:
    assert call([GOOD], tmp_path / "train.jsonl", val_ratio=0.5, val_output=tmp_path / "val.jsonl") == 0
    assert (tmp_path / "val.jsonl").exists()


def test_reject_ratio_above_limit_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert call([GOOD], tmp_path / "o.jsonl", max_reject_ratio=0.1) == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last == (
        f"==> 1 of 5 rows rejected (20.0%), above max_reject_ratio 0.1; "
        f"reasons and rows in {tmp_path / 'o.rejects.jsonl'}"
    )
    assert not (tmp_path / "o.jsonl").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(inputs=[]), "convert: no input files given; pass one or more .jsonl, .json or .csv files"),
        (dict(inputs=[Path("/nope/x.jsonl")]), "/nope/x.jsonl: no such input file; check the path"),
        (dict(inputs=[DATA]), f"{DATA}: is a directory; pass the .jsonl, .json or .csv files inside it"),
        (
            dict(fmt="csv"),
            "--format csv: unknown format; use auto, sharegpt, alpaca, messages, dolly, query-response, text",
        ),
        (dict(output=Path("out.json")), "-o out.json: the output must end in .jsonl (swift reads JSON Lines)"),
        (dict(val_ratio=1.0), "--val-ratio 1: must be at least 0 and below 1"),
        (dict(max_reject_ratio=-0.1), "--max-reject-ratio -0.1: must be between 0 and 1"),
        (dict(max_length=0, tokenizer=Path("t")), "--max-length 0: must be a positive number of tokens"),
        (dict(max_length=10), "--max-length needs --tokenizer MODEL_DIR to count tokens; pass both"),
        (dict(jobs=0), "--jobs 0: must be at least 1 (1 converts without worker processes)"),
        (dict(purpose="dpo"), "--purpose dpo: unknown purpose; use sft or rlhf"),
        (dict(system_template="lang: {0}"),
         "--system-template: 'lang: {0}' names no row field; write fields as {name}, e.g. {reasoning_language}"),
        (dict(system_template="lang: {x"),
         "--system-template: 'lang: {x' is not a valid template (expected '}' before end of string); "
         "write fields as {name}"),
    ],
)
def test_user_errors(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    inputs = change.pop("inputs", [GOOD])
    output = change.pop("output", tmp_path / "o.jsonl")
    with pytest.raises(UserError) as err:
        call(inputs, output, **change)
    assert str(err.value) == message


def test_output_equal_to_input_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "data.jsonl"
    src.write_text("")
    with pytest.raises(UserError) as err:
        call([src], src)
    assert str(err.value) == f"-o {src}: same file as input {src}; choose another output path"
    with pytest.raises(UserError) as err:
        call([src], tmp_path / "o.jsonl", report=src)
    assert str(err.value) == f"--report {src}: same file as input {src}; choose another output path"


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "swiftpipe", "convert", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_exit_codes(tmp_path: Path) -> None:
    ok = run_cli(str(GOOD), "-o", "ok.jsonl", "--val-ratio", "0.2", cwd=tmp_path)
    assert ok.returncode == 1  # 1 of 5 rejected is above the default 0.05
    ok = run_cli(str(GOOD), "-o", "ok.jsonl", "--max-reject-ratio", "0.25", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    report = json.loads((tmp_path / "ok.report.json").read_text())
    assert report["train"] + report["val"] == 4
    missing = run_cli("missing.jsonl", "-o", "x.jsonl", cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.splitlines() == ["swiftpipe: error: missing.jsonl: no such input file; check the path"]
    assert missing.stdout == ""


def test_cli_format_text_writes_assistant_only_rows(tmp_path: Path) -> None:
    src = tmp_path / "pt.jsonl"
    rows = [{"response": "Rest well."}, {"query": "q", "response": "r"}, {"text": "Sleep early."}]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    done = run_cli(str(src), "-o", "pt.out.jsonl", "--format", "text", "--max-reject-ratio", "0.5", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "pt.out.jsonl").read_text().splitlines() == [
        '{"messages": [{"role": "assistant", "content": "Rest well."}]}',
        '{"messages": [{"role": "assistant", "content": "Sleep early."}]}',
    ]
    [reject] = [json.loads(line) for line in (tmp_path / "pt.out.rejects.jsonl").read_text().splitlines()]
    assert (reject["line"], reject["reason"], reject["message"]) == (
        2,
        "has_prompt",
        "'query' is set, but format text takes rows without a prompt",
    )
    help_text = "".join(run_cli("--help", cwd=tmp_path).stdout.split())  # click wraps it
    assert "|dolly|query-response|text(auto:perfile;text:forswiftpt)." in help_text


def test_format_and_limit_once_per_input(tmp_path: Path) -> None:
    agent = DATA / "agent.jsonl"
    out = tmp_path / "o.jsonl"
    assert call([GOOD, agent], out, fmt=("sharegpt", "auto"), limit=("2", "all")) == 0
    report = json.loads((tmp_path / "o.report.json").read_text())
    assert [(s["format"], s["rows"]) for s in report["sources"]] == [("sharegpt", 2), ("messages", 2)]
    assert call([GOOD, agent], out, fmt="auto", limit="1") == 0
    report = json.loads((tmp_path / "o.report.json").read_text())
    assert [(s["format"], s["rows"]) for s in report["sources"]] == [("sharegpt", 1), ("messages", 1)]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(fmt=("auto", "auto")), "--format: given 2 times for 3 inputs; give it once or once per input"),
        (dict(limit=("1", "2", "3", "4")), "--limit: given 4 times for 3 inputs; give it once or once per input"),
        (dict(limit="ten"), "--limit ten: not a number of rows; give a whole number (0 or more) or all"),
        (dict(limit=("1", "-1", "all")), "--limit -1: not a number of rows; give a whole number (0 or more) or all"),
        (
            dict(fmt=("auto", "csv", "auto")),
            "--format csv: unknown format; use auto, sharegpt, alpaca, messages, dolly, query-response, text",
        ),
    ],
)
def test_per_input_option_errors(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    with pytest.raises(UserError) as err:
        call([GOOD, GOOD, DATA / "agent.jsonl"], tmp_path / "o.jsonl", **change)
    assert str(err.value) == message


def test_cli_per_input_format_limit_and_val_output(tmp_path: Path) -> None:
    args = [str(GOOD), str(DATA / "agent.jsonl"), "-o", "o.jsonl", "--val-ratio", "0.5", "--val-output", "v.jsonl"]
    done = run_cli(*args, "--format", "sharegpt", "--format", "messages", "--limit", "3", "--limit", "all",
                   "--max-reject-ratio", "0.5", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "o.report.json").read_text())
    assert [(s["format"], s["rows"]) for s in report["sources"]] == [("sharegpt", 3), ("messages", 2)]
    assert report["outputs"]["val"] == "v.jsonl"
    wrong = run_cli(*args, "--limit", "1", "--limit", "2", "--limit", "3", cwd=tmp_path)
    assert wrong.returncode == 2
    assert wrong.stderr.splitlines() == [
        "swiftpipe: error: --limit: given 3 times for 2 inputs; give it once or once per input"
    ]


def test_cli_purpose_multimodal_strict_and_system_template(tmp_path: Path) -> None:
    src = tmp_path / "mixed.jsonl"
    turns = [{"role": "user", "content": "<image>Hi {{name}}"}, {"role": "assistant", "content": "Hello."}]
    rows = [{"messages": turns, "label": True, "lang": "en"},
            {"messages": turns, "images": ["https://example.org/a.png"], "label": False, "lang": "de"}]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    done = run_cli(str(src), "-o", "o.jsonl", "--purpose", "rlhf", "--system-template", "lang={lang}",
                   "--max-reject-ratio", "1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert [(r["messages"][0]["content"], r["label"], r.get("images")) for r in out] == [
        ("lang=en", True, None), ("lang=de", False, ["https://example.org/a.png"])]
    assert "warning: 2 row(s) hold a {{placeholder}}" in done.stderr
    done = run_cli(str(src), "-o", "o.jsonl", "--purpose", "rlhf", "--no-multimodal", "--strict",
                   "--max-reject-ratio", "1", cwd=tmp_path)
    reasons = [json.loads(line)["reason"] for line in (tmp_path / "o.rejects.jsonl").read_text().splitlines()]
    assert done.returncode == 1 and reasons == ["placeholder", "multimodal_unsupported"]
