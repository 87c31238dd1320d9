"""Tool versions and the project's git commit, for the manifest and fingerprints.

Read from package metadata, never by importing the packages (torch alone takes
seconds to import).
"""

from __future__ import annotations

import subprocess
from importlib import metadata
from pathlib import Path

TOOLS = ("ms-swift", "torch", "transformers", "peft", "evalscope", "swanlab", "lmdeploy", "vllm")


def tool_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in TOOLS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_state(directory: Path) -> tuple[str | None, bool | None]:
    """(commit, dirty) of the repository holding `directory`, or (None, None)."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(directory), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(directory), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None, None
    return commit, bool(status.strip())
