"""TCP port checks for the servers swiftpipe starts.

Two different questions, because `swift deploy` answers the second one itself:
is anyone *listening* on the port (a real conflict), and could a plain bind
succeed. swift probes the port with a bind that does not set SO_REUSEADDR and,
if that fails, silently serves on the next port. Connections of a server that
just stopped linger in TIME_WAIT for up to a minute and fail exactly that probe
although nothing listens any more.
"""

from __future__ import annotations

import socket
import time

TIME_WAIT_S = 65.0  # Linux keeps TIME_WAIT for 60 s


def listening(host: str, port: int) -> bool:
    """True when some socket is bound to `port` on `host` (a listener, not TIME_WAIT)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def plain_bind_ok(port: int) -> bool:
    """The check swift deploy makes before it settles on a port (all interfaces, no reuse)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("", port))
        except OSError:
            return False
    return True


def wait_plain_bind(port: int, timeout: float = TIME_WAIT_S) -> bool:
    """Wait until swift's own probe would accept `port`; False if it never did."""
    deadline = time.monotonic() + timeout
    while not plain_bind_ok(port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def wait_released(host: str, port: int, timeout: float = 10.0) -> bool:
    """Wait until nothing listens on the port any more."""
    deadline = time.monotonic() + timeout
    while listening(host, port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True

