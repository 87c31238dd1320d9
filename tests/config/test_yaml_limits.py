"""The YAML layer bounds alias expansion and nesting: a small file cannot cost unbounded memory or stack."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from swiftpipe.config.yamlkeys import ALIAS_BUDGET, MAX_DEPTH, YamlLimit, parse
from swiftpipe.core.errors import UserError
from swiftpipe.loading import load_pipeline

Write = Callable[..., Path]  # write_pipeline(text, name="pipeline.yaml")
GIB = 1 << 30
HEAD = "name: demo\nmodel: m\n"
TOO_MANY = f"aliases repeat more than {ALIAS_BUDGET} values; write the values out or alias smaller pieces"
TOO_DEEP = f"values nested more than {MAX_DEPTH} levels deep; a pipeline needs far fewer"
RECURSIVE = "recursive alias: the value anchored here contains itself"


def laughs(indent: str = "") -> str:
    """Nine lines that describe 9^9 values: each list holds nine aliases of the one before."""
    lines = [f"{indent}a: &a [{', '.join(['lol'] * 9)}]"]
    lines += [f"{indent}{n}: &{n} [{', '.join([f'*{p}'] * 9)}]" for p, n in zip("abcdefgh", "bcdefghi", strict=True)]
    return "\n".join(lines) + "\n"


def flow_laughs() -> str:
    """The same as one flow list, for `--set` and environment variables."""
    items = [f"&a [{','.join(['lol'] * 9)}]"]
    items += [f"&{n} [{','.join([f'*{p}'] * 9)}]" for p, n in zip("abcdefgh", "bcdefghi", strict=True)]
    return "[" + ", ".join(items) + "]"


def plan_in_one_gib(path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`swiftpipe plan` in a child limited to 1 GiB of memory: an unbounded expansion fails, not the machine."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (GIB, GIB))

    return subprocess.run([sys.executable, "-m", "swiftpipe", "plan", str(path), *args], capture_output=True,
                          text=True, cwd=path.parent, env={**os.environ, **(env or {})}, preexec_fn=limit,
                          timeout=300)


def refused(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stderr
    return done.stderr


def test_billion_laughs_in_the_file_is_refused_at_its_line(write_pipeline: Write) -> None:
    path = write_pipeline(HEAD + laughs())
    assert refused(plan_in_one_gib(path)) == f"swiftpipe: error: {path}:7: {TOO_MANY}\n"


def test_billion_laughs_under_an_ignored_x_key_is_refused_too(write_pipeline: Write) -> None:
    path = write_pipeline(HEAD + "x-lol:\n" + laughs("  "))
    assert refused(plan_in_one_gib(path)) == f"swiftpipe: error: {path}:8: {TOO_MANY}\n"


def test_billion_laughs_in_a_set_value_is_refused(write_pipeline: Write) -> None:
    path = write_pipeline(HEAD)
    done = plan_in_one_gib(path, "--set", f"x-lol={flow_laughs()}")
    assert refused(done) == f"swiftpipe: error: --set x-lol: {TOO_MANY}\n"


def test_billion_laughs_in_an_environment_variable_is_refused(write_pipeline: Write) -> None:
    path = write_pipeline(HEAD + "stages:\n  sft:\n    dataset: [t.jsonl]\n    args:\n      max_steps: ${LOL}\n")
    done = plan_in_one_gib(path, env={"LOL": flow_laughs()})
    expected = f"{path}:7 › stages.sft.args.max_steps: environment variable LOL: {TOO_MANY}"
    assert refused(done) == f"swiftpipe: error: {expected}\n"


def error_of(path: Path, overrides: list[str] | None = None) -> str:
    with pytest.raises(UserError) as info:
        load_pipeline(path, overrides, env={})
    return str(info.value)


@pytest.mark.parametrize("value", ["&a [*a]", "&m {k: *m}", "&a [1, [2, *a]]"])
def test_a_recursive_alias_is_refused(write_pipeline: Write, value: str) -> None:
    path = write_pipeline(HEAD + f"x-r: {value}\n")
    assert error_of(path) == f"{path}:3: {RECURSIVE}"
    assert error_of(write_pipeline(HEAD), [f"x-r={value}"]) == f"--set x-r: {RECURSIVE}"


def test_nesting_5000_deep_is_refused_at_the_line_it_passes_the_limit(write_pipeline: Write) -> None:
    path = write_pipeline(HEAD + "x: " + "[" * 5000 + "]" * 5000 + "\n")
    assert error_of(path) == f"{path}:3: {TOO_DEEP}"
    block = "".join(f"{'  ' * i}k{i}:\n" for i in range(5000)) + "  " * 5000 + "v: 1\n"
    path = write_pipeline(HEAD + block, "block.yaml")
    assert error_of(path) == f"{path}:{2 + MAX_DEPTH}: {TOO_DEEP}"
    assert error_of(write_pipeline(HEAD), ["x=" + "[" * 5000]) == f"--set x: {TOO_DEEP}"


def test_nesting_up_to_the_limit_is_read() -> None:
    # The document's mapping is level 1, so a value may nest MAX_DEPTH - 1 lists deep.
    inner = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    assert parse(f"x: {inner}\n").data is not None
    with pytest.raises(YamlLimit):
        parse(f"x: [{inner}]\n")


def test_aliases_may_repeat_up_to_the_budget() -> None:
    width = 999  # a list and its items: 1000 values each time it is repeated

    def text(uses: int) -> str:
        return f"a: &a [{', '.join(['1'] * width)}]\nb: [{', '.join(['*a'] * uses)}]\n"

    uses = ALIAS_BUDGET // (width + 1)
    assert len(parse(text(uses)).data["b"]) == uses
    with pytest.raises(YamlLimit) as info:
        parse(text(uses + 1))
    assert (info.value.line, info.value.message) == (2, TOO_MANY)


def test_an_alias_deeper_than_the_limit_is_refused() -> None:
    half = MAX_DEPTH // 2 + 1
    text = f"a: &a {'[' * half}1{']' * half}\nb: {'[' * half}*a{']' * half}\n"
    with pytest.raises(YamlLimit) as info:
        parse(text)
    assert (info.value.line, info.value.message) == (2, TOO_DEEP)
