"""`Server`: start `swift deploy`, know when it is really ready, and stop all of it.

Readiness is three facts in a row: swift's `Uvicorn running on http://HOST:PORT`
line (on the configured port: swift silently moves to the next free port, which
swiftpipe refuses), `GET /health` answering 200, and `/v1/models` listing the
served name. Stopping signals the whole process group (the real server is a
child of the `swift` wrapper) and then checks that the port is released.

The API key never appears in an argv: swift reads its whole argument list from
the `RAY_SWIFT_ARGS` environment variable when that is set (swift/utils/utils.py,
`parse_args`), so the key travels there and the visible argv stays key-free.
swift prints its parsed arguments (key included) at startup; the log relay
masks the key (see serverlog.py).
"""

from __future__ import annotations

import http.client
import json
import re
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from subprocess import Popen
from types import TracebackType
from typing import Any

from swiftpipe.core import console, process
from swiftpipe.core.errors import UserError
from swiftpipe.engine.launch import Launcher, LocalLauncher
from swiftpipe.engine.manifest import now_iso
from swiftpipe.serving import ports
from swiftpipe.serving.serverlog import REDACT_ENV, LogFollower, relay_argv

READY_LINE = re.compile(r"Uvicorn running on (https?)://(\S+?):(\d+)")
PID_LINE = re.compile(r"Started server process \[(\d+)\]")


class ServerError(Exception):
    """The server did not come up; `tail` holds the last lines of its log."""

    def __init__(self, message: str, tail: str = "") -> None:
        super().__init__(message)
        self.tail = tail


@dataclass(frozen=True)
class ServerSpec:
    """How to start one server. `argv` holds no secret; `api_key` is passed out of band."""

    argv: list[str]
    env: dict[str, str]
    host: str
    port: int
    served_model_name: str
    log_path: Path
    ready_timeout: float
    api_key: str | None = None
    where: str = "stages.deploy.port"  # the config key that messages about the port name
    busy_hint: str = ""  # appended to the busy-port error, e.g. how to stop our own server
    int_grace: float = process.INT_GRACE_S
    term_grace: float = process.TERM_GRACE_S


@dataclass
class ServerInfo:
    """What the manifest records about a running server (no secrets)."""

    url: str
    api_url: str
    host: str
    port: int
    pid: int
    pgid: int
    served_model_name: str
    command: list[str]  # the swift deploy argv
    cmdline: list[str]  # /proc/<pid>/cmdline of `pid`: proves a live process is ours
    log: str
    started: str
    server_pid: int | None = None
    running: bool = True
    kept: bool = False  # left running on purpose after swiftpipe exited

    def to_outputs(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_outputs(cls, outputs: dict[str, Any] | None) -> ServerInfo | None:
        if not outputs or "pgid" not in outputs or "cmdline" not in outputs:
            return None
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in outputs.items() if k in names})


@dataclass
class StopResult:
    signal: str  # the step that ended the group: SIGINT, SIGTERM, SIGKILL or "exited"
    port_free: bool
    notes: list[str] = field(default_factory=list)


class Server:
    """A `swift deploy` process group, ready on enter and stopped on exit."""

    def __init__(self, spec: ServerSpec, launcher: Launcher | None = None) -> None:
        self.spec = spec
        self.launcher: Launcher = launcher or LocalLauncher()
        self.proc: Popen[bytes] | None = None
        self.info: ServerInfo | None = None

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self, on_spawn: Callable[[ServerInfo], None] | None = None) -> ServerInfo:
        """Start the server and wait until it answers; stop it again on any failure.

        `on_spawn` sees the record as soon as the process exists, so that a server
        whose swiftpipe dies during the (long) wait can still be found and stopped.
        """
        self._preflight()
        spec = self.spec
        spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        with spec.log_path.open("ab") as log:
            log.write(f"$ {' '.join(spec.argv)}\n".encode())
            offset = log.tell()
            argv = relay_argv(spec.log_path, spec.argv)
            self.proc = self.launcher.start(argv, self._env(), log)
        url = f"http://{spec.host}:{spec.port}"
        self.info = ServerInfo(
            url, f"{url}/v1", spec.host, spec.port, self.proc.pid, self.proc.pid,
            spec.served_model_name, list(spec.argv), argv, str(spec.log_path), now_iso(),
        )
        try:
            if on_spawn is not None:
                on_spawn(self.info)
            self._wait_ready(LogFollower(spec.log_path, offset))
        except BaseException:
            self.stop()
            raise
        return self.info

    def _env(self) -> dict[str, str]:
        env = dict(self.spec.env)
        key = self.spec.api_key
        if key:
            swift_args = self.spec.argv[self.spec.argv.index("deploy") + 1 :]
            env["RAY_SWIFT_ARGS"] = json.dumps([*swift_args, "--api_key", key])
            env[REDACT_ENV] = json.dumps([key])
        return env

    def _preflight(self) -> None:
        spec = self.spec
        hint = spec.busy_hint or f"stop whatever uses it or set {spec.where} to another port"
        if ports.listening(spec.host, spec.port):
            raise UserError(f"{spec.where}: port {spec.port} on {spec.host} is already in use; {hint}")
        if not ports.plain_bind_ok(spec.port):
            console.notice(
                f"port {spec.port} still has connections of an earlier server closing (TIME_WAIT); "
                "waiting up to a minute so swift does not move to another port"
            )
            if not ports.wait_plain_bind(spec.port):
                raise UserError(f"{spec.where}: port {spec.port} did not become free; {hint}")

    def _wait_ready(self, follower: LogFollower) -> None:
        assert self.proc is not None and self.info is not None
        spec, info = self.spec, self.info
        deadline = time.monotonic() + spec.ready_timeout
        announced = False
        while True:
            for line in follower.new_lines():
                announced = self._read_line(line) or announced
            if announced and self._answers():
                return
            code = self.proc.poll()
            if code is not None:
                raise ServerError(f"swift deploy exited with code {code} before it was ready", follower.tail())
            if time.monotonic() > deadline:
                raise ServerError(
                    f"server not ready at {info.url} after {spec.ready_timeout:g} s "
                    "(stages.deploy.ready_timeout)", follower.tail(),
                )
            time.sleep(0.2)

    def _read_line(self, line: str) -> bool:
        assert self.info is not None
        pid = PID_LINE.search(line)
        if pid:
            self.info.server_pid = int(pid.group(1))
        ready = READY_LINE.search(line)
        if not ready:
            return False
        actual = int(ready.group(3))
        if actual != self.spec.port:
            raise UserError(
                f"{self.spec.where}: port {self.spec.port} was busy when swift deploy started, so it "
                f"moved to {actual}; swiftpipe stopped it. Free port {self.spec.port} or choose another"
            )
        return True

    def _answers(self) -> bool:
        assert self.info is not None
        if http_status(f"{self.info.url}/health") != 200:
            return False
        names = served_models(self.info.api_url, self.spec.api_key)
        if self.spec.served_model_name not in names:
            raise ServerError(
                f"{self.info.api_url}/models lists {names}, not '{self.spec.served_model_name}'"
            )
        return True

    def stop(self) -> StopResult:
        """Stop the whole group (SIGTERM, then SIGKILL) and check the port is released.

        SIGTERM, not SIGINT: uvicorn shuts down gracefully on either, but the `swift` wrapper
        above it turns SIGINT into a KeyboardInterrupt traceback at the end of the log.
        """
        if self.proc is None:
            return StopResult("exited", True)
        how = process.stop_group(self.proc.pid, self.proc, int_grace=self.spec.int_grace,
                                 term_grace=self.spec.term_grace, interrupt=False)
        self.proc.poll()
        self.proc = None
        free = ports.wait_released(self.spec.host, self.spec.port)
        if self.info is not None:
            self.info.running = False
        return StopResult(how, free)


def _get(url: str, headers: dict[str, str], timeout: float) -> tuple[int, bytes] | None:
    """GET over HTTP/1.1, closed from our side.

    urllib sends `Connection: close`, so the *server* closes first and its port sits
    in TIME_WAIT for a minute afterwards; swift's port probe then fails and it moves
    the next server to another port. Closing first ourselves puts TIME_WAIT on our
    own ephemeral port instead.
    """
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=timeout)
    try:
        conn.request("GET", parts.path or "/", headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    except (OSError, http.client.HTTPException, ValueError):
        return None
    finally:
        conn.close()


def http_status(url: str, timeout: float = 2.0) -> int | None:
    """The HTTP status of GET `url`, or None when nothing answers."""
    answer = _get(url, {}, timeout)
    return answer[0] if answer is not None else None


def served_models(api_url: str, api_key: str | None = None, timeout: float = 5.0) -> list[str]:
    """The model ids an OpenAI-compatible server lists; [] when it does not answer."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    answer = _get(f"{api_url}/models", headers, timeout)
    if answer is None or answer[0] != 200:
        return []
    try:
        body = json.loads(answer[1].decode("utf-8"))
    except ValueError:
        return []
    data = body.get("data") if isinstance(body, dict) else None
    return [str(m.get("id")) for m in data or [] if isinstance(m, dict)]
