"""Serving models: OpenAI-compatible servers we start, find again and stop."""
