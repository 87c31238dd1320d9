"""Evaluation with evalscope: its command line, its reports, base-vs-tuned comparison."""
