"""Values under `args:` stay values: no flags inside them, no reserved name by abbreviation, no YAML oddities."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from swiftpipe.commands.plan import plan
from swiftpipe.config.argvalues import reserved_target
from swiftpipe.core.errors import EXIT_USER_ERROR, UserError, boundary
from swiftpipe.engine.select import Selection
from swiftpipe.kinds import REGISTRY, get_kind
from swiftpipe.loading import load_pipeline
from swiftpipe.msswift import swiftargs
from tests.conftest import REPO

Write = Callable[[str], Path]

PIPELINE = """\
name: t
model: m
stages:
  sft: {{dataset: [train.jsonl], args: {sft}}}
  export: {{args: {export}}}
  deploy: {{args: {deploy}}}
  eval: {{datasets: {{general_qa: {{local_path: qa}}}}, args: {eval}}}
"""


def errors(write: Write, **args: str) -> list[str]:
    """The lines load_pipeline refuses a pipeline with these `args:` mappings (YAML flow text)."""
    given = {"sft": "{}", "export": "{}", "deploy": "{}", "eval": "{}", **args}
    with pytest.raises(UserError) as info:
        load_pipeline(write(PIPELINE.format(**given)), env={})
    return [line.split(" › ", 1)[1] for line in str(info.value).splitlines()]


def test_the_demo_refuses_a_host_smuggled_in_a_list_through_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    overrides = ["stages.deploy.args.max_new_tokens=[64, --host, 0.0.0.0]"]
    code = boundary(lambda: plan(REPO / "pipeline.yaml", overrides=overrides, selection=Selection()))
    assert code == EXIT_USER_ERROR
    assert capsys.readouterr().err.splitlines() == [
        "swiftpipe: error: --set › stages.deploy.args.max_new_tokens[1]: '--host' would be read as a flag by "
        "swift, setting host, which swiftpipe sets; use host",
    ]


def test_flags_inside_values_are_refused_in_every_form(write_pipeline: Write) -> None:
    assert errors(write_pipeline, sft="{seed: '--output_dir=/tmp/x', target_modules: [q_proj, --lr, '1']}",
                  deploy="{max_new_tokens: '--por=1', stop_words: ['-x']}", eval="{stream: [--api-url, 'http://h']}",
                  export="{max_shard_size: --no-merge-lora}") == [
        "stages.sft.args.seed: '--output_dir=/tmp/x' would be read as a flag by swift, setting output_dir, "
        "which swiftpipe sets; swiftpipe writes under the workdir",
        "stages.sft.args.target_modules[1]: '--lr' would be read as a flag by swift; "
        "write each argument as its own key under args",
        "stages.export.args.max_shard_size: '--no-merge-lora' would be read as a flag by swift, setting merge_lora, "
        "which swiftpipe sets; the export stage always merges",
        "stages.deploy.args.max_new_tokens: '--por=1' would be read as a flag by swift, setting port, "
        "which swiftpipe sets; use port",
        "stages.deploy.args.stop_words[0]: '-x' would be read as a flag by swift; "
        "write each argument as its own key under args",
        "stages.eval.args.stream[0]: '--api-url' would be read as a flag by evalscope, setting api_url, "
        "which swiftpipe sets; the eval stage uses the deployed server, or api_url",
    ]


def test_negative_numbers_dashes_inside_text_and_json_stay_values(write_pipeline: Write) -> None:
    load_pipeline(write_pipeline(PIPELINE.format(
        sft="{seed: '-1', learning_rate: -1.0e-5, warmup_ratio: '-0.5', lr_scheduler_kwargs: {x: --y}, run_name: a-b}",
        export="{}", deploy="{stop_words: ['-', 'a --host']}", eval="{}")), env={})


def test_names_that_abbreviate_a_reserved_argument_are_refused(write_pipeline: Write) -> None:
    assert errors(write_pipeline, sft="{output: /tmp/x, resume: true}", export="{no_merge: true}",
                  deploy="{hos: 0.0.0.0, served_model: x}", eval="{api_u: 'http://h'}") == [
        "stages.sft.args.output: would be read as 'output_dir', which swiftpipe sets; "
        "swiftpipe writes under the workdir",
        "stages.sft.args.resume: would be read as 'resume_from_checkpoint', which swiftpipe sets; "
        "swiftpipe resumes interrupted runs itself (resume: true)",
        "stages.export.args.no_merge: would be read as 'merge_lora', which swiftpipe sets; "
        "the export stage always merges",
        "stages.deploy.args.hos: would be read as 'host', which swiftpipe sets; use host",
        "stages.deploy.args.served_model: would be read as 'served_model_name', which swiftpipe sets; "
        "use served_model_name",
        "stages.eval.args.api_u: would be read as 'api_url', which swiftpipe sets; "
        "the eval stage uses the deployed server, or api_url",
    ]


def test_no_real_argument_is_refused_as_an_abbreviation() -> None:
    """Exact names win in argparse, so a real argument that prefixes a reserved one must stay allowed.

    The one such name in ms-swift 4.6 is `resume`, an argument of `swift sample` only: for the
    training kinds it abbreviates resume_from_checkpoint, so refusing it there is right.
    """
    known = swiftargs.known_arguments(str(Path(sys.executable).parent / "swift"))
    assert known is not None
    caught = {(kind, name) for kind in REGISTRY if get_kind(kind).swift_args for name in known.names
              if name not in get_kind(kind).reserved and reserved_target(name, get_kind(kind).reserved)}
    assert caught == {("pt", "resume"), ("sft", "resume"), ("rlhf", "resume")}


def test_yaml_values_without_a_command_line_form_are_refused(write_pipeline: Write) -> None:
    assert errors(write_pipeline, sft="{run_name: 2024-05-01, seed: !!binary aGVsbG8=, max_steps: .nan, "
                                      "save_steps: [], model_kwargs: {since: 2024-05-01, scale: .inf}}",
                  deploy="{stop_words: !!set {a: null}}") == [
        "stages.sft.args.run_name: YAML reads 2024-05-01 as a date; quote it: '2024-05-01'",
        "stages.sft.args.seed: YAML reads !!binary as bytes, which have no command-line form; write the value as text",
        "stages.sft.args.max_steps: nan is not a number swift can take; write a number",
        "stages.sft.args.save_steps: an empty list gives swift no value; remove the key or give a value",
        "stages.sft.args.model_kwargs.since: YAML reads 2024-05-01 as a date; quote it: '2024-05-01'",
        "stages.sft.args.model_kwargs.scale: inf is not a number swift can take; write a number",
        "stages.deploy.args.stop_words: YAML reads this as a set, which has no command-line form; "
        "write text or a number",
    ]
