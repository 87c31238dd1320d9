"""Status lines: each function's exact text, all on stderr, colour only on a terminal."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from swiftpipe.core import console

LINES: list[tuple[Callable[[str], None], str, str]] = [
    (console.step, "==> sft", "\033[1m==> sft\033[0m"),
    (console.info, "    sft", "    sft"),
    (console.notice, "note: sft", "\033[33mnote: sft\033[0m"),
    (console.success, "==> sft", "\033[32m==> sft\033[0m"),
    (console.failure, "==> sft", "\033[31m==> sft\033[0m"),
]


@pytest.mark.parametrize(("say", "plain", "_"), LINES)
def test_each_line_goes_to_stderr_without_colour_off_a_terminal(
    say: Callable[[str], None], plain: str, _: str, capsys: pytest.CaptureFixture[str]
) -> None:
    say("sft")
    out, err = capsys.readouterr()
    assert (out, err) == ("", plain + "\n")


@pytest.mark.parametrize(("say", "_", "styled"), LINES)
def test_a_terminal_gets_the_colour_of_each_kind_of_line(
    say: Callable[[str], None], _: str, styled: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(console, "_isatty", lambda: True)
    say("sft")
    out, err = capsys.readouterr()
    assert (out, err) == ("", styled + "\n")
