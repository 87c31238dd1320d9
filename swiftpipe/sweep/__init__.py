"""`sweep:` — variants of a pipeline, expanded into stages before the graph is built.

Each variant is one combination of the swept values (`grid`: all of them in the order written;
`random`: `samples` of them drawn with `seed`). A stage a swept key touches, and every stage
reading it, is copied once per distinct combination of the keys of it and the stages above it,
named `<stage>-<tag>` (`sft-lr1e-4-r8`); the copies name their upstream copies in `from:`, so
nearest-fit wiring never crosses variants. What the variants share (data, the base model's
evaluation) stays one stage. A stage where the variants meet (a select, whose kind's config says
`gathers`) is not copied: its `from:` naming a swept stage reads every copy, and the stages after
it stay single too. A name depends only on its own values, so a value added later adds
stages and leaves the earlier ones (and their results) as they were.
"""

from __future__ import annotations
