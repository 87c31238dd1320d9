"""User-facing errors and the single error boundary of the CLI."""

from __future__ import annotations

import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

EXIT_STAGE_FAILED = 1
EXIT_USER_ERROR = 2
EXIT_CRASH = 3
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141


class UserError(Exception):
    """A mistake the user can fix: printed as one line, exit code 2, no traceback."""


class StageFailed(Exception):
    """A stage's process failed; the message already says how to resume."""

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Crashed(Exception):
    """An internal error inside a stage: recorded as crashed, traceback in `log`, exit 3."""

    def __init__(self, stage: str, cause: BaseException, log: Path) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.stage, self.log = stage, log


class Interrupted(Exception):
    """Ctrl-C or SIGTERM reached swiftpipe; children have been stopped."""


def crash_log_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "swiftpipe" / "crash.log"


def _write_crash_log(exc: BaseException) -> Path:
    from swiftpipe import __version__

    path = crash_log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        f"time: {time.strftime('%Y-%m-%d %H:%M:%S')}",
        f"swiftpipe: {__version__}",
        f"python: {sys.version.split()[0]} ({platform.platform()})",
        f"argv: {sys.argv}",
        "",
        "".join(traceback.format_exception(exc)),
    ]
    path.write_text("\n".join(lines))
    return path


def boundary(func: Callable[[], int]) -> int:
    """Run a command and turn every outcome into an exit code and at most a few lines."""
    try:
        return func()
    except UserError as exc:
        for line in str(exc).splitlines():
            print(f"swiftpipe: error: {line}", file=sys.stderr)
        return EXIT_USER_ERROR
    except StageFailed as exc:
        print(f"swiftpipe: {exc}", file=sys.stderr)
        return EXIT_STAGE_FAILED
    except Crashed as exc:
        print(
            f"swiftpipe: internal error in stage {exc.stage}: {exc}\n"
            f"swiftpipe: the stage is recorded as crashed; traceback in {exc.log}; "
            "please include it in a bug report",
            file=sys.stderr,
        )
        return EXIT_CRASH
    except BrokenPipeError:
        # Output was piped into something that stopped reading (e.g. `| head`): not an error.
        sys.stderr.close()
        return EXIT_BROKEN_PIPE
    except (KeyboardInterrupt, Interrupted):
        print("swiftpipe: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # the one place where anything unexpected is caught
        path = _write_crash_log(exc)
        print(
            f"swiftpipe: internal error: {type(exc).__name__}: {exc}\n"
            f"swiftpipe: details written to {path}; please include it in a bug report",
            file=sys.stderr,
        )
        return EXIT_CRASH
