"""The stages, in pipeline order. The runner knows only this table and the protocol."""

from __future__ import annotations

import importlib

from swiftpipe.config.schema import Pipeline
from swiftpipe.engine.stage import Stage

ORDER = ("data", "sft", "export", "deploy", "eval")

# name -> "module:Class"; imported on first use so `swiftpipe --help` stays fast.
REGISTRY = {
    "data": "swiftpipe.kinds.data:DataStage",
    "sft": "swiftpipe.kinds.sft:SftStage",
    "export": "swiftpipe.kinds.export:ExportStage",
    "deploy": "swiftpipe.kinds.deploy:DeployStage",
    "eval": "swiftpipe.kinds.eval:EvalStage",
}


def get_stage(name: str) -> Stage:
    module, _, cls = REGISTRY[name].partition(":")
    stage: Stage = getattr(importlib.import_module(module), cls)()
    return stage


def configured(config: Pipeline) -> list[str]:
    """The stages this pipeline declares, in order."""
    names = ["data"] if config.data is not None else []
    names += [n for n in ORDER[1:] if getattr(config.stages, n) is not None]
    return names
