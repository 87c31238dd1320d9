"""sbatch scripts: every value is refused at config time or written so that sbatch reads back exactly it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from swiftpipe.core.errors import UserError
from swiftpipe.engine.pipeline import LoadedPipeline
from swiftpipe.executors.slurm.config import SlurmResources
from swiftpipe.executors.slurm.script import Job, render
from swiftpipe.loading import load_pipeline

Write = Callable[..., Path]  # write_pipeline(text, name="pipeline.yaml")

PIPELINE = """
name: demo
model: models/tiny
executor:
  type: slurm
  partition: gpu
  extra_args: [--exclusive]
stages:
  sft:
    dataset: [train.jsonl]
    slurm: {mem: 64G, time: "01:00:00"}
"""
RULE = "without spaces, quotes, '\\', '#', '$', '`', ';', '<', '>' or line breaks"
NAME_RULE = "expected letters, digits, '-' and '_', starting with a letter"


def sbatch_reads(line: str) -> list[str]:
    """The arguments sbatch takes from one #SBATCH line (src/sbatch/opt.c `_get_argument`, 17.11+):
    whitespace separates, '\\' escapes one character, either quote groups, an unquoted '#' ends the line."""
    assert line.startswith("#SBATCH ")
    text, i = line.removeprefix("#SBATCH "), 0
    args: list[str] = []
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        arg, quote = "", ""
        while i < len(text) and (quote or not text[i].isspace()):
            c, i = text[i], i + 1
            if c == "\\":
                arg, i = arg + text[i], i + 1
            elif quote and c == quote:
                quote = ""
            elif not quote and c in "'\"":
                quote = c
            elif not quote and c == "#":
                return [*args, arg] if arg else args
            else:
                arg += c
        assert not quote, f"unmatched quote in {line!r}"
        args.append(arg)
    return args


def error_of(path: Path, overrides: list[str] | None = None) -> str:
    with pytest.raises(UserError) as info:
        load_pipeline(path, overrides, env={})
    return str(info.value)


def sft_job(loaded: LoadedPipeline) -> Job:
    return Job("sft", ("sft",), loaded.graph["sft"].resources["slurm"])


def test_the_script_of_a_plain_pipeline(write_pipeline: Write) -> None:
    path = write_pipeline(PIPELINE)
    loaded = load_pipeline(path, env={})
    lines = render(loaded, sft_job(loaded)).splitlines()
    assert lines[:12] == [
        "#!/bin/bash",
        f"# swiftpipe: stages sft of {path}",
        "#SBATCH --job-name=swiftpipe-demo-sft",
        f"#SBATCH --output={loaded.workdir}/slurm/sft.%j.out",
        "#SBATCH --open-mode=append",
        "#SBATCH --requeue",
        "#SBATCH --nodes=1",
        "#SBATCH --ntasks-per-node=1",
        "#SBATCH --partition=gpu",
        "#SBATCH --time=01:00:00",
        "#SBATCH --mem=64G",
        "#SBATCH --exclusive",
    ]
    assert lines[12] == "set -e"


@pytest.mark.parametrize(("override", "message"), [
    ("name=my demo --partition=evil", f"name: {NAME_RULE}, got 'my demo --partition=evil'"),
    ("name=../../outside", f"name: {NAME_RULE}, got '../../outside'"),
    ("executor.partition=gpu --qos=high", f"executor.partition: expected one sbatch value {RULE}, "
                                          "got 'gpu --qos=high'"),
    ("executor.account=a;reboot", f"executor.account: expected one sbatch value {RULE}, got 'a;reboot'"),
    ("executor.qos=$(reboot)", f"executor.qos: expected one sbatch value {RULE}, got '$(reboot)'"),
    ("executor.time='1:00:00 #x'", f"executor.time: expected one sbatch value {RULE}, got '1:00:00 #x'"),
    ("executor.extra_args=[-p gpu]", "executor.extra_args[0]: expected one sbatch option written --name or "
                                     f"--name=value, {RULE}, got '-p gpu'"),
    ("executor.extra_args=[--exclusive, --mail-user=a b]", "executor.extra_args[1]: expected one sbatch option "
                                                           f"written --name or --name=value, {RULE}, "
                                                           "got '--mail-user=a b'"),
    ("executor.extra_args=[--comment=`reboot`]", "executor.extra_args[0]: expected one sbatch option written "
                                                 f"--name or --name=value, {RULE}, got '--comment=`reboot`'"),
    ("stages.sft.slurm.mem=64G --qos=high", f"stages.sft.slurm.mem: expected one sbatch value {RULE}, "
                                            "got '64G --qos=high'"),
    ("stages.sft.slurm.time=1:00'", f"stages.sft.slurm.time: expected one sbatch value {RULE}, got \"1:00'\""),
])
def test_values_that_would_break_an_sbatch_line_are_refused(write_pipeline: Write, override: str,
                                                            message: str) -> None:
    assert error_of(write_pipeline(PIPELINE), [override]) == f"--set › {message}"


def test_a_line_break_in_the_file_is_refused_at_its_line(write_pipeline: Write) -> None:
    path = write_pipeline(PIPELINE.replace("partition: gpu", 'partition: "gpu\\ntouch /tmp/pwned"'))
    assert error_of(path) == (
        f"{path}:5 › executor.partition: expected one sbatch value {RULE}, got 'gpu\\ntouch /tmp/pwned'"
    )
    path = write_pipeline(PIPELINE.replace("name: demo", 'name: "demo\\nrm -rf ~"'))
    assert error_of(path) == f"{path}:1 › name: {NAME_RULE}, got 'demo\\nrm -rf ~'"


def test_sbatch_options_of_real_use_pass_and_are_written_as_they_are(write_pipeline: Write) -> None:
    options = ["--gres=gpu:a100:4", "--constraint=a100|h100", "--mail-user=me@example.org", "--exclude=node[01-05]",
               "--mail-type=END,FAIL", "--exclusive"]
    listed = ", ".join(f"'{o}'" for o in options)
    loaded = load_pipeline(write_pipeline(PIPELINE), [f"executor.extra_args=[{listed}]"], env={})
    lines = render(loaded, sft_job(loaded)).splitlines()
    assert lines[11:17] == [f"#SBATCH {o}" for o in options]


def test_workdir_and_pipeline_paths_must_fit_an_sbatch_line(write_pipeline: Write, tmp_path: Path) -> None:
    spaced = tmp_path / "a b" / "runs"
    assert error_of(write_pipeline(PIPELINE), [f"workdir={spaced}"]) == (
        f"--set › workdir: executor slurm writes it into #SBATCH lines; expected a path {RULE}, got '{spaced}'"
    )
    (tmp_path / "my project").mkdir()
    path = write_pipeline(PIPELINE, "my project/pipeline.yaml")
    assert error_of(path) == (
        f"{path}: executor slurm writes this file's path into sbatch scripts; expected a path {RULE}, got '{path}'"
    )
    local = load_pipeline(path, ["executor.type=local"], env={})  # only sbatch lines need it
    assert local.workdir == tmp_path / "my project" / "runs" / "demo"


def test_a_line_break_in_the_workdir_is_refused_for_any_executor(write_pipeline: Write) -> None:
    path = write_pipeline(PIPELINE.replace("type: slurm", "type: local") + 'workdir: "runs/x\\ny"\n')
    assert error_of(path) == (
        f"{path}:11 › workdir: expected a path without line breaks or control characters, got 'runs/x\\ny'"
    )


def test_render_quotes_what_sbatch_can_read_back_and_refuses_a_line_break(write_pipeline: Write) -> None:
    loaded = load_pipeline(write_pipeline(PIPELINE), env={})
    odd = ["--comment=it's \"x\" #1 \\ y", "--weird name", "--chdir=/a b/c"]
    executor = dataclasses.replace(loaded.executor, partition="a b", extra_args=odd)
    loaded = dataclasses.replace(loaded, executor=executor, display_name="p\n#SBATCH --x.yaml")
    lines = render(loaded, sft_job(loaded)).splitlines()
    assert lines[1] == "# swiftpipe: stages sft of p\\n#SBATCH --x.yaml"
    headers = [line for line in lines if line.startswith("#SBATCH")]
    assert [sbatch_reads(line) for line in headers[-3:]] == [[o] for o in odd]
    assert sbatch_reads(headers[6]) == ["--partition=a b"]
    assert len(lines) == 2 + len(headers) + 3  # no header line became a shell line

    broken = dataclasses.replace(executor, partition="gpu\ntouch /tmp/pwned")
    loaded = dataclasses.replace(loaded, executor=broken)
    with pytest.raises(UserError) as info:
        render(loaded, Job("sft", ("sft",), SlurmResources()))
    assert str(info.value) == (
        f"{loaded.workdir}/slurm/sft.sbatch: cannot write '--partition=gpu\\ntouch /tmp/pwned' into an #SBATCH "
        "line: it holds a line break or a control character"
    )
