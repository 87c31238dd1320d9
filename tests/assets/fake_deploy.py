"""A stand-in for `swift deploy`, shaped like the real one, for server lifecycle tests.

Like ms-swift 4.6, the `swift` process starts the real server as a child and
waits for it; arguments come from RAY_SWIFT_ARGS when that is set; the child
prints its arguments (API key included) before it serves. The child answers
GET /health, GET /v1/models and POST /v1/chat/completions (checking the key).

  FAKE_DEPLOY=ok|exit|hang|moved|wrongname   how the server behaves (default ok)
  FAKE_STUBBORN=1                            both processes ignore SIGINT and SIGTERM
  FAKE_MARKER_DIR=DIR                        write DIR/server.pid once listening
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def _arg(argv: list[str], flag: str, default: str = "") -> str:
    return argv[argv.index(flag) + 1] if flag in argv else default


def _stubborn() -> None:
    if os.environ.get("FAKE_STUBBORN") == "1":
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


def serve(argv: list[str]) -> int:
    _stubborn()
    mode = os.environ.get("FAKE_DEPLOY", "ok")
    host, port = _arg(argv, "--host", "0.0.0.0"), int(_arg(argv, "--port", "8000"))
    name, key = _arg(argv, "--served_model_name", "model"), _arg(argv, "--api_key") or None
    print(f"[INFO:swift] args: DeployArguments(model={_arg(argv, '--model')!r}, host={host!r}, "
          f"port={port}, api_key={key!r}, served_model_name={name!r})", flush=True)
    if mode == "exit":
        print("ValueError: simulated failure while loading the model", flush=True)
        return 1
    if mode == "moved":
        with socket.socket() as probe:
            probe.bind((host, 0))
            port = probe.getsockname()[1]
    listed = "someone-else" if mode == "wrongname" else name
    server = ThreadingHTTPServer((host, port), _handler(listed, key))
    marker = os.environ.get("FAKE_MARKER_DIR")
    if marker:
        Path(marker, "server.pid").write_text(str(os.getpid()))
    print(f"INFO:     Started server process [{os.getpid()}]", flush=True)
    if mode != "hang":
        print(f"INFO:     Uvicorn running on http://{host}:{port} (Press CTRL+C to quit)", flush=True)
    server.serve_forever()
    return 0


def _handler(name: str, key: str | None) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.1 keep-alive like uvicorn: the client closes first, so the server's
        # port is not left in TIME_WAIT (which would fail swift's port probe).
        protocol_version = "HTTP/1.1"

        def _send(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path in ("/health", "/health/"):
                self._send(200, {})
            elif self.path == "/v1/models":
                self._send(200, {"object": "list", "data": [{"id": name, "object": "model"}]})
            else:
                self._send(404, {})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = json.loads(self.rfile.read(length) or b"{}")
            if key is not None and self.headers.get("Authorization") != f"Bearer {key}":
                self._send(400, {"message": "API key error", "object": "error"})
            elif request.get("model") != name:
                self._send(400, {"message": f"`{request.get('model')}` is not in the model_list"})
            else:
                message = {"role": "assistant", "content": "<think>\n\n</think>\n\nA"}
                self._send(200, {"model": name, "choices": [{"index": 0, "message": message}]})

        def log_message(self, fmt: str, *args: object) -> None:
            print(f'INFO:     {self.client_address[0]} - "{self.requestline}" {args[1]}', flush=True)

    return Handler


def main() -> int:
    argv = sys.argv[1:]
    if argv[:1] == ["--serve"]:
        ray_args = os.environ.get("RAY_SWIFT_ARGS")  # read by the child, as swift's parse_args does
        return serve(json.loads(ray_args) if ray_args else json.loads(argv[1]))
    if argv[:1] != ["deploy"]:
        print(f"fake_deploy: unsupported command {argv[:1]}", flush=True)
        return 2
    _stubborn()
    print(f"run sh: `{sys.executable} deploy.py {' '.join(argv[1:])}`", flush=True)
    child = subprocess.Popen([sys.executable, __file__, "--serve", json.dumps(argv[1:])])
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:
            continue


if __name__ == "__main__":
    sys.exit(main())
