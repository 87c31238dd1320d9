"""swiftpipe writes only what it made: init, tiny-model and the workdir, against planted names."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from swiftpipe.cli import main
from swiftpipe.commands import tiny_model as tiny_model_cmd
from swiftpipe.msswift.tinymodel import MARKER


def refused(*args: str) -> str:
    """The one line of a command that must exit 2."""
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 2, result.output
    return result.output.strip()


def test_init_does_not_write_through_a_symlink_at_the_temp_name(tmp_path: Path) -> None:
    (tmp_path / "pipeline.yaml.tmp").symlink_to(tmp_path / "victim")
    result = CliRunner().invoke(main, ["init", "pretrain-then-sft", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "victim").exists()
    assert "name: pretrain-then-sft" in (tmp_path / "pipeline.yaml").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipeline.yaml", "pipeline.yaml.tmp"]


def test_init_never_replaces_a_dangling_symlink(tmp_path: Path) -> None:
    (tmp_path / "pipeline.yaml").symlink_to(tmp_path / "victim")
    assert refused("init", "pretrain-then-sft", str(tmp_path)) == (
        f"swiftpipe: error: {tmp_path / 'pipeline.yaml'}: already exists, remove it or choose another directory")
    assert not (tmp_path / "victim").exists() and (tmp_path / "pipeline.yaml").is_symlink()


def test_init_onto_a_file_or_under_proc_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("mine\n")
    assert refused("init", "pretrain-then-sft", str(tmp_path / "afile")) == (
        f"swiftpipe: error: {tmp_path / 'afile'}: not a directory; name a directory for pipeline.yaml")
    assert refused("init", "pretrain-then-sft", "/proc/swiftpipe-test") == (
        "swiftpipe: error: /proc/swiftpipe-test/pipeline.yaml: cannot be written (No such file or directory); "
        "choose another directory")
    assert (tmp_path / "afile").read_text() == "mine\n"


def test_tiny_model_refuses_a_partial_folder_it_did_not_make(tmp_path: Path) -> None:
    partial = tmp_path / "tiny.partial"
    partial.mkdir()
    (partial / "notes.txt").write_text("mine\n")
    assert refused("tiny-model", str(tmp_path / "tiny")) == (
        f"swiftpipe: error: {partial}: exists and was not made by swiftpipe tiny-model; "
        "move it away or choose another directory")
    assert (partial / "notes.txt").read_text() == "mine\n"
    partial.rename(tmp_path / "elsewhere")
    partial.symlink_to(tmp_path / "elsewhere")  # a link to a folder of ours is still not ours
    (tmp_path / "elsewhere" / tiny_model_cmd.BUILDING).touch()
    assert refused("tiny-model", str(tmp_path / "tiny")).startswith(f"swiftpipe: error: {partial}: exists and was")
    assert (tmp_path / "elsewhere" / "notes.txt").is_file()


def test_tiny_model_removes_only_its_own_leftover(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    partial = tmp_path / "tiny.partial"
    partial.mkdir()
    (partial / tiny_model_cmd.BUILDING).touch()
    (partial / "half.safetensors").write_text("")
    built: list[Path] = []

    def fake_build(out: Path) -> Path:
        built.append(out)
        assert sorted(p.name for p in out.iterdir()) == [tiny_model_cmd.BUILDING]  # a fresh folder
        (out / MARKER).write_text('{"version": 0}')
        return out

    monkeypatch.setattr("swiftpipe.msswift.tinymodel.build_tiny_model", fake_build)
    result = CliRunner().invoke(main, ["tiny-model", str(tmp_path / "tiny")])
    assert result.exit_code == 0, result.output
    assert built == [partial] and not partial.exists()
    assert sorted(p.name for p in (tmp_path / "tiny").iterdir()) == [MARKER]


def test_tiny_model_of_the_current_folder_or_a_file_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert refused("tiny-model", ".") == (
        "swiftpipe: error: .: is the current directory or holds it; name a new directory for the tiny model, "
        "e.g. tiny-qwen3")
    (tmp_path / "afile").write_text("mine\n")
    assert refused("tiny-model", "afile") == (
        "swiftpipe: error: afile: not a directory; name a new directory for the tiny model")
    assert (tmp_path / "afile").read_text() == "mine\n"


PIPELINE = "name: t\nmodel: m\ndata: {sources: [{path: d.jsonl}]}\n"


@pytest.mark.parametrize(
    ("workdir", "what"),
    [("/", "the filesystem root"), ("HOME", "your home folder")],
)
def test_the_root_or_home_folder_is_never_a_workdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workdir: str, what: str
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    (tmp_path / "p.yaml").write_text(PIPELINE)
    value = str(tmp_path / "home") if workdir == "HOME" else workdir
    for command in ("run", "plan"):  # plan writes nothing, but says so before a run would
        assert refused(command, str(tmp_path / "p.yaml"), "--set", f"workdir={value}") == (
            f"swiftpipe: error: {tmp_path / 'p.yaml'} › workdir: {value} is {what}; "
            "choose a folder of its own, e.g. runs/<name>")
    assert os.listdir(tmp_path / "home") == []


def test_a_folder_of_someone_elses_is_not_a_workdir(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(PIPELINE)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "report.json").write_text("{}")
    assert refused("run", str(tmp_path / "p.yaml"), "--set", f"workdir={tmp_path / 'mine'}") == (
        f"swiftpipe: error: {tmp_path / 'p.yaml'} › workdir: {tmp_path / 'mine'} already holds files swiftpipe "
        "did not write; choose a new or empty folder as workdir")
    assert refused("run", str(tmp_path / "p.yaml"), "--set", f"workdir={tmp_path / 'p.yaml'}") == (
        f"swiftpipe: error: {tmp_path / 'p.yaml'} › workdir: {tmp_path / 'p.yaml'} is not a directory; "
        "choose another workdir")
    assert sorted(os.listdir(tmp_path / "mine")) == ["report.json"]
