"""The rlhf kind: `swift rlhf --rlhf_type dpo|kto|orpo|simpo|cpo` (preference training).

Everything but the command and `rlhf_type` is shared with sft and pt (training.py): it reads a
data stage (slot `data`; that stage then converts for rlhf: rows of `messages` +
`rejected_response`/`rejected_messages`, or `messages` + `label` for kto) and, usually, the
model of an sft stage (slot `model`; a LoRA is merged first by the export node swiftpipe adds).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from swiftpipe.config.schema import doc
from swiftpipe.engine.stage import StageContext
from swiftpipe.kinds.training import RESERVED, TrainingConfig, TrainingStage, training_kind

RlhfType = Literal["dpo", "kto", "orpo", "simpo", "cpo"]


@dataclass(frozen=True)
class RlhfConfig(TrainingConfig):
    rlhf_type: RlhfType = field(
        default="dpo", metadata=doc("preference algorithm: dpo, kto (rows with a label), orpo, simpo or cpo")
    )


class RlhfStage(TrainingStage):
    command = "rlhf"

    def _defaults(self, ctx: StageContext, cfg: TrainingConfig) -> dict[str, Any]:
        assert isinstance(cfg, RlhfConfig)
        return {"rlhf_type": cfg.rlhf_type, **super()._defaults(ctx, cfg)}


KIND = replace(
    training_kind("rlhf", "swift rlhf: preference training (dpo, kto, orpo, simpo, cpo)", RlhfStage),
    config=RlhfConfig,
    reserved={**RESERVED, "rlhf_type": "set the stage's rlhf_type"},
)
