"""A server's log outlives swiftpipe: a small relay process owns the output pipe.

`swiftpipe run --until deploy` leaves the server running after swiftpipe exits.
Had swiftpipe itself read the server's output, the server would then write into
a pipe nobody reads (and its log would stop). So the server is started as
`python -m swiftpipe.serving.serverlog LOG -- swift deploy ...`: the relay leads a new
process group, starts the server in that same group, copies its output into LOG
with secrets masked (swift prints its arguments, API key included, at startup),
and exits with the server's exit code once the output ends. Stopping the group
stops relay and server together. swiftpipe follows LOG to see readiness.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import sys
from pathlib import Path

from swiftpipe.core import process

# The strings to mask travel in the relay's environment, never in an argv.
REDACT_ENV = "SWIFTPIPE_REDACT"


def relay_argv(log: Path, argv: list[str]) -> list[str]:
    """The command that runs `argv` with its output relayed into `log`."""
    return [sys.executable, "-m", "swiftpipe.serving.serverlog", str(log), "--", *argv]


def _keep_relaying(signum: int, _frame: object) -> None:
    # A Python handler rather than SIG_IGN: ignored signals stay ignored across
    # exec, and the server must still see SIGINT/SIGTERM. The relay waits for
    # the server's output to end instead; SIGKILL still ends it.
    return None


def main(args: list[str]) -> int:
    if len(args) < 3 or args[1] != "--":
        print("usage: python -m swiftpipe.serving.serverlog LOG -- COMMAND...", file=sys.stderr)
        return 2
    log, argv = Path(args[0]), args[2:]
    secrets = json.loads(os.environ.pop(REDACT_ENV, "[]"))
    signal.signal(signal.SIGINT, _keep_relaying)
    signal.signal(signal.SIGTERM, _keep_relaying)
    proc = process.spawn(argv, dict(os.environ), new_session=False)
    assert proc.stdout is not None
    with log.open("ab") as fh:
        process.Tee(fh, echo=False, on_line=None, redact=secrets).pump(proc.stdout)
    return proc.wait()


class LogFollower:
    """Read the lines a log gains after `offset`; keeps the last ones for error messages."""

    def __init__(self, path: Path, offset: int, keep: int = 20) -> None:
        self.path = path
        self._offset = offset
        self._partial = b""
        self.last: collections.deque[str] = collections.deque(maxlen=keep)

    def new_lines(self) -> list[str]:
        try:
            with self.path.open("rb") as fh:
                fh.seek(self._offset)
                data = fh.read()
        except FileNotFoundError:
            return []
        self._offset += len(data)
        data = (self._partial + data).replace(b"\r", b"\n")
        *complete, self._partial = data.split(b"\n")
        lines = [line.decode("utf-8", "replace") for line in complete if line.strip()]
        self.last.extend(lines)
        return lines

    def tail(self) -> str:
        self.new_lines()
        return "\n".join(self.last)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
