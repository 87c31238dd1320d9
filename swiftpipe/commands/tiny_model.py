"""`swiftpipe tiny-model DIR`: build the deterministic tiny model, once."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from swiftpipe import console
from swiftpipe.errors import UserError
from swiftpipe.tinymodel import MARKER, is_current


def tiny_model(directory: Path, *, force: bool) -> int:
    if is_current(directory) and not force:
        console.info(f"{directory}: tiny model already built")
        return 0
    if directory.exists() and any(directory.iterdir()) and not (directory / MARKER).is_file():
        raise UserError(f"{directory}: exists and is not a swiftpipe tiny model; choose another directory")
    from swiftpipe.tinymodel import build_tiny_model

    partial = directory.with_name(directory.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)  # leftover of an interrupted build
    console.step(f"building the tiny model in {directory}")
    build_tiny_model(partial)
    if directory.exists():
        shutil.rmtree(directory)
    os.replace(partial, directory)
    console.success(f"tiny model ready: {directory}")
    return 0
