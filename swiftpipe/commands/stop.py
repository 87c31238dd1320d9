"""`swiftpipe stop`: stop the server(s) this pipeline left running, and say so in the manifest."""

from __future__ import annotations

import shutil
from pathlib import Path

from swiftpipe.config.load import load_pipeline
from swiftpipe.core import console
from swiftpipe.core.errors import UserError
from swiftpipe.engine.lock import workdir_lock
from swiftpipe.engine.manifest import Manifest, load_manifest, save_manifest
from swiftpipe.serving import serverrecord


def _cancel_jobs(manifest: Manifest, pipeline_name: str) -> int:
    """Cancel this pipeline's SLURM jobs still queued or running (ours: recorded id and job name)."""
    recorded = {r.job["id"]: r for r in manifest.stages.values() if r.job.get("id")}
    if not recorded or shutil.which("squeue") is None:
        return 0
    from swiftpipe.slurm import jobs

    live = jobs.names(recorded)
    ours = [i for i, name in live.items() if name == recorded[i].job.get("name") and name.startswith("swiftpipe-")]
    jobs.cancel(ours)
    for job_id in ours:
        recorded[job_id].job["state"] = "CANCELLED"
        console.success(f"cancelled job {job_id} ({live[job_id]})")
    return len(ours)


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
        if manifest is not None:
            stopped += _cancel_jobs(manifest, loaded.config.name)
        if manifest is not None and (found or stopped):
            save_manifest(manifest, loaded.workdir)
    if refused:
        raise UserError(f"{loaded.workdir / 'manifest.json'}: {refused[0]}")
    if not stopped:
        console.info(f"no server is running for {loaded.display_name}")
    return 0
