"""The error boundary's crash log: private to the user, secrets masked, never written through a link."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from swiftpipe.core.errors import EXIT_CRASH, boundary, crash_log_path

ARGV = ["swiftpipe", "run", "p.yaml", "--set", "stages.sft.args.hub_token=hf_SET_SECRET", "--set",
        "stages.sft.args.max_steps=5", "--set=stages.eval.api_key=sk_EQ_SECRET",
        "--set", "stages.eval.api_url=http://me:pw_URL_SECRET@127.0.0.1:8000/v1"]


def crash() -> int:
    raise RuntimeError("failed on hf_SET_SECRET, sk_EQ_SECRET, hf_ENV_SECRET and http://me:pw_URL_SECRET@127.0.0.1/")


@pytest.fixture
def crashing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The crash log's path, in tmp_path, with secrets in argv and the environment."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_TOKEN", "hf_ENV_SECRET")
    monkeypatch.setattr(sys, "argv", ARGV)
    return crash_log_path()


def test_the_crash_log_is_private_and_holds_no_secret(crashing: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert boundary(crash) == EXIT_CRASH
    assert stat.S_IMODE(crashing.stat().st_mode) == 0o600
    text = crashing.read_text()
    err = capsys.readouterr().err
    for secret in ("hf_SET_SECRET", "sk_EQ_SECRET", "hf_ENV_SECRET", "pw_URL_SECRET"):
        assert secret not in text and secret not in err
    assert "argv: ['swiftpipe', 'run', 'p.yaml', '--set', 'stages.sft.args.hub_token=***', '--set', " \
           "'stages.sft.args.max_steps=5', '--set=stages.eval.api_key=***', '--set', " \
           "'stages.eval.api_url=http://me:***@127.0.0.1:8000/v1']" in text.splitlines()
    assert "RuntimeError: failed on ***, ***, *** and http://me:***@127.0.0.1/" in text.splitlines()
    assert err.splitlines()[0] == "swiftpipe: internal error: RuntimeError: failed on ***, ***, *** and " \
                                  "http://me:***@127.0.0.1/"


def test_a_link_planted_at_the_crash_log_is_replaced_not_followed(crashing: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("mine")
    crashing.parent.mkdir(parents=True)
    crashing.symlink_to(victim)
    assert boundary(crash) == EXIT_CRASH
    assert victim.read_text() == "mine"
    assert not crashing.is_symlink() and stat.S_IMODE(crashing.stat().st_mode) == 0o600
    assert list(crashing.parent.iterdir()) == [crashing]  # no temporary file left behind
