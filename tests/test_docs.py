"""The docs match the code: the README's reference is the schema, CI runs the README's tests."""

from __future__ import annotations

import re
from pathlib import Path

from swiftpipe.commands.reference import BEGIN, END, markdown
from swiftpipe.loading import load_pipeline

REPO = Path(__file__).parent.parent


def test_readme_reference_is_generated_from_the_schema() -> None:
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index(BEGIN): readme.index(END) + len(END)]
    assert section == markdown(), "run: python -m swiftpipe.commands.reference, and paste into README.md"


def test_ci_runs_the_test_command_the_readme_gives() -> None:
    readme = (REPO / "README.md").read_text()
    assert "make test    # unit tests, then the real swift/evalscope chain" in readme
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert "make test" in ci


def test_a_makefile_stage_target_builds_what_the_stage_needs() -> None:
    # `make sft` on a fresh checkout must run data first, as make runs prerequisites (issue #21).
    makefile = (REPO / "Makefile").read_text()
    recipe = "\t$(SWIFTPIPE) run $(PIPELINE) --until $@ $(SET)"
    rule = re.search(r"^([a-z ]+): install\n" + re.escape(recipe) + "$", makefile, re.M)
    assert rule is not None, "a stage target is: swiftpipe run $(PIPELINE) --until $@ $(SET)"
    demo = load_pipeline(REPO / "pipeline.yaml", [], env={})
    assert rule.group(1).split() == [node.name for node in demo.graph if not node.implied]
