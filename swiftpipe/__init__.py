"""swiftpipe: one pipeline.yaml drives ms-swift sft, export, deploy and evalscope eval."""

from __future__ import annotations

__version__ = "0.1.0"
