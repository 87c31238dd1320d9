"""Whether a model takes images, audios or videos: the default of the data option `multimodal`.

Read from a local model folder: a `preprocessor_config.json` (or `video_preprocessor_config.json`)
beside the weights, or a `config.json` whose `architectures` name a vision, audio or omni
model (`...VLForConditionalGeneration`, `Llava...`, `...Omni...`), or that has a
`vision_config` / `audio_config`. Unknown (a hub id, no config.json): None, and rows keep
their media, for swift itself to judge.
"""

from __future__ import annotations

import json
from pathlib import Path

PROCESSOR_FILES = ("preprocessor_config.json", "video_preprocessor_config.json")
ARCH_WORDS = ("VL", "Vision", "Llava", "Omni", "Audio", "Video", "ConditionalGeneration")
SUB_CONFIGS = ("vision_config", "audio_config", "visual")


def is_multimodal(model: Path) -> bool | None:
    """True or False for a local model folder, None when it cannot be told."""
    if any((model / name).is_file() for name in PROCESSOR_FILES):
        return True
    try:
        config = json.loads((model / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(config, dict):
        return None
    if any(key in config for key in SUB_CONFIGS):
        return True
    architectures = config.get("architectures") or []
    return any(isinstance(a, str) and any(w in a for w in ARCH_WORDS) for a in architectures)
