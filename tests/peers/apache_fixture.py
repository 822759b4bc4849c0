"""The apache_server fixture: a private apache2 per test, stopped by pid in teardown."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterator

import pytest

from peers.apache import ApacheServer
from peers.tools import require_tool


@pytest.fixture
def apache_server() -> Iterator[Callable[..., ApacheServer]]:
    """Factory: apache_server(identity, client_ca_path, tls="1.2"|"1.3") -> ApacheServer (started)."""
    # apache2 lives in /usr/sbin, which is not on every user's PATH.
    apache = "/usr/sbin/apache2" if os.access("/usr/sbin/apache2", os.X_OK) else require_tool(
        "apache2", "apt-get install apache2")
    servers: list[ApacheServer] = []

    def start(identity, client_ca_path: Path, tls: str = "1.2") -> ApacheServer:
        server = ApacheServer(apache, identity.chain_pem_path, identity.key_path, client_ca_path, tls)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
