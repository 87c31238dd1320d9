"""Servers recorded in a manifest: found, proven ours and stopped, with fake servers started by PID here."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from swiftpipe.core import host, process
from swiftpipe.engine.manifest import Manifest, StageRecord, load_manifest
from swiftpipe.serving import serverrecord
from swiftpipe.serving.server import Server, ServerInfo, ServerSpec, StopResult

Start = Callable[..., subprocess.Popen[bytes]]


def cmdline_of(pid: int, last: str) -> list[str]:
    """/proc/<pid>/cmdline once the child has exec'd its own command (it ends with `last`)."""
    deadline = time.monotonic() + 20
    while (found := serverrecord.read_cmdline(pid) or [""])[-1] != last:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return found


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Start]:
    """Start a fake server: a sleeping Python leading its own group (tmp_path in its argv, so a leak shows)."""
    started: list[subprocess.Popen[bytes]] = []

    def run(prelude: str = "") -> subprocess.Popen[bytes]:
        marker = tmp_path / f"ready-{len(started)}"
        code = f"import signal, time\n{prelude}\nopen({str(marker)!r}, 'w').close()\ntime.sleep(60)\n"
        proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], start_new_session=True)
        started.append(proc)
        cmdline_of(proc.pid, str(tmp_path))
        deadline = time.monotonic() + 20
        while not marker.exists():  # its signal handlers are set up
            assert time.monotonic() < deadline
            time.sleep(0.01)
        return proc

    yield run
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def info_of(pid: int, **changes: Any) -> ServerInfo:
    port = host.free_port()  # nobody listens there: a stop finds the port released at once
    cmdline = serverrecord.read_cmdline(pid) or ["gone"]
    info = ServerInfo(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}/v1", "127.0.0.1", port, pid, pid,
                      "tiny", ["swift", "deploy"], cmdline, "/w/logs/deploy.log", "2026-01-01T00:00:00")
    return ServerInfo(**{**info.__dict__, **changes})


def gone_pid() -> int:
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return done.pid


def manifest_with(tmp_path: Path, **outputs: dict[str, Any]) -> Manifest:
    manifest = Manifest(str(tmp_path / "pipeline.yaml"), str(tmp_path / "runs" / "t"))
    for name, out in outputs.items():
        manifest.stages[name] = StageRecord(kind="deploy", outputs=out)
    return manifest


def test_places_finds_servers_in_the_outputs_or_under_a_key(tmp_path: Path) -> None:
    server = info_of(gone_pid()).to_outputs()
    manifest = manifest_with(
        tmp_path, deploy=server, eval={"server": server, "scores": {}}, old={"base_server": server},
        sft={"run_dir": "/r"}, odd={"server": "not a dict"}, partial={"server": {"pgid": 1}},
    )
    assert serverrecord.places(manifest) == (("deploy", None), ("eval", "server"), ("old", "base_server"))


def test_recorded_lists_only_running_servers_where_asked(tmp_path: Path) -> None:
    running, stopped = info_of(gone_pid()), info_of(gone_pid(), running=False)
    manifest = manifest_with(tmp_path, deploy=running.to_outputs(), eval={"server": stopped.to_outputs()},
                             base={"server": running.to_outputs()})
    found = serverrecord.recorded(manifest)
    assert [(key, info) for _, key, info in found] == [(None, running), ("server", running)]
    assert found[0][0] is manifest.stages["deploy"] and found[1][0] is manifest.stages["base"]
    only_base = serverrecord.recorded(manifest, (("base", "server"), ("missing", None), ("eval", "server")))
    assert [(record.kind, key) for record, key, _ in only_base] == [("deploy", "server")]


def test_mark_stopped_clears_running_and_kept() -> None:
    own = StageRecord(outputs={"running": True, "kept": True, "pid": 1})
    under = StageRecord(outputs={"server": {"running": True, "kept": True}, "scores": {}})
    serverrecord.mark_stopped(own, None)
    serverrecord.mark_stopped(under, "server")
    serverrecord.mark_stopped(under, "missing")  # nothing there: nothing to do
    assert own.outputs == {"running": False, "kept": False, "pid": 1}
    assert under.outputs == {"server": {"running": False, "kept": False}, "scores": {}}


def test_register_and_take(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serverrecord, "_LIVE", {})
    server = Server(ServerSpec(["swift", "deploy"], {}, "127.0.0.1", 1, "tiny", tmp_path / "l.log", 1.0))
    serverrecord.register("deploy", server)
    assert serverrecord.take("deploy") is server
    assert serverrecord.take("deploy") is None


def test_read_cmdline(start: Start, tmp_path: Path) -> None:
    proc = start()
    cmdline = serverrecord.read_cmdline(proc.pid)
    assert cmdline is not None and cmdline[0] == sys.executable and cmdline[1] == "-c"
    assert cmdline[-1] == str(tmp_path)
    assert serverrecord.read_cmdline(gone_pid()) is None


def test_is_ours_needs_a_live_group_led_by_the_pid_running_the_command(start: Start) -> None:
    proc = start()
    info = info_of(proc.pid)
    assert serverrecord.is_ours(info)
    assert serverrecord.misrecorded(info) is None
    assert not serverrecord.is_ours(info_of(proc.pid, cmdline=[*info.cmdline, "--other"]))
    assert serverrecord.misrecorded(info_of(proc.pid, cmdline=["other"])) is None
    proc.kill()
    proc.wait()
    assert not serverrecord.is_ours(info)


def test_a_pid_that_does_not_lead_the_recorded_group_is_misrecorded(start: Start) -> None:
    first, second = start(), start()
    info = info_of(first.pid, pgid=second.pid)
    assert not serverrecord.is_ours(info)
    assert serverrecord.misrecorded(info) == (
        f"pid {first.pid} runs the recorded server command but does not lead process group {second.pid} as the "
        f"manifest says; nothing was signalled, stop it yourself (kill {first.pid})")
    assert serverrecord.stop_recorded(info) is None
    assert first.poll() is None and second.poll() is None


def test_stop_recorded_stops_a_polite_server_at_sigterm(start: Start) -> None:
    proc = start()
    info = info_of(proc.pid)
    assert serverrecord.stop_recorded(info, int_grace=5, term_grace=20) == StopResult("SIGTERM", True)
    assert proc.wait(timeout=10) == -15
    assert process.group_members(proc.pid) == []
    assert serverrecord.stop_recorded(info) is None


def test_stop_recorded_kills_a_server_that_ignores_sigterm(start: Start) -> None:
    proc = start("signal.signal(signal.SIGTERM, signal.SIG_IGN)")
    result = serverrecord.stop_recorded(info_of(proc.pid), int_grace=0.2, term_grace=0.2)
    assert result == StopResult("SIGKILL", True)
    assert proc.wait(timeout=10) == -9


def test_stop_recorded_leaves_a_reused_pid_alone(start: Start) -> None:
    proc = start()
    assert serverrecord.stop_recorded(info_of(proc.pid, cmdline=["python", "-m", "uvicorn"])) is None
    assert proc.poll() is None


def test_reap_stops_only_a_dead_run_s_unkept_server(start: Start, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(serverrecord, "_LIVE", {})
    proc = start()
    info = info_of(proc.pid)
    assert serverrecord.reap(None) is False
    assert serverrecord.reap(info_of(proc.pid, running=False)) is False
    assert serverrecord.reap(info_of(proc.pid, kept=True)) is False
    assert serverrecord.reap(info_of(proc.pid, cmdline=["someone", "else"])) is False
    assert proc.poll() is None and capsys.readouterr().err == ""
    assert serverrecord.reap(info) is True
    assert proc.wait(timeout=10) == -15
    assert capsys.readouterr().err == (f"note: stopping a server left by an earlier run that did not finish "
                                       f"({info.url}, pid {proc.pid})\n")


def test_reap_leaves_a_server_this_process_runs(start: Start, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serverrecord, "_LIVE", {})
    proc = start()
    info = info_of(proc.pid)
    server = Server(ServerSpec(["swift", "deploy"], {}, "127.0.0.1", info.port, "tiny", tmp_path / "l.log", 1.0))
    server.info = info
    serverrecord.register("deploy", server)
    assert serverrecord.reap(info) is False and proc.poll() is None
    manifest = manifest_with(tmp_path, deploy=info.to_outputs())
    serverrecord.reap_orphans(manifest, tmp_path / "runs" / "t")
    assert manifest.stages["deploy"].outputs["running"] is True and proc.poll() is None
    assert load_manifest(tmp_path / "runs" / "t") is None  # nothing changed, nothing written


def test_reap_orphans_stops_and_marks_what_a_dead_run_left(start: Start, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serverrecord, "_LIVE", {})
    orphan, kept = start(), start()
    workdir = tmp_path / "runs" / "t"
    manifest = manifest_with(
        tmp_path, deploy=info_of(orphan.pid).to_outputs(), keep=info_of(kept.pid, kept=True).to_outputs(),
        eval={"server": info_of(gone_pid()).to_outputs(), "scores": {"x": 1}},
    )
    serverrecord.reap_orphans(manifest, workdir)
    assert orphan.wait(timeout=10) == -15 and kept.poll() is None
    saved = load_manifest(workdir)
    assert saved is not None
    assert (saved.stages["deploy"].outputs["running"], saved.stages["deploy"].outputs["kept"]) == (False, False)
    assert saved.stages["eval"].outputs["server"]["running"] is False
    assert saved.stages["eval"].outputs["scores"] == {"x": 1}
    assert (saved.stages["keep"].outputs["running"], saved.stages["keep"].outputs["kept"]) == (True, True)


def test_reap_orphans_marks_a_kept_server_that_is_gone(tmp_path: Path) -> None:
    workdir = tmp_path / "runs" / "t"
    manifest = manifest_with(tmp_path, deploy=info_of(gone_pid(), kept=True).to_outputs())
    serverrecord.reap_orphans(manifest, workdir)
    saved = load_manifest(workdir)
    assert saved is not None and saved.stages["deploy"].outputs["running"] is False
    assert serverrecord.recorded(saved) == []
