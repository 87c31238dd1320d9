"""`swiftpipe init RECIPE [DIR]`: copy a recipe into DIR/pipeline.yaml to edit (like `tune cp`).

A recipe's relative paths start at the recipe's own folder (`../../datasets/...` reaches the
repository's demo data from swiftpipe/recipes/). The copy rewrites them so they still point at
the same files from DIR; a file that is not there (an installed wheel carries no demo data) is
named so the user can supply it. The workdir becomes `runs/<name>` beside the copy. The text is
rewritten line by line, so the recipe's comments survive.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from swiftpipe.commands.recipes import find
from swiftpipe.core import console
from swiftpipe.core.errors import UserError
from swiftpipe.core.fsio import write_new_text

TARGET = "pipeline.yaml"
# A path starting at the recipe folder's grandparent: ../../<rest>, up to a YAML delimiter.
_UP = re.compile(r"\.\./\.\./([^\s,}\]'\"]+)")


def init(recipe: str, directory: Path) -> int:
    found = find(recipe)
    dest = directory / TARGET
    text, missing = rewrite(found.path.read_text(encoding="utf-8"), found.path.parent, directory)
    _write(directory, dest, text)
    console.success(f"wrote {dest} from recipe {found.name}")
    for path in missing:
        console.notice(f"{path}: not found; put your own file there or edit the path in {dest}")
    console.info(f"next: swiftpipe plan {dest} --profile smoke   (then without --profile, on the real machine)")
    return 0


def _write(directory: Path, dest: Path, text: str) -> None:
    """Create `dest`, never replacing anything (a file, or a symlink planted at its name)."""
    if directory.exists() and not directory.is_dir():
        raise UserError(f"{directory}: not a directory; name a directory for {TARGET}")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        write_new_text(dest, text)
    except FileExistsError:
        raise UserError(f"{dest}: already exists, remove it or choose another directory") from None
    except OSError as exc:
        raise UserError(f"{dest}: cannot be written ({exc.strerror or exc}); choose another directory") from None


def rewrite(text: str, recipe_dir: Path, dest_dir: Path) -> tuple[str, list[str]]:
    """`text` with every ../../ path made to work from `dest_dir`; and the paths that do not exist."""
    base = recipe_dir.parent.parent
    missing: list[str] = []

    def repl(match: re.Match[str]) -> str:
        rest = match.group(1)
        if rest.startswith("runs/"):
            return rest  # workdirs: beside the copy, not inside the checkout the recipe came from
        target = (base / rest).resolve()
        if not target.exists():
            missing.append(rest)
            return rest
        dest = dest_dir.resolve()
        # Relative inside the checkout (the copy moves with it), absolute from anywhere else.
        return os.path.relpath(target, dest) if dest.is_relative_to(base.resolve()) else str(target)

    return _UP.sub(repl, text), sorted(set(missing))
