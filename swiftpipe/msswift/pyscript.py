"""Which Python a pip-installed console script (`swift`) runs with.

pip (distlib) writes `#!<python>` when it can. When the interpreter's path is longer than
the kernel's #! limit (127 bytes) or contains a space, it writes a script that `/bin/sh`
starts and that re-executes itself with Python instead:

    #!/bin/sh
    '''exec' "/path with space/bin/python" "$0" "$@"
    ' '''

Both forms name the Python. A wrapper that runs something else (a shell script, a fake
`swift` in the tests that execs another file) names none: its arguments are not ms-swift's.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil

_PYTHON = re.compile(r"python[\d.]*$")
_MAX_HEAD = 4096  # the #! line and the exec line; a real script's are far shorter


def interpreter(script: str) -> str | None:
    """The Python executable that runs `script`, or None when it is not a Python console script."""
    try:
        with open(script, "rb") as fh:
            head = fh.read(_MAX_HEAD).decode("utf-8", "replace").splitlines()
    except OSError:
        return None
    if not head or not head[0].startswith("#!"):
        return None
    first = head[0][2:].strip()
    python = _trampoline(head[1]) if _is_sh(first) and len(head) > 1 else _shebang(first)
    return python if python and _PYTHON.search(os.path.basename(python)) and os.access(python, os.X_OK) else None


def _is_sh(line: str) -> bool:
    return line.split()[0] in ("/bin/sh", "/usr/bin/sh") if line else False


def _shebang(line: str) -> str | None:
    """`/path/python` or `/usr/bin/env python3` (found on PATH as the kernel's env would)."""
    words = line.split()
    if len(words) >= 2 and os.path.basename(words[0]) == "env":
        return shutil.which(words[1])
    return words[0] if words else None


def _trampoline(line: str) -> str | None:
    """The Python of distlib's sh trampoline: `'''exec' <python> [options] "$0" "$@"`."""
    try:
        words = shlex.split(line)
    except ValueError:
        return None
    # Only a line that re-runs this very script ("$0") is the trampoline; anything else runs other code.
    if len(words) < 4 or words[0] != "exec" or words[-2:] != ["$0", "$@"]:
        return None
    if not all(w.startswith("-") for w in words[2:-2]):
        return None
    return words[1]
