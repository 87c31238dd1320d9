"""The project's git commit and whether tracked files changed, from a real repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

from swiftpipe.core.versions import TOOLS, git_state, tool_versions


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t",
                           "-c", "commit.gpgsign=false", *args], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_git_state_names_the_commit_and_only_tracked_changes_make_it_dirty(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "pipeline.yaml").write_text("name: a\n")
    git(tmp_path, "add", "pipeline.yaml")
    git(tmp_path, "commit", "-q", "-m", "first")
    head = git(tmp_path, "rev-parse", "HEAD")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "untracked.txt").write_text("x")
    assert git_state(tmp_path / "sub") == (head, False)
    (tmp_path / "pipeline.yaml").write_text("name: b\n")
    assert git_state(tmp_path) == (head, True)


def test_git_state_outside_a_repository_is_unknown(tmp_path: Path) -> None:
    assert git_state(tmp_path) == (None, None)


def test_tool_versions_lists_every_tool_with_none_for_the_absent() -> None:
    from importlib import metadata

    versions = tool_versions()
    assert list(versions) == list(TOOLS)
    for name, version in versions.items():
        try:
            assert version == metadata.version(name)
        except metadata.PackageNotFoundError:
            assert version is None
