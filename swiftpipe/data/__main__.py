"""`python -m swiftpipe.data OPTIONS.json`: the data stage's child (child.py)."""

from __future__ import annotations

import sys

from swiftpipe.core.errors import boundary
from swiftpipe.data.child import main

sys.exit(boundary(lambda: main(sys.argv[1:])))
