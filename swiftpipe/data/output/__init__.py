"""Output: converted blocks -> the train, validation and rejects files, the report, the table.

apply.py (blocks written in input order, duplicates decided, counts kept), sink.py (streamed
files that appear only when complete), stats.py (statistics, report.json, the terminal
table), progress.py (rows/s lines while a file converts).
"""
