"""The suite's network guard (tests/conftest.py) is on for every test."""

from __future__ import annotations

import socket

import pytest


def test_a_lookup_of_another_host_is_refused() -> None:
    with pytest.raises(socket.gaierror, match="no network in tests"):
        socket.getaddrinfo("example.org", 443)


def test_a_connection_outside_the_machine_is_refused() -> None:
    with socket.socket() as sock, pytest.raises(OSError, match="no network in tests"):
        sock.connect(("192.0.2.1", 80))


def test_loopback_still_works() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=5) as client:
            assert client.getpeername() == server.getsockname()
