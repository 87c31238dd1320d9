"""`swiftpipe tiny-model DIR`: build the deterministic tiny model, once.

The model is built in `DIR.partial` and renamed into place when complete. That folder is
made by this command (exclusively) and carries a marker while it is being built, so a
leftover of an interrupted build can be removed, and a `DIR.partial` of anyone else's never is.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from swiftpipe.core import console
from swiftpipe.core.errors import UserError
from swiftpipe.msswift.tinymodel import MARKER, is_current

# In DIR.partial from the moment this command makes it until the build is complete.
BUILDING = ".swiftpipe-tiny-building"


def tiny_model(directory: Path, *, force: bool) -> int:
    _check_target(directory)
    if is_current(directory) and not force:
        console.info(f"{directory}: tiny model already built")
        return 0
    if directory.is_symlink():
        raise UserError(f"{directory}: is a symbolic link; name the directory it points to instead")
    if directory.exists() and any(directory.iterdir()) and not (directory / MARKER).is_file():
        raise UserError(f"{directory}: exists and is not a swiftpipe tiny model; choose another directory")
    from swiftpipe.msswift.tinymodel import build_tiny_model

    partial = _fresh_partial(directory)
    console.step(f"building the tiny model in {directory}")
    build_tiny_model(partial)
    (partial / BUILDING).unlink()
    if directory.exists():
        shutil.rmtree(directory)
    os.replace(partial, directory)
    console.success(f"tiny model ready: {directory}")
    return 0


def _check_target(directory: Path) -> None:
    """A folder the model can be renamed onto: not a file, not the current folder or one above it."""
    if directory.exists() and not directory.is_dir():
        raise UserError(f"{directory}: not a directory; name a new directory for the tiny model")
    here = Path.cwd().resolve()
    if directory.resolve() in (here, *here.parents):
        raise UserError(f"{directory}: is the current directory or holds it; name a new directory for the "
                        f"tiny model, e.g. {directory / 'tiny-qwen3'}")


def _fresh_partial(directory: Path) -> Path:
    """`DIR.partial`, made afresh; a leftover of ours is removed, anything else is refused."""
    partial = directory.with_name(directory.name + ".partial")
    ours = not partial.is_symlink() and (partial / BUILDING).is_file()
    if partial.exists() or partial.is_symlink():
        if not ours:
            raise UserError(f"{partial}: exists and was not made by swiftpipe tiny-model; "
                            "move it away or choose another directory")
        console.notice(f"removing {partial.name}, left by a tiny-model build that did not finish")
        shutil.rmtree(partial)
    partial.parent.mkdir(parents=True, exist_ok=True)
    try:
        partial.mkdir()  # exclusive: a folder made meanwhile by someone else is not taken over
    except FileExistsError:
        raise UserError(f"{partial}: appeared while swiftpipe was about to build there; "
                        "move it away or choose another directory") from None
    (partial / BUILDING).touch(exist_ok=False)
    return partial
