"""Shared test fixtures.

`shared_dir` points at ../shared (real recorded responses, seeds, eval sets), read in
place. Outside CI a missing ../shared skips those tests with a clear reason; with
DLTHEORY_REQUIRE_SHARED=1 (set by .ci/run) it is an error instead, so CI can never
pass by skipping them.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DLTHEORY_SHARED_DIR", ROOT.parent / "shared")).resolve()
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Keep every test away from the user's home and from the network-facing defaults.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


def _need_shared() -> Path:
    if SHARED.is_dir():
        return SHARED
    reason = f"../shared not found at {SHARED}: these tests read the recorded fixtures there in place"
    if os.environ.get("DLTHEORY_REQUIRE_SHARED") == "1":
        pytest.fail(reason + " (DLTHEORY_REQUIRE_SHARED=1: CI must not skip them)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared, or skip (fail in CI) when it is absent."""
    return _need_shared()


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """The project's own fixtures (tests/fixtures)."""
    return FIXTURES


def _is_loopback(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if host in (None, "", "localhost"):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _is_ip_literal(host: object) -> bool:
    try:
        ipaddress.ip_address((host.decode() if isinstance(host, bytes) else str(host)).split("%")[0])
    except ValueError:
        return False
    return True


@pytest.fixture(autouse=True, scope="session")
def _no_network() -> Iterator[None]:
    """Tests never leave the machine: a name lookup of another host, or a connection to an address
    that is not loopback, fails loudly (an IP literal may be "resolved": that asks no server)."""
    real_lookup, real_connect, real_connect_ex = (
        socket.getaddrinfo,
        socket.socket.connect,
        socket.socket.connect_ex,
    )

    def lookup(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not _is_loopback(host) and not _is_ip_literal(host):
            raise socket.gaierror(socket.EAI_NONAME, f"no network in tests: lookup of {host!r} refused")
        return real_lookup(host, *args, **kwargs)

    def outside(sock: socket.socket, address: object) -> bool:
        return (
            sock.family in (socket.AF_INET, socket.AF_INET6)
            and isinstance(address, tuple)
            and not _is_loopback(address[0])
        )

    def connect(self, address):  # type: ignore[no-untyped-def]
        if outside(self, address):
            raise OSError(f"no network in tests: connection to {address!r} refused")
        return real_connect(self, address)

    def connect_ex(self, address):  # type: ignore[no-untyped-def]
        if outside(self, address):
            raise OSError(f"no network in tests: connection to {address!r} refused")
        return real_connect_ex(self, address)

    socket.getaddrinfo = lookup  # type: ignore[assignment]
    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.getaddrinfo = real_lookup  # type: ignore[assignment]
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test reads a developer's dltheory.yaml or writes to the real data dir."""
    monkeypatch.delenv("DLTHEORY_SETTINGS_FILE", raising=False)
    monkeypatch.setenv("DLTHEORY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DLTHEORY_OUTPUT_DIR", str(tmp_path / "outputs"))
    yield


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One Prefect test harness (a temporary server, 12-14 s to start) for the whole session."""
    home = tmp_path_factory.mktemp("prefect-home")
    os.environ["PREFECT_HOME"] = str(home)
    # Configure Prefect's logging now, while sys.stderr is pytest's: if it were first configured
    # inside a CliRunner invocation, its console handler would keep that runner's closed stream.
    import prefect.main  # noqa: F401
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
