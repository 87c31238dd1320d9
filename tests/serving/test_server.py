"""The Server lifecycle with real processes: a `swift`-like parent whose child holds the port."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from swiftpipe.cli import main
from swiftpipe.core import host, process
from swiftpipe.core.errors import UserError
from swiftpipe.engine.manifest import Manifest, StageRecord, save_manifest
from swiftpipe.serving import ports, serverrecord
from swiftpipe.serving.server import Server, ServerError, ServerInfo, ServerSpec

ASSETS = Path(__file__).parents[1] / "assets"
KEY = "sk-test-S3CRET-4242"


@pytest.fixture
def fake_swift(tmp_path: Path) -> str:
    script = tmp_path / "bin" / "swift"
    script.parent.mkdir()
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{ASSETS / "fake_deploy.py"}" "$@"\n')
    script.chmod(0o755)
    return str(script)


def spec(fake_swift: str, tmp_path: Path, **env: str) -> ServerSpec:
    port = host.free_port()
    argv = [fake_swift, "deploy", "--model", "/m", "--host", "127.0.0.1", "--port", str(port),
            "--served_model_name", "tiny"]
    full_env = {**os.environ, "FAKE_MARKER_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1", **env}
    return ServerSpec(argv, full_env, "127.0.0.1", port, "tiny", tmp_path / "logs" / "deploy.log",
                      ready_timeout=30, int_grace=0.5, term_grace=0.5)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def assert_gone(info: ServerInfo, tmp_path: Path) -> None:
    assert process.group_members(info.pgid) == []
    assert not alive(int((tmp_path / "server.pid").read_text()))
    assert not ports.listening("127.0.0.1", info.port)


def post_chat(info: ServerInfo, key: str | None) -> int:
    body = json.dumps({"model": "tiny", "messages": [{"role": "user", "content": "hi"}]}).encode()
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}
    request = urllib.request.Request(f"{info.api_url}/chat/completions", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_stubborn_server_is_killed_with_its_child_and_the_port_is_freed(fake_swift: str, tmp_path: Path) -> None:
    server = Server(spec(fake_swift, tmp_path, FAKE_STUBBORN="1"))
    info = server.start()
    assert info.server_pid == int((tmp_path / "server.pid").read_text())
    assert ports.listening("127.0.0.1", info.port)
    result = server.stop()
    assert result.signal == "SIGKILL" and result.port_free
    assert_gone(info, tmp_path)


def test_polite_server_stops_at_sigterm(fake_swift: str, tmp_path: Path) -> None:
    # SIGTERM first: the real `swift` wrapper turns SIGINT into a KeyboardInterrupt traceback.
    server = Server(spec(fake_swift, tmp_path))
    info = server.start()
    assert server.stop().signal == "SIGTERM"
    assert_gone(info, tmp_path)
    assert "Uvicorn running on" in (tmp_path / "logs" / "deploy.log").read_text()


def test_a_moved_port_is_refused_and_the_server_stopped(fake_swift: str, tmp_path: Path) -> None:
    s = spec(fake_swift, tmp_path, FAKE_DEPLOY="moved")
    server = Server(s)
    with pytest.raises(UserError) as err:
        server.start()
    assert str(err.value).startswith(f"stages.deploy.port: port {s.port} was busy when swift deploy started")
    assert server.proc is None and not alive(int((tmp_path / "server.pid").read_text()))


def test_exit_before_ready_reports_the_log_tail(fake_swift: str, tmp_path: Path) -> None:
    with pytest.raises(ServerError) as err:
        Server(spec(fake_swift, tmp_path, FAKE_DEPLOY="exit")).start()
    assert str(err.value) == "swift deploy exited with code 1 before it was ready"
    assert "ValueError: simulated failure while loading the model" in err.value.tail


def test_timeout_stops_the_group(fake_swift: str, tmp_path: Path) -> None:
    s = spec(fake_swift, tmp_path, FAKE_DEPLOY="hang", FAKE_STUBBORN="1")
    server = Server(ServerSpec(**{**s.__dict__, "ready_timeout": 1.0}))
    with pytest.raises(ServerError) as err:
        server.start()
    assert str(err.value) == (f"server not ready at http://127.0.0.1:{s.port} after 1 s "
                              "(stages.deploy.ready_timeout)")
    assert "Started server process" in err.value.tail
    assert not alive(int((tmp_path / "server.pid").read_text()))


def test_a_server_listing_another_model_is_an_error(fake_swift: str, tmp_path: Path) -> None:
    s = spec(fake_swift, tmp_path, FAKE_DEPLOY="wrongname")
    with pytest.raises(ServerError, match=r"lists \['someone-else'\], not 'tiny'"):
        Server(s).start()
    assert not ports.listening("127.0.0.1", s.port)


def test_a_busy_port_is_refused_before_starting(fake_swift: str, tmp_path: Path) -> None:
    s = spec(fake_swift, tmp_path)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", s.port))
        holder.listen()
        with pytest.raises(UserError) as err:
            Server(s).start()
    assert str(err.value) == (f"stages.deploy.port: port {s.port} on 127.0.0.1 is already in use; "
                              "stop whatever uses it or set stages.deploy.port to another port")
    assert not (tmp_path / "logs" / "deploy.log").exists()


def test_the_api_key_reaches_the_server_but_no_argv_or_log(fake_swift: str, tmp_path: Path) -> None:
    s = spec(fake_swift, tmp_path)
    with Server(ServerSpec(**{**s.__dict__, "api_key": KEY})) as server:
        assert server.info is not None
        info = server.info
        assert post_chat(info, KEY) == 200 and post_chat(info, None) == 400
        for pid in process.group_members(info.pgid):
            assert KEY not in Path(f"/proc/{pid}/cmdline").read_text()
        assert KEY not in json.dumps(info.to_outputs())
    log = (tmp_path / "logs" / "deploy.log").read_text()
    assert "api_key='***'" in log and KEY not in log


def test_tee_masks_a_secret_split_across_chunks(tmp_path: Path) -> None:
    with (tmp_path / "x.log").open("wb") as fh:
        tee = process.Tee(fh, echo=False, on_line=None, redact=["abcdef"])
        for chunk in (b"key=ab", b"cd", b"ef\nnext abc", b"def"):
            tee.feed(chunk)
        tee.close()
    assert (tmp_path / "x.log").read_bytes() == b"key=***\nnext ***"


def test_a_kept_server_outlives_its_starter_and_stop_recorded_ends_it(fake_swift: str, tmp_path: Path) -> None:
    s = spec(fake_swift, tmp_path)
    starter = (
        "import json, os, sys; from pathlib import Path; from swiftpipe.serving.server import Server, ServerSpec\n"
        f"s = ServerSpec({s.argv!r}, dict(os.environ), '127.0.0.1', {s.port}, 'tiny', "
        f"Path({str(s.log_path)!r}), 30.0)\n"
        "print(json.dumps(Server(s).start().to_outputs()))\n"
    )
    env = {**s.env, "PYTHONPATH": str(Path(__file__).parents[2])}
    done = subprocess.run([sys.executable, "-c", starter], env=env, capture_output=True, text=True, timeout=60)
    info = ServerInfo.from_outputs(json.loads(done.stdout))
    assert info is not None
    assert serverrecord.is_ours(info) and serverrecord.is_healthy(info)
    size = s.log_path.stat().st_size
    assert post_chat(info, None) == 200  # the log relay still writes the access line
    deadline = time.monotonic() + 10
    while s.log_path.stat().st_size == size and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "POST /v1/chat/completions" in s.log_path.read_text()
    assert not serverrecord.is_ours(ServerInfo(**{**info.__dict__, "cmdline": ["python", "other"]}))
    result = serverrecord.stop_recorded(info, int_grace=2, term_grace=2)
    assert result is not None and result.port_free
    assert_gone(info, tmp_path)
    assert serverrecord.stop_recorded(info) is None


def test_a_group_is_signalled_only_through_a_pid_that_leads_it(tmp_path: Path) -> None:
    """A manifest naming a real server-like process but another group (here pytest's own) is refused."""
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while (cmdline := serverrecord.read_cmdline(sleeper.pid) or [""])[-1] != "import time; time.sleep(60)":
            assert time.monotonic() < deadline  # /proc shows the new command once exec is done
            time.sleep(0.01)
        info = ServerInfo("http://127.0.0.1:1", "http://127.0.0.1:1/v1", "127.0.0.1", 1, sleeper.pid,
                          os.getpgid(0), "tiny", ["swift", "deploy"], cmdline, str(tmp_path / "log"), "now")
        assert not serverrecord.is_ours(info) and serverrecord.stop_recorded(info) is None
        why = (f"pid {sleeper.pid} runs the recorded server command but does not lead process group "
               f"{os.getpgid(0)} as the manifest says; nothing was signalled, stop it yourself (kill {sleeper.pid})")
        assert serverrecord.misrecorded(info) == why
        workdir = tmp_path / "runs" / "t"
        manifest = Manifest(str(tmp_path / "p.yaml"), str(workdir))
        manifest.stages["deploy"] = StageRecord(kind="deploy", outputs=info.to_outputs())
        save_manifest(manifest, workdir)
        (tmp_path / "p.yaml").write_text("name: t\nmodel: m\n")
        result = CliRunner().invoke(main, ["stop", str(tmp_path / "p.yaml")])
        assert (result.exit_code, result.output) == (2, f"swiftpipe: error: {workdir / 'manifest.json'}: {why}\n")
        assert sleeper.poll() is None  # neither it nor (we being alive) the recorded group got a signal
        assert serverrecord.is_ours(ServerInfo(**{**info.__dict__, "pgid": sleeper.pid}))
    finally:
        sleeper.kill()
        sleeper.wait()
