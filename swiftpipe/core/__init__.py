"""The floor every other layer stands on: errors, console output, argv and secrets, files, processes.

Nothing here imports another swiftpipe package (docs/DEVELOPING.md, "Layers").
"""
