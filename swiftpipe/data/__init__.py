"""Dataset conversion and validation: any supported chat format in, ms-swift's standard JSONL out.

The public entry point is `swiftpipe.data.convert.run`; `swiftpipe convert` and the data stage
both call it. Every row read is either written or rejected with a reason, never dropped.
"""
