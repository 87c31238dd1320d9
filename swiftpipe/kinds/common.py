"""Small helpers shared by the stages that run swift."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from swiftpipe import process
from swiftpipe.engine.fingerprint import dir_digest
from swiftpipe.engine.stage import StageContext
from swiftpipe.msswift import swiftargs
from swiftpipe.versions import tool_versions

FINGERPRINT_TOOLS = ("ms-swift", "torch", "transformers", "peft")


def program(ctx: StageContext, name: str, overlay: dict[str, str | None], where: str) -> str:
    """Resolve `name` on the PATH the child will see (a stage venv comes first)."""
    return process.resolve_program(name, process.child_env(overlay), where)


def swift_program(ctx: StageContext, overlay: dict[str, str | None], where: str, args: dict[str, Any]) -> str:
    """The stage's `swift`, after checking that it accepts every name under `args:`."""
    swift = program(ctx, "swift", overlay, where)
    swiftargs.check(swift, args, f"{ctx.pipeline.display_name} › {where}")
    return swift


def model_inputs(ctx: StageContext) -> dict[str, Any]:
    """What identifies the base model: its path and, for a local dir, its files."""
    local = ctx.pipeline.path(ctx.config.model)
    if local.is_dir():
        return {"path": str(local), "files": dir_digest(local)}
    return {"id": ctx.config.model}


def stage_versions() -> dict[str, str | None]:
    versions = tool_versions()
    return {name: versions.get(name) for name in FINGERPRINT_TOOLS}


def tail(path: Path, lines: int = 20) -> str:
    """The last lines of a log, for failure messages."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, 2)
            fh.seek(max(0, fh.tell() - 16384))
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
    rows = [r for r in text.replace("\r", "\n").splitlines() if r.strip()]
    return "\n".join(rows[-lines:])
