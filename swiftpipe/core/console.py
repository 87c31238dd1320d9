"""Status lines for people: all of swiftpipe's own output goes through here, to stderr."""

from __future__ import annotations

import re
import sys

# Terminal colour codes, as tools write them in their logs (evalscope colours its INFO lines).
_COLOURS = re.compile(r"\x1b\[[0-9;]*m")


def _isatty() -> bool:
    return sys.stderr.isatty()


def uncoloured(text: str) -> str:
    """`text` without terminal colour codes, for a page or a message that is not a terminal."""
    return _COLOURS.sub("", text)


def _style(text: str, code: str) -> str:
    return f"\033[{code}m{text}\033[0m" if _isatty() else text


def step(msg: str) -> None:
    """A stage starts or a major step begins."""
    print(_style(f"==> {msg}", "1"), file=sys.stderr, flush=True)


def info(msg: str) -> None:
    print(f"    {msg}", file=sys.stderr, flush=True)


def notice(msg: str) -> None:
    """Something the user should know about but that does not stop the run."""
    print(_style(f"note: {msg}", "33"), file=sys.stderr, flush=True)


def success(msg: str) -> None:
    print(_style(f"==> {msg}", "32"), file=sys.stderr, flush=True)


def failure(msg: str) -> None:
    print(_style(f"==> {msg}", "31"), file=sys.stderr, flush=True)
