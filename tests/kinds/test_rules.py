"""Rules over a whole graph: argument names, names swiftpipe sets, ms-swift 3 names, report_to under
tracking, and two servers on one port; every problem is one line naming the file, line and key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from swiftpipe.core.errors import UserError
from swiftpipe.kinds.rules import RENAMED, check_pipeline
from swiftpipe.loading import load_pipeline

WritePipeline = Callable[..., Path]
HEAD = "name: demo\nmodel: m\n"


def problems(write_pipeline: WritePipeline, text: str) -> list[str]:
    """Each line of the error loading `text` gives, less the file name."""
    path = write_pipeline(HEAD + text)
    with pytest.raises(UserError) as err:
        load_pipeline(path)
    prefix = f"{path}:"
    lines = str(err.value).splitlines()
    assert all(line.startswith(prefix) for line in lines), lines
    return [line.removeprefix(prefix) for line in lines]


def test_a_valid_pipeline_breaks_no_rule(write_pipeline: WritePipeline) -> None:
    path = write_pipeline(HEAD + "tracking: {backend: swanlab}\nstages:\n"
                          "  sft: {dataset: [t.jsonl], args: {report_to: none, learning_rate: 1e-4}}\n"
                          "  export: {}\n  a: {kind: deploy, port: 8000}\n  b: {kind: deploy, port: 8001}\n")
    loaded = load_pipeline(path)
    assert check_pipeline(loaded.config, loaded.graph) == []


@pytest.mark.parametrize("name", ["--learning_rate", "-lr", "learning-rate", "1st", "lr rate"])
def test_argument_names_are_written_without_dashes(write_pipeline: WritePipeline, name: str) -> None:
    assert problems(write_pipeline, f"stages:\n  sft: {{dataset: [t.jsonl], args: {{'{name}': 1}}}}\n") == [
        f"4 › stages.sft.args.{name}: argument names are written without dashes, e.g. learning_rate"]


@pytest.mark.parametrize(("stage", "name", "why"), [
    ("sft: {dataset: [t.jsonl]", "output_dir", "swiftpipe writes under the workdir"),
    ("sft: {dataset: [t.jsonl]", "deepspeed", "use launch.deepspeed (zero2, zero3, ... or a JSON file)"),
    ("sft: {dataset: [t.jsonl]", "resume_from_checkpoint", "swiftpipe resumes interrupted runs itself (resume: true)"),
    ("sft: {kind: pt, dataset: [t.jsonl]", "model", "set the top-level 'model', or read a training stage with from:"),
    ("sft: {kind: rlhf, dataset: [t.jsonl]", "rlhf_type", "set the stage's rlhf_type"),
    ("sft: {kind: export, checkpoint: /c", "adapters", "use checkpoint"),
    ("sft: {kind: export, checkpoint: /c", "merge_lora", "the export stage always merges"),
    ("sft: {kind: deploy", "served_model_name", "use served_model_name"),
])
def test_arguments_swiftpipe_sets_are_refused_with_what_to_write_instead(
    write_pipeline: WritePipeline, stage: str, name: str, why: str
) -> None:
    assert problems(write_pipeline, f"stages:\n  {stage}, args: {{{name}: x}}}}\n") == [
        f"4 › stages.sft.args.{name}: set by swiftpipe; {why}"]


@pytest.mark.parametrize(("name", "target"), [("output_d", "output_dir"), ("no_resume", "resume_from_checkpoint"),
                                              ("val_data", "val_dataset")])
def test_a_prefix_of_a_name_swiftpipe_sets_is_refused_too(write_pipeline: WritePipeline, name: str,
                                                          target: str) -> None:
    [line] = problems(write_pipeline, f"stages:\n  sft: {{dataset: [t.jsonl], args: {{{name}: x}}}}\n")
    assert line.startswith(f"4 › stages.sft.args.{name}: would be read as '{target}', which swiftpipe sets; ")


@pytest.mark.parametrize("name", sorted(RENAMED))
def test_ms_swift_3_names_are_refused_with_their_new_name(write_pipeline: WritePipeline, name: str) -> None:
    assert problems(write_pipeline, f"stages:\n  sft: {{dataset: [t.jsonl], args: {{{name}: x}}}}\n") == [
        f"4 › stages.sft.args.{name}: {RENAMED[name]}"]


def test_the_renamed_swift_names_are_not_refused_for_evalscope(write_pipeline: WritePipeline) -> None:
    path = write_pipeline(HEAD + "stages:\n  ev: {kind: eval, api_url: 'http://h:1/v1', served_model_name: x,\n"
                          "       datasets: {general_mcq: {local_path: d}}, args: {metric: x}}\n")
    (path.parent / "d").mkdir()
    assert load_pipeline(path).graph["ev"].config.args == {"metric": "x"}


def test_a_value_argv_would_read_as_a_flag_is_refused(write_pipeline: WritePipeline) -> None:
    assert problems(write_pipeline, "stages:\n  sft: {dataset: [t.jsonl], args: {lora_rank: '--output_dir=x'}}\n") == [
        "4 › stages.sft.args.lora_rank: '--output_dir=x' would be read as a flag by swift, setting output_dir, "
        "which swiftpipe sets; swiftpipe writes under the workdir"]


@pytest.mark.parametrize("kind", ["sft", "pt", "rlhf"])
def test_report_to_is_tracking_s_to_set(write_pipeline: WritePipeline, kind: str) -> None:
    text = f"tracking: {{backend: swanlab}}\nstages:\n  t: {{kind: {kind}, dataset: [t.jsonl], " \
           "args: {report_to: [tensorboard, wandb]}}\n"
    assert problems(write_pipeline, text) == ["5 › stages.t.args.report_to: set by 'tracking'; remove it here"]


@pytest.mark.parametrize("value", ["none", "[none]", "null"])
def test_report_to_none_or_null_yields_to_tracking(write_pipeline: WritePipeline, value: str) -> None:
    path = write_pipeline(HEAD + f"tracking: {{backend: swanlab}}\nstages:\n  sft: {{dataset: [t.jsonl], "
                                 f"args: {{report_to: {value}}}}}\n")
    assert load_pipeline(path).graph["sft"].kind == "sft"


def test_report_to_is_the_users_without_tracking(write_pipeline: WritePipeline) -> None:
    path = write_pipeline(HEAD + "stages:\n  sft: {dataset: [t.jsonl], args: {report_to: tensorboard}}\n")
    assert load_pipeline(path).graph["sft"].config.args["report_to"] == "tensorboard"


def test_two_deploy_stages_on_one_port_are_refused_once_per_later_stage(write_pipeline: WritePipeline) -> None:
    text = ("stages:\n  a: {kind: deploy, port: 8000}\n  b: {kind: deploy, port: 8000}\n"
            "  c: {kind: deploy, port: 8000}\n  d: {kind: deploy, port: 8001}\n")
    assert problems(write_pipeline, text) == [
        "5 › stages.b.port: port 8000 is also used by stage a; give each deploy stage its own port",
        "6 › stages.c.port: port 8000 is also used by stage a; give each deploy stage its own port"]


def test_every_problem_of_every_stage_is_reported_at_once(write_pipeline: WritePipeline) -> None:
    text = ("stages:\n  sft: {dataset: [t.jsonl], args: {--lr: 1, train_type: lora}}\n"
            "  export: {args: {merge: true}}\n  infer: {dataset: [t.jsonl], args: {temperature: 1}}\n")
    assert problems(write_pipeline, text) == [
        "4 › stages.sft.args.--lr: argument names are written without dashes, e.g. learning_rate",
        "4 › stages.sft.args.train_type: renamed to 'tuner_type' in ms-swift 4",
        "5 › stages.export.args.merge: would be read as 'merge_lora', which swiftpipe sets; "
        "the export stage always merges",
        "6 › stages.infer.args.temperature: set by swiftpipe; use temperature"]
