"""Dataset conversion and validation: any supported chat format in, ms-swift's standard JSONL out.

Every row read is either written or rejected with a reason, never dropped. The flow, one
subpackage per step, each importing only the steps before it:

* `reading/`: files -> records (JSON Lines, JSON arrays, CSV, gzipped or not; blocks of whole
  lines for the workers);
* `rows/`: one record -> its output line or a reject (formats, messages, roles, media,
  preference pairs, the turn-order rule, token lengths, dedupe keys, the train/val split);
* `output/`: the lines -> the train, validation and rejects files, the report and the table.

At the top: `reject.py` (the reason codes every step uses), `options.py` (`ConvertOptions`,
the options file, and `Outcome`, the result file), `convert.py` (`run`/`convert`: the
orchestration, serial or with `parallel.py`'s workers), `child.py` (the data stage's child,
`python -m swiftpipe.data OPTIONS.json`) and `modality.py` (whether a model takes media, the
data stage's default). `swiftpipe convert` and the data stage both build a `ConvertOptions`
and call `convert.convert`.
"""
