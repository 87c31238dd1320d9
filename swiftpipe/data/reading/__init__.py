"""Reading: dataset files -> records, streamed, one row in memory at a time.

read.py (JSON Lines, JSON arrays, CSV, optionally gzipped; a record per row, or a reject when
a row cannot be parsed), csvread.py and jsonarray.py (the CSV and incremental JSON array
readers), chunks.py (a JSON Lines file cut into blocks of whole lines for the workers).
"""
