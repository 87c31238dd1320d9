"""Servers recorded in the manifest: find them, prove they are ours, stop them.

A server is "ours" only while its recorded process group exists, the recorded PID
leads that group (PID = PGID = os.getpgid(PID)) and its /proc/<pid>/cmdline is exactly
the command swiftpipe started; a reused PID runs something else and is never
signalled, and a group is never signalled through a PID that does not lead it.

Servers started by this process are also kept in a small in-memory table,
because the runner calls `close()` on a fresh stage object at the end of a run.
"""

from __future__ import annotations

from pathlib import Path

from swiftpipe.core import console, process
from swiftpipe.engine.manifest import Manifest, StageRecord, save_manifest
from swiftpipe.serving import ports
from swiftpipe.serving.server import Server, ServerInfo, StopResult, http_status, served_models

_LIVE: dict[str, Server] = {}

# Where a record may hold a server: its outputs themselves (a server stage), or under one key (a
# stage that runs one for itself; "base_server" is where manifests from before base-eval kept it).
# A server is found by what a record holds, whatever its kind.
SERVER_KEYS = (None, "server", "base_server")


def places(manifest: Manifest) -> tuple[tuple[str, str | None], ...]:
    """(stage, key) of every record that holds a server, running or not."""
    found = []
    for name, record in manifest.stages.items():
        for key in SERVER_KEYS:
            outputs = record.outputs.get(key) if key else record.outputs
            if ServerInfo.from_outputs(outputs if isinstance(outputs, dict) else None) is not None:
                found.append((name, key))
    return tuple(found)


def register(key: str, server: Server) -> None:
    _LIVE[key] = server


def take(key: str) -> Server | None:
    """The server this process started under `key`, removed from the table."""
    return _LIVE.pop(key, None)


def read_cmdline(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0")[:-1]] or None


def is_ours(info: ServerInfo) -> bool:
    """The recorded group is alive, the recorded PID leads it and still runs the recorded command."""
    return (process.group_alive(info.pgid) and read_cmdline(info.pid) == info.cmdline
            and process.leads_group(info.pid, info.pgid))


def misrecorded(info: ServerInfo) -> str | None:
    """Why a process running the recorded command is still not signalled: its PID does not lead
    the recorded group (a manifest edited by hand, or not written by swiftpipe); else None."""
    if read_cmdline(info.pid) != info.cmdline or process.leads_group(info.pid, info.pgid):
        return None
    return (f"pid {info.pid} runs the recorded server command but does not lead process group {info.pgid} "
            f"as the manifest says; nothing was signalled, stop it yourself (kill {info.pid})")


def is_healthy(info: ServerInfo) -> bool:
    return (
        http_status(f"{info.url}/health") == 200
        and info.served_model_name in served_models(info.api_url)
    )


def recorded(
    manifest: Manifest, where: tuple[tuple[str, str | None], ...] | None = None
) -> list[tuple[StageRecord, str | None, ServerInfo]]:
    """Every server the manifest records as running: (record, outputs key, info)."""
    found = []
    for stage, key in places(manifest) if where is None else where:
        record = manifest.stages.get(stage)
        if record is None:
            continue
        outputs = record.outputs.get(key) if key else record.outputs
        info = ServerInfo.from_outputs(outputs if isinstance(outputs, dict) else None)
        if info is not None and info.running:
            found.append((record, key, info))
    return found


def mark_stopped(record: StageRecord, key: str | None) -> None:
    outputs = record.outputs.get(key) if key else record.outputs
    if isinstance(outputs, dict):
        outputs["running"] = False
        outputs["kept"] = False


def reap(info: ServerInfo | None) -> bool:
    """Stop a recorded server that a run which died left behind; True if one was stopped.

    Servers kept on purpose, and servers this process is running, are left alone.
    """
    if info is None or not info.running or info.kept:
        return False
    if any(s.info is not None and s.info.pgid == info.pgid for s in _LIVE.values()):
        return False
    if not is_ours(info):
        return False
    console.notice(f"stopping a server left by an earlier run that did not finish ({info.url}, pid {info.pid})")
    stop_recorded(info)
    return True


def reap_orphans(manifest: Manifest, workdir: Path) -> None:
    """`reap` every server the manifest records, and mark the records of gone ones stopped."""
    changed = False
    for record, key, info in recorded(manifest):
        if info.kept and is_ours(info):
            continue
        if any(s.info is not None and s.info.pgid == info.pgid for s in _LIVE.values()):
            continue
        reap(info)
        mark_stopped(record, key)
        changed = True
    if changed:
        save_manifest(manifest, workdir)


def stop_recorded(
    info: ServerInfo,
    *,
    int_grace: float = process.INT_GRACE_S,
    term_grace: float = process.TERM_GRACE_S,
) -> StopResult | None:
    """Stop a recorded server if it is ours; None when it is not running (or not ours)."""
    if not is_ours(info):
        return None
    how = process.stop_group(info.pgid, None, int_grace=int_grace, term_grace=term_grace, interrupt=False)
    return StopResult(how, ports.wait_released(info.host, info.port))
