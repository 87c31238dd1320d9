"""The two port questions: does anyone listen (a conflict), and would swift's own plain bind succeed."""

from __future__ import annotations

import socket
import threading

import pytest

from swiftpipe.core import host
from swiftpipe.serving import ports


def listener(port: int, *, reuse: bool = True) -> socket.socket:
    """A listening socket on 127.0.0.1:port, set up as uvicorn sets up its own (SO_REUSEADDR)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if reuse:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen()
    return sock


@pytest.fixture
def port() -> int:
    return host.free_port()


def test_a_listener_is_seen_and_its_close_frees_the_port(port: int) -> None:
    assert not ports.listening("127.0.0.1", port) and ports.plain_bind_ok(port)
    sock = listener(port)
    try:
        assert ports.listening("127.0.0.1", port)
        assert not ports.plain_bind_ok(port)  # swift's probe binds all interfaces: 127.0.0.1 counts
    finally:
        sock.close()
    assert not ports.listening("127.0.0.1", port)
    assert ports.plain_bind_ok(port)


def test_wait_released_is_false_while_someone_listens_and_true_once_closed(port: int) -> None:
    sock = listener(port)
    try:
        assert ports.wait_released("127.0.0.1", port, timeout=-1) is False
    finally:
        sock.close()
    assert ports.wait_released("127.0.0.1", port, timeout=-1) is True


def test_wait_released_waits_for_a_listener_that_closes_meanwhile(port: int) -> None:
    sock = listener(port)
    closer = threading.Timer(0.3, sock.close)
    closer.start()
    try:
        assert ports.wait_released("127.0.0.1", port, timeout=30) is True
    finally:
        closer.cancel()
        sock.close()
    assert not ports.listening("127.0.0.1", port)


def test_time_wait_is_no_listener_but_fails_swifts_probe(port: int) -> None:
    """The server closes first (as uvicorn does with `Connection: close`): its port sits in TIME_WAIT."""
    sock = listener(port)
    client = socket.create_connection(("127.0.0.1", port))
    conn, _ = sock.accept()
    conn.close()
    client.close()
    sock.close()
    assert not ports.listening("127.0.0.1", port)
    assert ports.wait_released("127.0.0.1", port, timeout=-1) is True
    assert not ports.plain_bind_ok(port)
    assert ports.wait_plain_bind(port, timeout=-1) is False


def test_the_client_closing_first_leaves_the_port_free_for_swift(port: int) -> None:
    """What server._get does: the TIME_WAIT lands on our own ephemeral port, not the server's."""
    sock = listener(port)
    client = socket.create_connection(("127.0.0.1", port))
    conn, _ = sock.accept()
    client.close()
    assert conn.recv(1) == b""  # the client's FIN arrived: the server side closes second
    conn.close()
    sock.close()
    assert ports.plain_bind_ok(port)
    assert ports.wait_plain_bind(port, timeout=-1) is True

