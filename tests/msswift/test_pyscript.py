"""The Python of a console script is found whatever form of #! pip wrote."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from swiftpipe.msswift.pyscript import interpreter

PYTHON = sys.executable


def script(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return str(path)


def test_a_plain_shebang_names_the_python(tmp_path: Path) -> None:
    assert interpreter(script(tmp_path / "swift", f"#!{PYTHON}\nimport sys\n")) == PYTHON
    assert interpreter(script(tmp_path / "opts", f"#!{PYTHON} -E\nimport sys\n")) == PYTHON


def test_env_finds_the_python_on_the_path(tmp_path: Path) -> None:
    found = shutil.which("python3")
    assert found is not None
    assert interpreter(script(tmp_path / "swift", "#!/usr/bin/env python3\nimport sys\n")) == found


def test_pips_sh_trampoline_names_the_python_in_a_folder_with_a_space(tmp_path: Path) -> None:
    python = tmp_path / "venv with space" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.symlink_to(PYTHON)
    text = f"#!/bin/sh\n'''exec' \"{python}\" \"$0\" \"$@\"\n' '''\nimport sys\nfrom swift.cli.main import cli_main\n"
    assert interpreter(script(python.parent / "swift", text)) == str(python)


def test_a_shell_wrapper_that_runs_another_file_names_no_python(tmp_path: Path) -> None:
    other = f"#!/bin/sh\nexec \"{PYTHON}\" /elsewhere/fake_swift.py \"$@\"\n"
    assert interpreter(script(tmp_path / "a" / "swift", other)) is None
    assert interpreter(script(tmp_path / "b" / "swift", "#!/bin/sh\nexit 0\n")) is None
    assert interpreter(script(tmp_path / "c" / "swift", "#!/bin/bash\necho python\n")) is None
    assert interpreter(str(tmp_path / "missing")) is None
