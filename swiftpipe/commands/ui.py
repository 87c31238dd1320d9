"""`swiftpipe ui`: serve the live dashboard of a pipeline's workdir until Ctrl-C."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from swiftpipe.core import console
from swiftpipe.core.errors import UserError
from swiftpipe.loading import load_pipeline

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def ui_token(host: str, token_env: str | None) -> str | None:
    """The token requests must carry: none on loopback without --token-env; another host needs one."""
    if token_env is None:
        if host not in LOOPBACK:
            raise UserError(f"--host {host}: other machines could reach the dashboard; add --token-env VAR "
                            "naming an environment variable that holds a token, as deploy's api_key_env")
        return None
    token = os.environ.get(token_env, "")
    if not token.strip():
        raise UserError(f"--token-env {token_env}: the environment variable is not set or empty; "
                        f"export {token_env}=<a long random token> first")
    return token


def ui(pipeline: Path, *, overrides: list[str], host: str = "127.0.0.1", port: int = 8400,
       token_env: str | None = None) -> int:
    """Serve the dashboard on host:port and print its URL; returns when stopped."""
    token = ui_token(host, token_env)
    loaded = load_pipeline(pipeline, overrides)
    try:
        import uvicorn

        from swiftpipe.ui.app import make_app
    except ImportError as exc:
        raise UserError(f"swiftpipe ui needs {exc.name}, which is not installed: pip install 'swiftpipe[ui]'") \
            from None
    app = make_app(loaded, token=token, command=f"swiftpipe run {loaded.display_name}")
    sock = _bind(host, port)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/" + (f"?token=<${token_env}>" if token_env else "")
    console.success(f"swiftpipe ui: {url} (workdir {loaded.workdir}; Ctrl-C stops it)")
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    with sock:
        server.run(sockets=[sock])
    return 0


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before the URL is printed: whoever reads the URL finds it up."""
    sock: socket.socket | None = None
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        if sock is not None:
            sock.close()
        raise UserError(f"--host {host} --port {port}: cannot listen there ({exc.strerror or exc}); "
                        "pick another with --port") from None
    sock.listen(128)
    return sock
