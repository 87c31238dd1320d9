"""Every value is checked: types, ranges, empty lists, duplicate keys, wiring, exposure.

Each broken file goes through the CLI's error boundary around `plan`: exit 2, at most four
lines, each naming the key it is about. A representative set asserts the exact lines.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from swiftpipe.commands.plan import plan
from swiftpipe.core.errors import EXIT_USER_ERROR, UserError, boundary
from swiftpipe.engine.select import Selection
from swiftpipe.loading import load_pipeline

Write = Callable[[str], Path]

FULL = """\
name: demo
model: models/tiny
data:
  sources:
    - path: train.jsonl
      limit: 100
  val_ratio: 0.1
  max_reject_ratio: 0.05
  max_length: 512
stages:
  sft:
    args: {num_train_epochs: 1}
  export:
    checkpoint: last
  deploy:
    port: 8011
    ready_timeout: 60
  eval:
    datasets: {general_qa: {local_path: qa}}
    limit: 5
    batch_size: 4
    generation_config: {temperature: 0.0, max_tokens: 64, timeout: 30}
  infer:
    from: export
    max_new_tokens: 32
    temperature: 0.0
tracking:
  project: demo
"""

# Pipelines of another shape, for the rules about stage wiring.
HEAD = "name: w\nmodel: m\ndata: {sources: [{path: d.jsonl}]}\nstages:\n"
CYCLE = HEAD + "  a: {kind: sft, from: b}\n  b: {kind: sft, from: a}\n"
EVAL_ALONE = "name: w\nmodel: m\nstages:\n  eval: {datasets: {general_qa: {local_path: qa}}}\n"
EVAL_URL = "name: w\nmodel: m\nstages:\n  eval:\n    datasets: {general_qa: {}}\n    api_url: http://h:1/v1\n"
TWO_PORTS = HEAD + "  sft: {}\n  d1: {kind: deploy, port: 8011}\n  d2: {kind: deploy, port: 8011}\n"


def edit(old: str, new: str) -> str:
    assert old in FULL, old
    return FULL.replace(old, new, 1)


def cli_error(path: Path, capsys: pytest.CaptureFixture[str], overrides: list[str] | None = None) -> list[str]:
    """What `swiftpipe plan` prints for a broken file, with its exit code checked."""
    code = boundary(lambda: plan(path, overrides=list(overrides or []), selection=Selection()))
    err = capsys.readouterr().err
    assert code == EXIT_USER_ERROR, err
    lines = err.splitlines()
    assert all(line.startswith("swiftpipe: error: ") for line in lines), err
    return [line.removeprefix("swiftpipe: error: ") for line in lines]


# (id, the broken pipeline, the key each line names)
BROKEN = [
    ("port-zero", edit("port: 8011", "port: 0"), "stages.deploy.port"),
    ("port-too-big", edit("port: 8011", "port: 70000"), "stages.deploy.port"),
    ("port-bool", edit("port: 8011", "port: true"), "stages.deploy.port"),
    ("port-string", edit("port: 8011", "port: '8011'"), "stages.deploy.port"),
    ("port-null", edit("port: 8011", "port:"), "stages.deploy.port"),
    ("ready-timeout-zero", edit("ready_timeout: 60", "ready_timeout: 0"), "stages.deploy.ready_timeout"),
    ("ready-timeout-negative", edit("ready_timeout: 60", "ready_timeout: -5"), "stages.deploy.ready_timeout"),
    ("ready-timeout-nan", edit("ready_timeout: 60", "ready_timeout: .nan"), "stages.deploy.ready_timeout"),
    ("source-limit-zero", edit("limit: 100", "limit: 0"), "data.sources[0].limit"),
    ("source-limit-float", edit("limit: 100", "limit: 2.5"), "data.sources[0].limit"),
    ("val-ratio-one", edit("val_ratio: 0.1", "val_ratio: 1"), "data.val_ratio"),
    ("val-ratio-negative", edit("val_ratio: 0.1", "val_ratio: -0.1"), "data.val_ratio"),
    ("val-ratio-text", edit("val_ratio: 0.1", "val_ratio: ten percent"), "data.val_ratio"),
    ("reject-ratio-above-one", edit("max_reject_ratio: 0.05", "max_reject_ratio: 1.5"), "data.max_reject_ratio"),
    ("max-length-zero", edit("max_length: 512", "max_length: 0"), "data.max_length"),
    ("sources-empty", edit("  sources:\n    - path: train.jsonl\n      limit: 100\n", "  sources: []\n"),
     "data.sources"),
    ("sources-a-string", edit("  sources:\n    - path: train.jsonl\n      limit: 100\n", "  sources: train.jsonl\n"),
     "data.sources"),
    ("source-not-a-mapping", edit("    - path: train.jsonl\n      limit: 100\n", "    - train.jsonl\n"),
     "data.sources[0]"),
    ("source-path-empty", edit("path: train.jsonl", "path: ''"), "data.sources[0].path"),
    ("source-format-unknown", edit("limit: 100", "format: csv"), "data.sources[0].format"),
    ("eval-limit-zero", edit("limit: 5", "limit: 0"), "stages.eval.limit"),
    ("eval-batch-zero", edit("batch_size: 4", "batch_size: 0"), "stages.eval.batch_size"),
    ("eval-batch-float", edit("batch_size: 4", "batch_size: 4.0"), "stages.eval.batch_size"),
    ("eval-datasets-empty", edit("datasets: {general_qa: {local_path: qa}}", "datasets: {}"), "stages.eval.datasets"),
    ("eval-datasets-list", edit("datasets: {general_qa: {local_path: qa}}", "datasets: [general_qa]"),
     "stages.eval.datasets"),
    ("temperature-text", edit("temperature: 0.0, max_tokens", "temperature: hot, max_tokens"),
     "stages.eval.generation_config.temperature"),
    ("temperature-negative", edit("temperature: 0.0, max_tokens", "temperature: -1, max_tokens"),
     "stages.eval.generation_config.temperature"),
    ("max-tokens-zero", edit("max_tokens: 64", "max_tokens: 0"), "stages.eval.generation_config.max_tokens"),
    ("max-tokens-float", edit("max_tokens: 64", "max_tokens: 1.5"), "stages.eval.generation_config.max_tokens"),
    ("gen-timeout-zero", edit("timeout: 30", "timeout: 0"), "stages.eval.generation_config.timeout"),
    ("top-p-above-one", edit("timeout: 30", "top_p: 2"), "stages.eval.generation_config.top_p"),
    ("generation-config-list", edit("{temperature: 0.0, max_tokens: 64, timeout: 30}", "[0.0, 64]"),
     "stages.eval.generation_config"),
    ("infer-max-new-tokens-zero", edit("max_new_tokens: 32", "max_new_tokens: 0"), "stages.infer.max_new_tokens"),
    ("infer-temperature-negative", edit("temperature: 0.0\ntracking", "temperature: -0.5\ntracking"),
     "stages.infer.temperature"),
    ("name-empty", edit("name: demo", "name: ''"), "name"),
    ("model-missing", edit("model: models/tiny\n", ""), "model"),
    ("checkpoint-empty", edit("checkpoint: last", "checkpoint: ''"), "stages.export.checkpoint"),
    ("tracking-project-empty", edit("project: demo", "project: ''"), "tracking.project"),
    ("tracking-backend", edit("project: demo", "backend: wandb"), "tracking.backend"),
    ("unknown-stage-key", edit("ready_timeout: 60", "ready_timout: 60"), "stages.deploy.ready_timout"),
    ("unknown-top-key", edit("tracking:", "trackng:"), "trackng"),
    ("unknown-kind", edit("  infer:\n", "  infer:\n    kind: infre\n"), "stages.infer.kind"),
    ("stage-not-a-kind", edit("  infer:\n", "  answers:\n"), "stages.answers"),
    ("stage-name-invalid", edit("  infer:\n", "  9infer:\n"), "stages.9infer"),
    ("stage-not-a-mapping", edit("  export:\n    checkpoint: last\n", "  export: last\n"), "stages.export"),
    ("stages-a-list", "name: w\nmodel: m\nstages:\n  - sft\n  - export\n", "stages"),
    ("data-twice", edit("  sft:\n", "  data: {sources: [{path: b.jsonl}]}\n  sft:\n"), "stages.data"),
    ("from-unknown", edit("from: export", "from: exprot"), "stages.infer.from"),
    ("from-wrong-kind", edit("from: export", "from: deploy"), "stages.infer.from"),
    ("from-a-number", edit("from: export", "from: 3"), "stages.infer.from"),
    ("cycle", CYCLE, "stages"),
    ("eval-without-server", EVAL_ALONE, "stages.eval"),
    ("eval-url-without-name", EVAL_URL, "stages.eval.served_model_name"),
    ("two-deploys-one-port", TWO_PORTS, "stages.d2.port"),
    ("duplicate-stage", edit("  infer:\n", "  export: {}\n  infer:\n"), "stages"),
    ("duplicate-top-key", FULL + "name: again\n", "name"),
    ("duplicate-nested-key", edit("{num_train_epochs: 1}", "{num_train_epochs: 1, num_train_epochs: 2}"),
     "stages.sft.args"),
    ("public-host", edit("port: 8011", "port: 8011\n    host: 0.0.0.0"), "stages.deploy.host"),
    ("public-host-no-expose", edit("port: 8011", "port: 8011\n    host: 10.0.0.5\n    api_key_env: KEY"),
     "stages.deploy.host"),
    ("api-key-env-empty", edit("port: 8011", "port: 8011\n    api_key_env: ''"), "stages.deploy.api_key_env"),
    ("literal-secret", edit("{num_train_epochs: 1}", "{hub_token: hf_abc}"), "stages.sft.args.hub_token"),
    ("reserved-arg", edit("{num_train_epochs: 1}", "{output_dir: out}"), "stages.sft.args.output_dir"),
    ("renamed-arg", edit("{num_train_epochs: 1}", "{train_type: lora}"), "stages.sft.args.train_type"),
    ("unset-variable", edit("port: 8011", "port: ${SWIFTPIPE_TEST_UNSET_PORT}"), "stages.deploy.port"),
]


@pytest.mark.parametrize(("text", "key"), [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN])
def test_broken_file_is_exit_2_naming_the_key(
    write_pipeline: Write, capsys: pytest.CaptureFixture[str], no_env: None, text: str, key: str
) -> None:
    path = write_pipeline(text)
    lines = cli_error(path, capsys)
    assert 1 <= len(lines) <= 4, lines
    for line in lines:  # `file:line › key: ...`; a duplicate top-level key: `file:line: duplicate key 'key'`
        assert line.startswith(str(path)) and (f"› {key}: " in line or f"duplicate key '{key}'" in line), line


def test_there_are_forty_broken_files() -> None:
    assert len(BROKEN) >= 40 and len({c[0] for c in BROKEN}) == len(BROKEN)


def test_the_full_pipeline_is_valid(write_pipeline: Write) -> None:
    graph = load_pipeline(write_pipeline(FULL), env={}).graph
    assert graph["deploy"].config.port == 8011 and graph["eval"].config.limit == 5
    assert graph["eval"].config.generation_config == {"temperature": 0.0, "max_tokens": 64, "timeout": 30}


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1"])
def test_loopback_hosts_need_no_key(write_pipeline: Write, host: str) -> None:
    loaded = load_pipeline(write_pipeline(edit("port: 8011", f"port: 8011\n    host: '{host}'")), env={})
    assert loaded.graph["deploy"].config.host == host


def test_a_public_host_with_key_and_expose_is_valid(write_pipeline: Write) -> None:
    text = edit("port: 8011", "port: 8011\n    host: 0.0.0.0\n    api_key_env: SERVE_KEY\n    expose: true")
    assert load_pipeline(write_pipeline(text), env={}).graph["deploy"].config.expose is True


def test_yaml_merge_keys_are_not_duplicates(write_pipeline: Write) -> None:
    text = ("x-train: &train\n  args: {max_steps: 2}\n  resume: false\n" + HEAD
            + "  sft:\n    <<: *train\n    resume: true\n")
    sft = load_pipeline(write_pipeline(text), env={}).graph["sft"].config
    assert sft.resume is True and sft.args == {"max_steps": 2}


def exact(write: Write, text: str, overrides: list[str] | None = None, env: dict[str, str] | None = None) -> list[str]:
    path = write(text)
    with pytest.raises(UserError) as info:
        load_pipeline(path, overrides, env=env or {})
    return [line.replace(f"{path}", "pipeline.yaml", 1) for line in str(info.value).splitlines()]


EXACT = [
    ("port-zero", edit("port: 8011", "port: 0"),
     ["pipeline.yaml:16 › stages.deploy.port: expected an integer from 1 to 65535, got 0"]),
    ("port-bool", edit("port: 8011", "port: true"),
     ["pipeline.yaml:16 › stages.deploy.port: expected an integer from 1 to 65535, got true"]),
    ("ready-timeout-zero", edit("ready_timeout: 60", "ready_timeout: 0"),
     ["pipeline.yaml:17 › stages.deploy.ready_timeout: expected a number > 0, got 0"]),
    ("source-limit-zero", edit("limit: 100", "limit: 0"),
     ["pipeline.yaml:6 › data.sources[0].limit: expected an integer >= 1, got 0"]),
    ("val-ratio-one", edit("val_ratio: 0.1", "val_ratio: 1"),
     ["pipeline.yaml:7 › data.val_ratio: expected a number >= 0 and < 1, got 1"]),
    ("reject-ratio", edit("max_reject_ratio: 0.05", "max_reject_ratio: 1.5"),
     ["pipeline.yaml:8 › data.max_reject_ratio: expected a number from 0 to 1, got 1.5"]),
    ("sources-empty", edit("  sources:\n    - path: train.jsonl\n      limit: 100\n", "  sources: []\n"),
     ["pipeline.yaml:4 › data.sources: expected at least one item, got an empty list"]),
    ("eval-datasets-empty", edit("datasets: {general_qa: {local_path: qa}}", "datasets: {}"),
     ["pipeline.yaml:19 › stages.eval.datasets: expected at least one entry, got an empty mapping"]),
    ("eval-batch-zero", edit("batch_size: 4", "batch_size: 0"),
     ["pipeline.yaml:21 › stages.eval.batch_size: expected an integer >= 1, got 0"]),
    ("temperature-text", edit("temperature: 0.0, max_tokens", "temperature: hot, max_tokens"),
     ["pipeline.yaml:22 › stages.eval.generation_config.temperature: expected a number >= 0, got 'hot'"]),
    ("max-tokens-float", edit("max_tokens: 64", "max_tokens: 1.5"),
     ["pipeline.yaml:22 › stages.eval.generation_config.max_tokens: expected an integer >= 1, got 1.5"]),
    ("gen-timeout-zero", edit("timeout: 30", "timeout: 0"),
     ["pipeline.yaml:22 › stages.eval.generation_config.timeout: expected a number > 0, got 0"]),
    ("infer-max-new-tokens", edit("max_new_tokens: 32", "max_new_tokens: 0"),
     ["pipeline.yaml:25 › stages.infer.max_new_tokens: expected an integer >= 1, got 0"]),
    ("name-empty", edit("name: demo", "name: ''"),
     ["pipeline.yaml:1 › name: expected a non-empty string, got ''"]),
    ("duplicate-stage", edit("  infer:\n", "  export: {}\n  infer:\n"),
     ["pipeline.yaml:23 › stages: duplicate key 'export' (first at line 13); YAML keeps only the last one"]),
    ("duplicate-top-key", FULL + "name: again\n",
     ["pipeline.yaml:29: duplicate key 'name' (first at line 1); YAML keeps only the last one"]),
    ("duplicate-in-flow", edit("{num_train_epochs: 1}", "{num_train_epochs: 1, num_train_epochs: 2}"),
     ["pipeline.yaml:12 › stages.sft.args: duplicate key 'num_train_epochs' (first at line 12); "
      "YAML keeps only the last one"]),
    ("public-host", edit("port: 8011", "port: 8011\n    host: 0.0.0.0"), [
        "pipeline.yaml:17 › stages.deploy.host: '0.0.0.0' lets other machines reach the server; add api_key_env: "
        "<VARIABLE> naming the environment variable that holds its API key",
        "pipeline.yaml:17 › stages.deploy.host: '0.0.0.0' lets other machines reach the server; add expose: true "
        "to confirm that is intended",
    ]),
    ("eval-without-server", EVAL_ALONE, [
        "pipeline.yaml:4 › stages.eval: nothing to evaluate: add a deploy stage before it (or name one with from:) "
        "or give api_url",
    ]),
    ("eval-from-data", HEAD + "  eval: {from: data, datasets: {general_qa: {}}}\n", [
        "pipeline.yaml:5 › stages.eval.from: 'data' is a data stage; an eval stage reads from deploy stages",
    ]),
    ("eval-url-without-name", EVAL_URL, [
        "pipeline.yaml:4 › stages.eval.served_model_name: required with api_url: the model name the endpoint serves",
    ]),
    ("cycle", CYCLE, ["pipeline.yaml:4 › stages: cycle: a -> b -> a; a stage cannot read from itself"]),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in EXACT], ids=[c[0] for c in EXACT])
def test_exact_messages(write_pipeline: Write, text: str, expected: list[str]) -> None:
    assert exact(write_pipeline, text) == expected


def test_an_override_out_of_range_names_the_override(write_pipeline: Write) -> None:
    assert exact(write_pipeline, FULL, ["stages.eval.batch_size=0"]) == [
        "--set › stages.eval.batch_size: expected an integer >= 1, got 0"]


def test_an_interpolated_value_is_checked_too(write_pipeline: Write) -> None:
    text = edit("port: 8011", "port: ${PORT}")
    assert exact(write_pipeline, text, env={"PORT": "99999"}) == [
        "pipeline.yaml:16 › stages.deploy.port: expected an integer from 1 to 65535, got 99999"]


def test_a_duplicate_is_reported_beside_other_problems(write_pipeline: Write) -> None:
    text = edit("  infer:\n", "  export: {}\n  infer:\n").replace("port: 8011", "port: 0")
    assert exact(write_pipeline, text) == [
        "pipeline.yaml:23 › stages: duplicate key 'export' (first at line 13); YAML keeps only the last one",
        "pipeline.yaml:16 › stages.deploy.port: expected an integer from 1 to 65535, got 0",
    ]


def test_a_duplicate_inside_an_anchor_is_reported_once(write_pipeline: Write) -> None:
    text = ("x-train: &train\n  resume: false\n  resume: true\n" + HEAD
            + "  a: {kind: sft, <<: *train}\n  b: {kind: sft, <<: *train}\n")
    assert exact(write_pipeline, text) == [
        "pipeline.yaml:3 › x-train: duplicate key 'resume' (first at line 2); YAML keeps only the last one"]


@pytest.mark.parametrize("value", ["none", "null", "[none]"])
def test_tracking_takes_over_a_report_to_that_is_none_or_null(write_pipeline: Write, value: str) -> None:
    text = edit("{num_train_epochs: 1}", f"{{num_train_epochs: 1, report_to: {value}}}")
    loaded = load_pipeline(write_pipeline(text), ["tracking.backend=swanlab", "tracking.mode=local"], env={})
    assert loaded.config.tracking.backend == "swanlab"


def test_a_report_to_that_competes_with_tracking_is_refused(write_pipeline: Write) -> None:
    text = edit("{num_train_epochs: 1}", "{num_train_epochs: 1, report_to: tensorboard}")
    assert exact(write_pipeline, text, ["tracking.backend=swanlab"]) == [
        "pipeline.yaml:12 › stages.sft.args.report_to: set by 'tracking'; remove it here"]
