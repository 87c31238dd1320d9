"""Per-row work: one record -> its output line (and which split it goes to) or a reject.

Normalising: formats.py (detection, one normaliser per format), messages.py (turns in any
spelling -> ms-swift messages), parts.py (typed content parts), roles.py, text.py
(pretraining rows), preference.py (DPO/KTO rows), media.py (images/audios/videos),
systemline.py (`system_template`), placeholders.py, validate.py (the turn-order rule),
row.py (one row's decisions, and `Settings`, the run-wide options of this work).
Measuring: tokens.py (estimated lengths), exact.py + chatml.py (ms-swift's own lengths).
Writing a run of rows: transform.py (the per-block pipeline both the serial path and the
workers use), fastpath.py and encode.py (the output line), dedupe.py (content keys),
split.py (the seeded train/validation split).
"""
