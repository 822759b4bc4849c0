"""The ``starttls_server`` fixture: STARTTLS servers (tests/peers/starttls_servers.py), stopped in teardown."""

from __future__ import annotations

from typing import Callable, Iterator

import pytest

from .pki import ServerIdentity
from .starttls_servers import StartTlsServer
from .tools import require_ipv6_loopback


@pytest.fixture
def starttls_server() -> Iterator[Callable[..., StartTlsServer]]:
    """Factory: starttls_server(protocol, identity, *, host="127.0.0.1", offer_starttls=True, refuse=False,
    stall=False, close_early=False, reset=False, flood=False, trailing=b"") -> StartTlsServer (started)."""
    servers: list[StartTlsServer] = []

    def start(protocol: str, identity: ServerIdentity, **options: object) -> StartTlsServer:
        if ":" in str(options.get("host", "")):
            require_ipv6_loopback()
        server = StartTlsServer(protocol, identity, **options)  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield start
    for server in reversed(servers):
        server.stop()
