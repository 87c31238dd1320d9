"""User-facing errors and the single error boundary of the CLI."""

from __future__ import annotations

import os
import platform
import re
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Mapping
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


_URL_PASSWORD = re.compile(r"(://[^/\s:@]+:)[^/\s@]+@")  # scheme://user:password@host


def _write_crash_log(exc: BaseException) -> Path:
    from swiftpipe import __version__

    argv, hidden = masked_argv(sys.argv, os.environ)
    lines = [
        f"time: {time.strftime('%Y-%m-%d %H:%M:%S')}",
        f"swiftpipe: {__version__}",
        f"python: {sys.version.split()[0]} ({platform.platform()})",
        f"argv: {argv}",
        "",
        _scrub("".join(traceback.format_exception(exc)), hidden),
    ]
    return write_private(crash_log_path(), "\n".join(lines))


def _scrub(text: str, hidden: list[str]) -> str:
    """`text` without the secret values `hidden` and without URL passwords."""
    from swiftpipe.core.argv import MASK, redact  # imported here: argv may need errors, not the reverse

    return redact(_URL_PASSWORD.sub(rf"\1{MASK}@", text), hidden)


def masked_argv(argv: list[str], env: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """`argv` with secrets masked, for a log; and the secret values (of `env` too) to redact elsewhere.

    Besides what `mask_argv` hides, `--set KEY=VALUE` hides VALUE when KEY names a secret, and a
    URL's password is masked wherever it appears.
    """
    from swiftpipe.core.argv import MASK, MIN_REDACT, is_secret, mask_argv, secret_values

    out: list[str] = []
    hidden: list[str] = []
    after_set = False
    for item in argv:
        prefix = "" if after_set else "--set=" if item.startswith("--set=") else None
        key, eq, value = item.removeprefix(prefix or "").partition("=")
        if prefix is not None and eq and value and is_secret(key.rsplit(".", 1)[-1]):
            hidden.append(value)
            item = f"{prefix}{key}={MASK}"
        after_set = item == "--set"
        out.append(_scrub(item, []))
    hidden += secret_values(argv, dict(env))
    return mask_argv(out), [h for h in hidden if len(h) >= MIN_REDACT]


def write_private(path: Path, text: str) -> Path:
    """Write `text` to `path`, readable by the owner only (0600), replacing it atomically.

    The text goes to a new file created exclusively (O_EXCL: an existing file or a symlink planted
    there is never opened) and is then renamed over `path`, which replaces a link, not its target.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
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
        what = _scrub(str(exc), masked_argv(sys.argv, os.environ)[1])  # an error may quote a value
        print(
            f"swiftpipe: internal error: {type(exc).__name__}: {what}\n"
            f"swiftpipe: details written to {path}; please include it in a bug report",
            file=sys.stderr,
        )
        return EXIT_CRASH
