"""`swiftpipe ui` as a real child process on a free loopback port, stopped by its PID."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from swiftpipe.core.host import free_port


@contextlib.contextmanager
def ui_server(pipeline: Path, *args: str, host: str = "127.0.0.1",
              env: Mapping[str, str] | None = None) -> Iterator[str]:
    """Serve the dashboard of `pipeline`; yields its base URL once it printed it (the socket is bound
    before uvicorn logs, so the first request finds it listening)."""
    port = free_port(host)
    proc = subprocess.Popen([sys.executable, "-m", "swiftpipe", "ui", str(pipeline), "--host", host,
                             "--port", str(port), *args], cwd=pipeline.parent, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**os.environ, **(env or {})},
                            start_new_session=True)
    try:
        assert proc.stdout is not None
        printed = proc.stdout.readline()
        assert f"http://{host}:{port}/" in printed, printed + proc.stdout.read()
        yield f"http://{host}:{port}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        if proc.stdout:
            proc.stdout.close()
