"""The docs match the code: the README's reference is the schema, CI runs the README's tests."""

from __future__ import annotations

from pathlib import Path

from swiftpipe.config.reference import BEGIN, END, markdown

REPO = Path(__file__).parent.parent


def test_readme_reference_is_generated_from_the_schema() -> None:
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index(BEGIN): readme.index(END) + len(END)]
    assert section == markdown(), "run: python -m swiftpipe.config.reference, and paste into README.md"


def test_ci_runs_the_test_command_the_readme_gives() -> None:
    readme = (REPO / "README.md").read_text()
    assert "make test    # unit tests, then the real swift/evalscope chain" in readme
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert "make test" in ci


def test_every_makefile_stage_target_uses_only() -> None:
    makefile = (REPO / "Makefile").read_text()
    assert "sft export deploy eval: install\n\t$(SWIFTPIPE) run $(PIPELINE) --only $@" in makefile
