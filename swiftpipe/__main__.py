from __future__ import annotations

from swiftpipe.cli import main

main()
