"""The pt kind: `swift pt` (continued pretraining on raw text: data rows of format `text`)."""

from __future__ import annotations

from swiftpipe.kinds.training import TrainingStage, training_kind


class PtStage(TrainingStage):
    command = "pt"


KIND = training_kind("pt", "swift pt: pretraining on raw text", PtStage)
