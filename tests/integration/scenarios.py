"""The plugins under test and the loopback targets every engine test checks them against.

A new plugin is one line in PLUGINS and one or more lines in ``Targets.scenarios()``.
"""

from __future__ import annotations

import datetime
import importlib.util
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from peers.openssl_server import OpenSSLServer
from peers.pki import ClientCA, ServerIdentity, make_client_ca, make_server_identity

ROOT = Path(__file__).resolve().parents[2]
LIB = ROOT / "lib"
PLUGIN_DIR = ROOT / "plugins"

PLUGINS = (
    "check_tls_cert",
    "check_tls_handshake",
    "check_tls_clientauth",
    "check_tls_capture",
)
FAILURES_CAPTURE = ROOT / "tests" / "data" / "captures" / "ladder-failures.pcap"  # 3 handshakes, 3 failed

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3


def load_generator() -> Any:
    """packaging/generate.py as a module (it is a script, not part of the package)."""
    name = "tlsmon_packaging_generate"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "packaging" / "generate.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the class is made
        spec.loader.exec_module(module)
    return sys.modules[name]


@dataclass(frozen=True)
class Scenario:
    """One check as an engine runs it.

    Attributes:
        name: service description / NRPE command name (no spaces).
        plugin: the plugin script.
        args: options after ``-H 127.0.0.1`` (which the engines' commands put first).
        state: the exit code the check must give.
        host: the engines add ``-H <host address>`` (False for plugins without -H).
    """

    name: str
    plugin: str
    args: tuple[str, ...]
    state: int
    host: bool = True

    def argv(self, plugin_path: str, address: str = "127.0.0.1") -> list[str]:
        return [plugin_path, *(["-H", address] if self.host else []), *self.args]

    @property
    def nagios_args(self) -> str:
        """$ARG1$: Nagios splits it on spaces, so no value may hold one (nor '!' or ';')."""
        for arg in self.args:
            assert not set(arg) & set(" !;\t"), f"{self.name}: {arg!r} cannot pass through $ARG1$"
        return " ".join(self.args)


def _world_readable(path: Path) -> None:
    """NRPE runs the plugins as user nagios: the test PKI must be readable by it."""
    for dirpath, _dirnames, filenames in os.walk(path):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o644)


class Targets:
    """Loopback TLS servers made for one test module, in a directory any user can read.

    - valid: chain of two, leaf valid 200 days (OK with -w 30 -c 7)
    - expiring: leaf expires in 20 days (WARNING with -w 30 -c 7)
    - expired: leaf expired two days ago (CRITICAL)
    - clientauth: ``openssl s_server -Verify 1`` with a client CA, until
      ``stop_requesting_client_certificates()`` restarts it without -Verify on the same port
    - failures_capture: a copy of tests/data/captures/ladder-failures.pcap (protocol_version,
      no shared cipher, unknown_ca: 3 of 3 handshakes failed)
    """

    def __init__(self, openssl: str) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="tlsmon-it-"))
        self.openssl = openssl
        self._servers: list[OpenSSLServer] = []
        now = datetime.datetime.now(datetime.timezone.utc)
        day = datetime.timedelta(days=1)
        try:
            self.valid = self._identity(chain_length=2, not_before=now - day, not_after=now + 200 * day)
            self.expiring = self._identity(not_before=now - day, not_after=now + 20 * day)
            self.expired = self._identity(not_before=now - 100 * day, not_after=now - 2 * day)
            self.client_ca: ClientCA = make_client_ca(self.dir)
            self.failures_capture = self.dir / FAILURES_CAPTURE.name
            shutil.copyfile(FAILURES_CAPTURE, self.failures_capture)
            _world_readable(self.dir)
            self.valid_server = self._serve(self.valid)
            self.expiring_server = self._serve(self.expiring)
            self.expired_server = self._serve(self.expired)
            self.clientauth_server = self._serve(self.valid, verify="required", client_ca_path=self.client_ca.pem_path)
            self.clientauth_port = self.clientauth_server.port
        except BaseException:
            self.close()
            raise

    def _identity(self, **kwargs: object) -> ServerIdentity:
        return make_server_identity(self.dir, key_type="ecdsa", **kwargs)  # type: ignore[arg-type]

    def _serve(self, identity: ServerIdentity, port: Optional[int] = None, **kwargs: object) -> OpenSSLServer:
        # A second -accept overrides the first (port 0): the restart binds the same port again.
        extra = ("-accept", f"127.0.0.1:{port}") if port else ()
        server = OpenSSLServer(identity, openssl=self.openssl, extra_args=extra, **kwargs)  # type: ignore[arg-type]
        self._servers.append(server)
        return server

    def stop_requesting_client_certificates(self) -> None:
        """Restart the client-auth server on the same port, without -Verify."""
        self.clientauth_server.stop()
        self.clientauth_server = self._serve(self.valid, port=self.clientauth_port)
        assert self.clientauth_server.port == self.clientauth_port

    def scenarios(self) -> list[Scenario]:
        def tls(server: OpenSSLServer, identity: ServerIdentity) -> tuple[str, ...]:
            return ("-p", str(server.port), "--sni", "localhost", "-r", str(identity.ca_pem_path))

        return [
            Scenario("cert_valid", "check_tls_cert", (*tls(self.valid_server, self.valid), "-w", "30", "-c", "7"), OK),
            Scenario("cert_expiring", "check_tls_cert",
                     (*tls(self.expiring_server, self.expiring), "-w", "30", "-c", "7"), WARNING),
            Scenario("cert_expired", "check_tls_cert",
                     (*tls(self.expired_server, self.expired), "-w", "30", "-c", "7"), CRITICAL),
            Scenario("handshake", "check_tls_handshake",
                     (*tls(self.valid_server, self.valid), "--matrix", "versions", "--forbid-cipher", "RC4",
                      "--forbid-cipher", "NULL"), OK),
            Scenario("clientauth", "check_tls_clientauth",
                     ("-p", str(self.clientauth_port), "--sni", "localhost", "-r", str(self.valid.ca_pem_path),
                      "--require-client-cert"), OK),
            Scenario("capture", "check_tls_capture",
                     (str(self.failures_capture), "--failures-warning", "1", "--failures-critical", "2"), CRITICAL,
                     host=False),
        ]

    def close(self) -> None:
        for server in reversed(self._servers):
            server.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


CLIENTAUTH_AFTER_RESTART = CRITICAL  # the server no longer asks: --require-client-cert fails
