"""Fixtures: the test PKI and real TLS peers on loopback (see tests/peers/)."""

from __future__ import annotations

import sys
from pathlib import Path

# so that `peers` imports under any --import-mode (the default, prepend, already puts tests/ there)
sys.path.insert(0, str(Path(__file__).resolve().parent))

import functools
import os
from typing import Callable, Iterator, TypeVar, Union

import pytest
from hypothesis import settings

from peers import hostile
from peers.openssl_server import OpenSSLServer
from peers.pki import ClientCA, ClientCert, ServerIdentity, make_client_ca, make_server_identity, write_ca_bundle
from peers.pyserver import PyTLSServer
from peers.tools import require_ipv6_loopback, require_tool

# No deadline per example: speed is measured in bench/, not by timing unit tests (on a loaded
# machine a slow example would fail as "flaky"). CI replays the same examples every run (a
# property test must not fail CI by luck of the seed); everywhere else Hypothesis explores new
# ones. `make fuzz` runs the property tests with many seeds.
settings.register_profile("tlsmon", deadline=None, print_blob=True)
settings.register_profile("ci", parent=settings.get_profile("tlsmon"), derandomize=True, database=None)
settings.load_profile("ci" if os.environ.get("CI") == "true" else "tlsmon")

OPENSSL_HINT = "apt-get install openssl"


# -- PKI ----------------------------------------------------------------------------------------


class IdentityCache:
    """Session-wide server identities, made on first use: server_identities("rsa", 2)."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._made: dict[tuple[str, int], ServerIdentity] = {}

    def __call__(self, key_type: str = "ecdsa", chain_length: int = 1) -> ServerIdentity:
        key = (key_type, chain_length)
        if key not in self._made:
            self._made[key] = make_server_identity(self._directory, key_type=key_type, chain_length=chain_length)
        return self._made[key]


@pytest.fixture(scope="session")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pki")


@pytest.fixture(scope="session")
def server_identities(pki_dir: Path) -> IdentityCache:
    return IdentityCache(pki_dir)


@pytest.fixture(scope="session")
def rsa_chain1(server_identities: IdentityCache) -> ServerIdentity:
    return server_identities("rsa", 1)


@pytest.fixture(scope="session")
def rsa_chain2(server_identities: IdentityCache) -> ServerIdentity:
    return server_identities("rsa", 2)


@pytest.fixture(scope="session")
def rsa_chain3(server_identities: IdentityCache) -> ServerIdentity:
    return server_identities("rsa", 3)


@pytest.fixture(scope="session")
def ecdsa_chain1(server_identities: IdentityCache) -> ServerIdentity:
    return server_identities("ecdsa", 1)


@pytest.fixture(scope="session")
def ecdsa_chain2(server_identities: IdentityCache) -> ServerIdentity:
    return server_identities("ecdsa", 2)


@pytest.fixture(scope="session")
def ecdsa_chain3(server_identities: IdentityCache) -> ServerIdentity:
    return server_identities("ecdsa", 3)


@pytest.fixture
def make_identity(tmp_path: Path) -> Callable[..., ServerIdentity]:
    """make_server_identity bound to this test's tmp_path (expired leaves, odd hostnames...)."""
    return functools.partial(make_server_identity, tmp_path)


@pytest.fixture(scope="session")
def client_ca(pki_dir: Path) -> ClientCA:
    return make_client_ca(pki_dir, common_name="Client CA", organization="Example")


@pytest.fixture(scope="session")
def other_client_ca(pki_dir: Path) -> ClientCA:
    return make_client_ca(pki_dir, common_name="Other Client CA", organization="Example Two")


@pytest.fixture(scope="session")
def client_ca_bundle(pki_dir: Path, client_ca: ClientCA, other_client_ca: ClientCA) -> Path:
    """One CA file with client_ca then other_client_ca: a server using it sends two CA names."""
    return write_ca_bundle(pki_dir / "two-client-cas.pem", client_ca, other_client_ca)


@pytest.fixture(scope="session")
def client_cert(client_ca: ClientCA) -> ClientCert:
    return client_ca.issue_client_cert("client")


# -- servers ------------------------------------------------------------------------------------


@pytest.fixture
def py_tls_server() -> Iterator[Callable[..., PyTLSServer]]:
    """Factory: py_tls_server(identity, *, min_version=None, max_version=None, client_auth="none",
    client_ca_path=None, alpn=None, ciphers=None, host="127.0.0.1") -> PyTLSServer (started)."""
    servers: list[PyTLSServer] = []

    def start(identity: ServerIdentity, **kwargs: object) -> PyTLSServer:
        if ":" in str(kwargs.get("host", "")):
            require_ipv6_loopback()
        server = PyTLSServer(identity, **kwargs)  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield start
    for server in reversed(servers):
        server.stop()


@pytest.fixture(scope="session")
def openssl_bin() -> str:
    return require_tool("openssl", OPENSSL_HINT)


@pytest.fixture
def openssl_server(openssl_bin: str) -> Iterator[Callable[..., OpenSSLServer]]:
    """Factory: openssl_server(identity, *, extra_args=(), tls=None|"1.2"|"1.3",
    verify=None|"optional"|"required", client_ca_path=None, host="127.0.0.1") -> OpenSSLServer."""
    servers: list[OpenSSLServer] = []

    def start(identity: ServerIdentity, **kwargs: object) -> OpenSSLServer:
        if ":" in str(kwargs.get("host", "")):
            require_ipv6_loopback()
        server = OpenSSLServer(identity, openssl=openssl_bin, **kwargs)  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield start
    for server in reversed(servers):
        server.stop()


Peer = TypeVar("Peer", bound=Union[hostile.ClosedPort, hostile.HostilePeer])


class HostilePeers:
    """Factory for the hostile peers of one test; everything started is stopped in teardown."""

    def __init__(self) -> None:
        self._started: list[Union[hostile.ClosedPort, hostile.HostilePeer]] = []

    def _keep(self, peer: Peer) -> Peer:
        self._started.append(peer)
        return peer

    def closed_port(self) -> hostile.ClosedPort:
        return self._keep(hostile.ClosedPort())

    def tarpit(self, max_lifetime: float = hostile.MAX_LIFETIME) -> hostile.Tarpit:
        return self._keep(hostile.Tarpit(max_lifetime=max_lifetime))

    def plain_http(self) -> hostile.PlainHTTP:
        return self._keep(hostile.PlainHTTP())

    def reset_after_client_hello(self) -> hostile.ResetAfterClientHello:
        return self._keep(hostile.ResetAfterClientHello())

    def immediate_alert(self, description: int = 40) -> hostile.ImmediateAlert:
        return self._keep(hostile.ImmediateAlert(description))

    def server_hello_then_stall(self, renegotiation_info: bool = True) -> hostile.ServerHelloThenStall:
        return self._keep(hostile.ServerHelloThenStall(renegotiation_info))

    def oversized_then_trickle(self, interval: float = 0.5) -> hostile.OversizedThenTrickle:
        return self._keep(hostile.OversizedThenTrickle(interval))

    def stop_all(self) -> None:
        for peer in reversed(self._started):
            peer.stop()
        self._started.clear()


@pytest.fixture
def hostile_peers() -> Iterator[HostilePeers]:
    peers = HostilePeers()
    yield peers
    peers.stop_all()
from peers.apache_fixture import apache_server  # noqa: E402, F401
from peers.nginx import nginx_server  # noqa: E402, F401
from peers.starttls_fixture import starttls_server  # noqa: E402, F401
