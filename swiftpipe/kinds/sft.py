"""The sft kind: `swift sft` (supervised fine-tuning); everything shared is in training.py."""

from __future__ import annotations

from swiftpipe.kinds.training import TrainingStage, training_kind


class SftStage(TrainingStage):
    command = "sft"


KIND = training_kind("sft", "swift sft: supervised fine-tuning", SftStage)
