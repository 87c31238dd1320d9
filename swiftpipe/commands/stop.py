"""`swiftpipe stop`: stop the server(s) this pipeline left running, and say so in the manifest."""

from __future__ import annotations

from pathlib import Path

from swiftpipe import console
from swiftpipe.config.load import load_pipeline
from swiftpipe.engine.lock import workdir_lock
from swiftpipe.engine.manifest import load_manifest, save_manifest
from swiftpipe.serving import serverrecord


def stop(pipeline: Path, *, overrides: list[str]) -> int:
    """Stop every recorded server that is still ours; exit 0 also when none is running."""
    loaded = load_pipeline(pipeline, overrides)
    with workdir_lock(loaded.workdir):
        manifest = load_manifest(loaded.workdir)
        found = serverrecord.recorded(manifest) if manifest is not None else []
        stopped = 0
        for record, key, info in found:
            result = serverrecord.stop_recorded(info)
            serverrecord.mark_stopped(record, key)
            if result is None:
                continue
            stopped += 1
            console.success(f"stopped the server at {info.url} (pid {info.pid}, {result.signal})")
            if not result.port_free:
                console.notice(f"port {info.port} is still in use after the server stopped")
        if manifest is not None and found:
            save_manifest(manifest, loaded.workdir)
    if not stopped:
        console.info(f"no server is running for {loaded.display_name}")
    return 0
