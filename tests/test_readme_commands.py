"""The README's Quick start, typed as a new user types it: every command block, as written.

The blocks are read from README.md when the test runs, so the test follows the README. Only the
workdir is redirected (SWIFTPIPE_WORKDIR, which the demo and the recipes read; a fresh one per
block) and the demo serves on a free port (SWIFTPIPE_PORT), so the test never touches runs/ or a
server of someone else. `make` blocks run in this checkout (in CI a fresh clone; `make install`
and `make tiny-model` find their outputs and do nothing), `swiftpipe` blocks in an empty folder
with .venv/bin on PATH, as the README says. `make test` is left out: it is what runs this test.
Besides every command exiting 0, the claims the README makes about them are checked.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from swiftpipe.core import host
from swiftpipe.loading import load_pipeline
from swiftpipe.serving import ports

REPO = Path(__file__).parent.parent
LEFT_OUT = {"make test"}  # runs this very test
# What the Quick start must keep telling a new user to type (a prefix of one of its lines).
PROMISED = ["make demo", "make sft export deploy eval", "make stop", "swiftpipe init ",
            "swiftpipe run --profile smoke", "swiftpipe plan", "swiftpipe status", "swiftpipe report"]
BANNER = re.compile(r"^==> (?:\[\d+/\d+\] )?\s*([\w.-]+): (running|skipped|waits)\b", re.M)


def quick_start_blocks() -> list[list[str]]:
    """The command lines of each ```bash block under '## Quick start', comments dropped."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```bash\n(.*?)^```", section, re.M | re.S)
    commands = [[re.sub(r"(^|\s)#.*", "", line).strip() for line in block.splitlines()] for block in blocks]
    return [[line for line in block if line] for block in commands]


class Shell:
    """Runs command lines one by one like a terminal does: a `cd` carries over to the next line."""

    def __init__(self, cwd: Path, env: dict[str, str], state: Path) -> None:
        self.cwd, self.env, self.state = cwd, env, state

    def run(self, line: str) -> str:
        """Run `line` with bash; its output (stdout and stderr together) when it exits 0."""
        script = f'{line}\nrc=$?\npwd > "{self.state}"\nexit $rc\n'
        done = subprocess.run(["bash", "-c", script], cwd=self.cwd, env=self.env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=1800)
        self.cwd = Path(self.state.read_text().strip())
        assert done.returncode == 0, f"$ {line}\nexit {done.returncode}\n{done.stdout[-6000:]}"
        return done.stdout


def banners(output: str) -> dict[str, set[str]]:
    """stage -> what swiftpipe's banners said of it (running, skipped, waits)."""
    said: dict[str, set[str]] = {}
    for stage, state in BANNER.findall(output):
        said.setdefault(stage, set()).add(state)
    return said


def answers(port: int) -> bool:
    """True when a server on the port answers GET /health with 200."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=30) as reply:
            return bool(reply.status == 200)
    except (urllib.error.URLError, OSError):
        return False


class Claims:
    """The README's claims about a command, checked after it ran (keyed by its first words)."""

    def __init__(self, shell: Shell, workdir: Path, port: int) -> None:
        self.shell, self.workdir, self.port = shell, workdir, port

    def check(self, line: str, output: str) -> None:
        checks: dict[str, Callable[[str, str], None]] = {
            "make demo": self.all_ran_then_all_skip,
            "make sft export deploy eval": self.all_ran_then_all_skip,
            "make stop": self.server_gone,
            "swiftpipe run --profile smoke": self.all_ran,
            "swiftpipe report": self.report_written,
        }
        for start, check in checks.items():
            if line.startswith(start):
                check(line, output)

    def all_ran(self, line: str, output: str) -> None:
        manifest = json.loads((self.workdir / "manifest.json").read_text())
        last = {name: r["attempts"][-1]["status"] if r["attempts"] else r["status"]
                for name, r in manifest["stages"].items()}
        assert last and set(last.values()) == {"succeeded"}, (line, last)

    def all_ran_then_all_skip(self, line: str, output: str) -> None:
        """Every stage of the demo ran; the same line again skips every one ("run it again")."""
        self.all_ran(line, output)
        pipeline = load_pipeline(REPO / "pipeline.yaml", [], env=self.shell.env)
        assert set(banners(output)) == set(pipeline.graph.names), output[-4000:]
        if "deploy" in line.split():
            assert answers(self.port), f"after `{line}` the server make deploy started must stay up"
        again = banners(self.shell.run(line))  # a server nothing needs "waits" and is never started
        assert set(again) == set(pipeline.graph.names) and not any("running" in s for s in again.values()), again
        if "deploy" in line.split():
            assert answers(self.port), "the second run must have left the server up"

    def server_gone(self, line: str, output: str) -> None:
        assert not answers(self.port) and not ports.listening("127.0.0.1", self.port), output

    def report_written(self, line: str, output: str) -> None:
        assert (self.workdir / "report" / "index.html").is_file(), output


def test_the_readme_promises_the_commands_a_new_user_types() -> None:
    lines = [line for block in quick_start_blocks() for line in block]
    missing = [cmd for cmd in PROMISED if not any(line.startswith(cmd) for line in lines)]
    assert not missing, f"the Quick start no longer shows: {missing}"


@pytest.mark.integration
@pytest.mark.parametrize("index", range(len(quick_start_blocks())), ids=[b[0] for b in quick_start_blocks()])
def test_a_quick_start_block_runs_as_written(index: int, tmp_path: Path, no_env: None) -> None:
    block = [line for line in quick_start_blocks()[index] if line not in LEFT_OUT]
    in_checkout = block[0].startswith("make ")
    if in_checkout:
        precondition = subprocess.run(["make", "-q", "install"], cwd=REPO)
        assert precondition.returncode == 0, "the .venv is older than pyproject.toml: run `make install` first"
    cwd = REPO if in_checkout else tmp_path / "anywhere"
    cwd.mkdir(exist_ok=True)
    workdir, port = tmp_path / "workdir", host.free_port()
    env = {**os.environ, "SWIFTPIPE_WORKDIR": str(workdir), "SWIFTPIPE_PORT": str(port),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    shell = Shell(cwd, env, tmp_path / "cwd")
    claims = Claims(shell, workdir, port)
    try:
        for line in block:
            claims.check(line, shell.run(line))
    finally:
        if in_checkout:  # a failure above must not leave the demo's server running
            subprocess.run(["make", "stop"], cwd=REPO, env=env, capture_output=True, timeout=300)
