"""The shipped recipes: one pipeline file per routine (`swiftpipe recipes`, `swiftpipe init`).

Package data, so a wheel carries them too; `recipes/` at the repository root links here.
"""
