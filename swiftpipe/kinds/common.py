"""Small helpers shared by the kinds that run swift: programs, the model they start from."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from swiftpipe.core import process
from swiftpipe.core.errors import UserError
from swiftpipe.core.versions import tool_versions
from swiftpipe.engine.fingerprint import dir_digest
from swiftpipe.engine.outputs import ModelOutputs, Pending
from swiftpipe.engine.stage import StageContext
from swiftpipe.msswift import swiftargs

FINGERPRINT_TOOLS = ("ms-swift", "torch", "transformers", "peft")
# What makes two model folders the same model (args.json and logs name paths and times).
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".json", ".model", ".txt", ".jinja")
NOT_WEIGHTS = ("args.json", "trainer_state.json", "additional_config.json")


def program(ctx: StageContext, name: str, overlay: dict[str, str | None]) -> str:
    """Resolve `name` on the PATH the child will see (a stage venv comes first)."""
    return process.resolve_program(name, process.child_env(overlay), ctx.where)


def swift_program(ctx: StageContext, overlay: dict[str, str | None], args: dict[str, Any]) -> str:
    """The stage's `swift`, after checking that it accepts every name under `args:`."""
    swift = program(ctx, "swift", overlay)
    swiftargs.check(swift, args, f"{ctx.pipeline.display_name} › {ctx.where}")
    return swift


def base_model(ctx: StageContext) -> str | Path:
    """The base model as swift should see it: an absolute local dir (or a hub id online)."""
    local = ctx.pipeline.path(ctx.config.model)
    if local.is_dir():
        return local
    if ctx.config.offline:
        raise UserError(
            f"{ctx.pipeline.display_name} › model: {local}: no such directory "
            "(offline: hub ids are not downloaded; build the demo model with 'make tiny-model')"
        )
    return ctx.config.model


def model_inputs(ctx: StageContext) -> dict[str, Any]:
    """What identifies the base model: its path and, for a local dir, its files."""
    local = ctx.pipeline.path(ctx.config.model)
    if local.is_dir():
        return {"path": str(local), "files": dir_digest(local)}
    return {"id": ctx.config.model}


def model_source(ctx: StageContext, slot: str = "model") -> tuple[str | Path, Any]:
    """(the model to load, what identifies it): the stage feeding `slot`, else the base model.

    The identity of an upstream model is the digest of its weights, not its path, so a model
    rebuilt with identical weights does not make the stages reading it run again.
    """
    node = ctx.upstream(slot)
    model = ctx.input(slot, ModelOutputs)
    if node is None or model is None:
        return base_model(ctx), model_inputs(ctx)
    digest = model.model_digest
    return model.model_dir, (digest if isinstance(digest, Pending) else {"from": node.name, "weights": digest})


def model_args(ctx: StageContext, model: str | Path) -> list[str]:
    cfg = ctx.config
    out = ["--model", str(model)]
    if cfg.model_type:
        out += ["--model_type", cfg.model_type]
    if cfg.template:
        out += ["--template", cfg.template]
    return out


def weights_digest(model_dir: Path) -> str:
    """sha256 over a model folder's weights and configs (not args.json or training state).

    Files are hashed whole whatever their size: this runs once per model a stage produces,
    and it is what lets an identical re-merge leave the evaluation after it skipped.
    """
    h = hashlib.sha256()
    for path in sorted(model_dir.rglob("*")):
        name = path.relative_to(model_dir).as_posix()
        if not path.is_file() or path.name in NOT_WEIGHTS or path.name.startswith("."):
            continue
        if not path.name.endswith(WEIGHT_SUFFIXES) or name.startswith(("runs/", "images/")):
            continue
        h.update(name.encode() + b"\0")
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        h.update(b"\0")
    return h.hexdigest()


def stage_versions() -> dict[str, str | None]:
    versions = tool_versions()
    return {name: versions.get(name) for name in FINGERPRINT_TOOLS}

