"""`swiftpipe stop`: stop the server(s) this pipeline left running, and say so in the manifest."""

from __future__ import annotations

from pathlib import Path

from swiftpipe.core import console
from swiftpipe.core.errors import UserError
from swiftpipe.engine.lock import workdir_lock
from swiftpipe.engine.manifest import load_manifest, save_manifest
from swiftpipe.loading import executor_kind, load_pipeline
from swiftpipe.serving import serverrecord


def stop(pipeline: Path, *, overrides: list[str]) -> int:
    """Stop every recorded server that is still ours; exit 0 also when none is running."""
    loaded = load_pipeline(pipeline, overrides)
    with workdir_lock(loaded.workdir, f"{loaded.display_name} › workdir"):
        manifest = load_manifest(loaded.workdir)
        found = serverrecord.recorded(manifest) if manifest is not None else []
        stopped, refused = 0, []
        for record, key, info in found:
            result = serverrecord.stop_recorded(info)
            if result is None and (why := serverrecord.misrecorded(info)) is not None:
                refused.append(why)  # left recorded as running: it may still be a server
                continue
            serverrecord.mark_stopped(record, key)
            if result is None:
                continue
            stopped += 1
            console.success(f"stopped the server at {info.url} (pid {info.pid}, {result.signal})")
            if not result.port_free:
                console.notice(f"port {info.port} is still in use after the server stopped")
        if manifest is not None:  # the executor's work still queued or running (ours only)
            for line in executor_kind(loaded).make().cancel(loaded, manifest):
                console.success(line)
                stopped += 1
        if manifest is not None and (found or stopped):
            save_manifest(manifest, loaded.workdir)
    if refused:
        raise UserError(f"{loaded.workdir / 'manifest.json'}: {refused[0]}")
    if not stopped:
        console.info(f"no server is running for {loaded.display_name}")
    return 0
