"""``check_tls_cert`` as a monitoring system runs it: a subprocess against real peers on loopback.

Every run is checked the same way (``check()``): no traceback anywhere, one status line
``TLS_CERT <STATE> - <target> <reasons> | <perfdata>`` whose state names the exit code, and
perfdata of the form ``days_chain_elemN=D;W:;C:;0``. The tests then assert the exit code and
the reason. Certificates come from a hand-built PKI (tests/peers/badcerts.py) made once per
module; servers are started once per scenario and stopped when the module ends.
"""

from __future__ import annotations

import json
import os
import re
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from peers import badcerts as bc
from peers.hostile import ClosedPort
from peers.ocsp_responder import OcspResponder
from peers.openssl_server import OpenSSLServer
from peers.pki import ServerIdentity
from peers.pyserver import PyTLSServer
from peers.tools import require_ipv6_loopback

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "plugins" / "check_tls_cert"

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
STATE_NAMES = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}
STATUS_RE = re.compile(r"^TLS_CERT (OK|WARNING|CRITICAL|UNKNOWN) - (.*)$")
NUMBER = r"-?\d+(?:\.\d+)?"
PERF_RE = re.compile(rf"^(days_chain_elem[1-9]\d*|days_left)=({NUMBER});({NUMBER}):;({NUMBER}):;0$")
SECLEVEL0 = ("-cipher", "DEFAULT@SECLEVEL=0")  # SHA-1 and RSA-1024 certificates load only at level 0




# -- running the plugin ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One finished plugin run."""

    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str
    elapsed: float

    @property
    def text(self) -> str:
        return f"$ check_tls_cert {' '.join(self.args)}\nexit {self.code}\n{self.stdout}{self.stderr}"

    @property
    def status(self) -> str:
        return self.stdout.splitlines()[0] if self.stdout else ""

    @property
    def state(self) -> str:
        match = STATUS_RE.match(self.status)
        return match.group(1) if match else ""

    @property
    def reason(self) -> str:
        """The status line between ``STATE - `` and the perfdata."""
        match = STATUS_RE.match(self.status)
        return match.group(2).split(" | ", 1)[0] if match else ""

    @property
    def perfdata(self) -> dict[str, tuple[float, str, str]]:
        """label -> (value, warning, critical), in the order printed."""
        out = {}
        for item in self._perf_items():
            match = PERF_RE.match(item)
            assert match, item
            out[match.group(1)] = (float(match.group(2)), match.group(3), match.group(4))
        return out

    @property
    def details(self) -> list[str]:
        return self.stdout.splitlines()[1:]

    def _perf_items(self) -> list[str]:
        if " | " not in self.status:
            return []
        return self.status.split(" | ", 1)[1].split()

    def json(self) -> dict[str, Any]:
        return json.loads(self.stdout)


def check(*args: str, env: Optional[dict[str, str]] = None, timeout: float = 30) -> Run:
    """Run the plugin as Nagios does and check what every run must satisfy."""
    environment = {k: v for k, v in os.environ.items() if k != "TLSMON_CLIENTPASS"}
    environment["PYTHONPATH"] = str(ROOT / "lib")
    environment.update(env or {})
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(PLUGIN), *args],
        capture_output=True, text=True, timeout=timeout, env=environment, cwd="/",
        stdin=subprocess.DEVNULL, start_new_session=True,  # no terminal: nothing may prompt
    )  # fmt: skip
    run = Run(tuple(args), proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start)
    assert "Traceback" not in run.stdout and "Traceback" not in run.stderr, run.text
    assert run.code in STATE_NAMES, run.text
    if "json" not in args:
        assert STATUS_RE.match(run.status), run.text
        assert run.state == STATE_NAMES[run.code], run.text
        for item in run._perf_items():
            assert PERF_RE.match(item), f"bad perfdata {item!r}\n{run.text}"
    return run


def expect(run: Run, code: int, *fragments: str) -> None:
    """Exit code and each fragment in the status line's reason."""
    assert run.code == code, run.text
    for fragment in fragments:
        assert fragment in run.reason, f"{fragment!r} not in the reason\n{run.text}"


# -- the lab: one PKI and the servers of every scenario, per module --------------------------------


@dataclass(frozen=True)
class Target:
    """A server on loopback and what a client passes to reach and trust it."""

    port: int
    identity: ServerIdentity
    host: str = "127.0.0.1"

    def args(self, *, sni: Optional[str] = "localhost", trust: bool = True) -> list[str]:
        out = ["-H", self.host, "-p", str(self.port)]
        if sni:
            out += ["--sni", sni]
        if trust:
            out += ["-r", str(self.identity.ca_pem_path)]
        return out

    @property
    def endpoint(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


class Lab:
    """Root -> intermediate PKI built once; servers made on first use and stopped at the end."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.now = bc.utcnow()
        self.root = bc.make_root("tlsmon Test Root")
        self.inter = bc.make_intermediate(self.root, "tlsmon Test Intermediate")
        self._targets: dict[str, Target] = {}
        self._running: list[Any] = []
        self._ocsp: Optional[OcspResponder] = None
        self._closed: Optional[ClosedPort] = None
        self._rsa_inter: Optional[bc.Issued] = None

    def at(self, days: float) -> Any:
        return self.now + days * bc.DAY

    def leaf(self, *, days_left: float = 60, issuer: Optional[bc.Issued] = None, **kwargs: Any) -> bc.Issued:
        kwargs.setdefault("not_before", self.at(-1))
        return bc.make_leaf(issuer or self.inter, not_after=self.at(days_left), **kwargs)

    def identity(self, leaf: bc.Issued, *, intermediates: Optional[tuple[bc.Issued, ...]] = None,
                 send: bool = True) -> ServerIdentity:
        chain = (self.inter,) if intermediates is None else intermediates
        return bc.write_identity(self.dir, leaf, root=self.root, intermediates=chain, send_intermediates=send)

    def py(self, key: str, build: Callable[[], ServerIdentity], **server: Any) -> Target:
        """A Python ssl server for scenario ``key`` (made once)."""
        if key not in self._targets:
            identity = build()
            started = PyTLSServer(identity, **server)
            self._running.append(started)
            self._targets[key] = Target(started.port, identity, started.host)
        return self._targets[key]

    def openssl(self, key: str, openssl: str, build: Callable[[], ServerIdentity], **server: Any) -> Target:
        """An ``openssl s_server`` for scenario ``key`` (made once)."""
        if key not in self._targets:
            identity = build()
            started = OpenSSLServer(identity, openssl=openssl, **server)
            self._running.append(started)
            self._targets[key] = Target(started.port, identity, started.host)
        return self._targets[key]

    @property
    def ocsp(self) -> OcspResponder:
        if self._ocsp is None:
            self._ocsp = OcspResponder(self.inter)
            self._running.append(self._ocsp)
        return self._ocsp

    @property
    def closed_port(self) -> int:
        if self._closed is None:
            self._closed = ClosedPort()
            self._running.append(self._closed)
        return self._closed.port

    @property
    def rsa_inter(self) -> bc.Issued:
        """An RSA intermediate, to sign a leaf with sha1WithRSAEncryption."""
        if self._rsa_inter is None:
            self._rsa_inter = bc.make_intermediate(self.root, "tlsmon RSA Intermediate", key_type="rsa2048")
        return self._rsa_inter

    def stop(self) -> None:
        for thing in reversed(self._running):
            thing.stop()
        self._running.clear()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    the_lab = Lab(tmp_path_factory.mktemp("check_tls_cert"))
    yield the_lab
    the_lab.stop()


def valid(lab: Lab) -> Target:
    """Leaf (60 days) + intermediate, trusted through -r."""
    return lab.py("valid", lambda: lab.identity(lab.leaf(days_left=60)))


def expiring(lab: Lab, days: float) -> Target:
    return lab.py(f"expiring-{days}", lambda: lab.identity(lab.leaf(days_left=days)))


def short_intermediate(lab: Lab) -> Target:
    """The intermediate expires in 17 days, before its 60-day leaf."""

    def build() -> ServerIdentity:
        inter = bc.make_intermediate(lab.root, "tlsmon Short Intermediate", not_after=lab.at(17))
        return lab.identity(lab.leaf(days_left=60, issuer=inter), intermediates=(inter,))

    return lab.py("short-intermediate", build)


# -- validity and expiry ----------------------------------------------------------------------------


def test_valid_chain_is_ok_with_perfdata_per_chain_element(lab: Lab) -> None:
    target = valid(lab)
    run = check(*target.args())
    expect(run, OK, f"{target.endpoint} CN=localhost expires in 60.0 days")
    assert list(run.perfdata) == ["days_chain_elem1", "days_chain_elem2", "days_left"]
    assert run.perfdata["days_chain_elem1"] == (60.0, "20", "15")
    assert run.perfdata["days_left"] == (60.0, "20", "15")
    assert run.perfdata["days_chain_elem2"][0] > 2000


def test_expiring_within_warning(lab: Lab) -> None:
    run = check(*expiring(lab, 17).args())
    expect(run, WARNING, "CN=localhost expires in 17.0 days")
    assert run.perfdata["days_chain_elem1"][0] in (16.99, 17.0)
    assert run.perfdata["days_left"][0] == run.perfdata["days_chain_elem1"][0]


def test_expiring_within_critical(lab: Lab) -> None:
    run = check(*expiring(lab, 10).args())
    expect(run, CRITICAL, "CN=localhost expires in 10.0 days")


def test_ten_days_is_warning_with_thresholds_around_it(lab: Lab) -> None:
    run = check(*expiring(lab, 10).args(), "-w", "12", "-c", "5")
    expect(run, WARNING, "CN=localhost expires in 10.0 days")
    assert re.search(r"(^| )days_chain_elem1=(9\.99|10\.0);12:;5:;0( |$)", run.status), run.text


@pytest.mark.parametrize(
    ("warning", "critical", "code"),
    [("10.5", "9.75", WARNING), ("10.5", "10.25", CRITICAL), ("9.5", "9.25", OK)],
)
def test_fractional_thresholds(lab: Lab, warning: str, critical: str, code: int) -> None:
    run = check(*expiring(lab, 10).args(), "-w", warning, "-c", critical)
    expect(run, code, "expires in 10.0 days")
    assert run.perfdata["days_chain_elem1"][1:] == (warning, critical)


def test_expired_leaf(lab: Lab) -> None:
    target = lab.py("expired", lambda: lab.identity(lab.leaf(days_left=-3, not_before=lab.at(-30))))
    run = check(*target.args())
    expect(run, CRITICAL, "CN=localhost expired 3.0 days ago")
    assert run.perfdata["days_chain_elem1"][0] == -3.0
    assert "untrusted" not in run.reason  # the platform verifies the chain time-independently


def test_not_yet_valid_leaf(lab: Lab) -> None:
    target = lab.py("not-yet-valid", lambda: lab.identity(lab.leaf(days_left=60, not_before=lab.at(2))))
    run = check(*target.args())
    expect(run, CRITICAL, "CN=localhost is not valid before")


def test_ignore_exp_keeps_perfdata(lab: Lab) -> None:
    run = check(*expiring(lab, 10).args(), "--ignore-exp")
    expect(run, OK, "expires in 10.0 days")
    assert run.perfdata["days_chain_elem1"][0] in (9.99, 10.0)
    assert run.perfdata["days_chain_elem1"][1:] == ("20", "15")


def test_intermediate_expiring_before_the_leaf_decides(lab: Lab) -> None:
    run = check(*short_intermediate(lab).args())
    expect(run, WARNING, "CN=tlsmon Short Intermediate (chain element 2) expires in 17.0 days")
    assert "CN=localhost" not in run.reason
    assert run.perfdata["days_left"][0] == run.perfdata["days_chain_elem2"][0] < 17.01
    assert run.perfdata["days_chain_elem1"][0] == 60.0


def test_perfdata_stay_in_chain_order_whatever_the_states(lab: Lab) -> None:
    run = check(*short_intermediate(lab).args())
    assert list(run.perfdata) == ["days_chain_elem1", "days_chain_elem2", "days_left"], run.text


def test_first_element_only_ignores_the_intermediate(lab: Lab) -> None:
    run = check(*short_intermediate(lab).args(), "--first-element-only")
    expect(run, OK, "CN=localhost expires in 60.0 days")
    assert set(run.perfdata) == {"days_chain_elem1", "days_left"}
    assert run.perfdata["days_left"][0] == 60.0


def test_expired_intermediate(lab: Lab) -> None:
    def build() -> ServerIdentity:
        inter = bc.make_intermediate(lab.root, "tlsmon Expired Intermediate", not_before=lab.at(-400),
                                     not_after=lab.at(-5))
        return lab.identity(lab.leaf(days_left=60, issuer=inter), intermediates=(inter,))

    run = check(*lab.py("expired-intermediate", build).args())
    expect(run, CRITICAL, "CN=tlsmon Expired Intermediate (chain element 2) expired 5.0 days ago")
    assert "untrusted" not in run.reason


# -- names, trust, algorithms -----------------------------------------------------------------------


def test_wrong_host_name(lab: Lab) -> None:
    run = check(*valid(lab).args(sni="wrong.example"))
    expect(run, CRITICAL, "wrong.example does not match the certificate (localhost)")


def test_address_without_sni_is_checked_against_ip_names(lab: Lab) -> None:
    run = check(*valid(lab).args(sni=None))
    expect(run, CRITICAL, "127.0.0.1 does not match the certificate")


def test_match_names_the_expected_host(lab: Lab) -> None:
    run = check(*valid(lab).args(sni="wrong.example"), "-m", "localhost")
    expect(run, OK, "CN=localhost expires in 60.0 days")


def test_every_match_must_hold(lab: Lab) -> None:
    run = check(*valid(lab).args(), "-m", "localhost", "-m", "other.example")
    expect(run, CRITICAL, "other.example does not match")
    assert "localhost does not match" not in run.reason


def self_signed(lab: Lab) -> Target:
    return lab.py("self-signed", lambda: lab.identity(bc.make_leaf(None, not_after=lab.at(60)), intermediates=()))


def test_self_signed_leaf_is_critical(lab: Lab) -> None:
    run = check(*self_signed(lab).args(trust=False))
    expect(run, CRITICAL, "self-signed")


def test_self_signed_leaf_accepted_with_s(lab: Lab) -> None:
    run = check(*self_signed(lab).args(trust=False), "-s")
    expect(run, OK, "CN=localhost expires in 60.0 days")


def test_incomplete_chain(lab: Lab) -> None:
    target = lab.py("leaf-only", lambda: lab.identity(lab.leaf(days_left=60), send=False))
    run = check(*target.args())
    expect(run, CRITICAL, "incomplete chain")
    assert list(run.perfdata) == ["days_chain_elem1", "days_left"]


def test_foreign_trust_anchor_is_untrusted(lab: Lab, tmp_path: Path) -> None:
    other = tmp_path / "other-root.pem"
    other.write_bytes(bc.make_root("Someone Else's Root").pem)
    run = check(*valid(lab).args(trust=False), "-r", str(other))
    expect(run, CRITICAL, "untrusted")


def test_sha1_signed_leaf(lab: Lab, openssl_bin: str) -> None:
    def build() -> ServerIdentity:
        leaf = bc.resign_with_sha1(lab.leaf(days_left=60, issuer=lab.rsa_inter), lab.rsa_inter)
        return lab.identity(leaf, intermediates=(lab.rsa_inter,))

    run = check(*lab.openssl("sha1", openssl_bin, build, extra_args=SECLEVEL0).args())
    expect(run, CRITICAL, "CN=localhost is signed with SHA1")


def rsa1024(lab: Lab, openssl: str) -> Target:
    def build() -> ServerIdentity:
        return lab.identity(lab.leaf(days_left=60, key_type="rsa1024"))

    return lab.openssl("rsa1024", openssl, build, extra_args=SECLEVEL0)


def test_rsa1024_leaf_names_the_weak_key(lab: Lab, openssl_bin: str) -> None:
    run = check(*rsa1024(lab, openssl_bin).args())
    assert run.code in (WARNING, CRITICAL), run.text
    assert "CN=localhost has a weak key (RSA 1024 bits)" in run.reason, run.text


def test_rsa1024_leaf_is_warning(lab: Lab, openssl_bin: str) -> None:
    run = check(*rsa1024(lab, openssl_bin).args())
    expect(run, WARNING, "weak key")


def test_ipv6_loopback(lab: Lab) -> None:
    require_ipv6_loopback()
    target = lab.py("ipv6", lambda: lab.identity(lab.leaf(days_left=60, ip_addresses=("::1",))), host="::1")
    run = check(*target.args(sni=None))
    expect(run, OK, f"[::1]:{target.port} CN=localhost expires in 60.0 days")


# -- patterns and validity period -------------------------------------------------------------------


def widgets(lab: Lab) -> Target:
    def build() -> ServerIdentity:
        return lab.identity(lab.leaf(days_left=60, organization="Example Widgets Ltd", serial=0x1234ABCD))

    return lab.py("widgets", build)


def _fingerprint(lab: Lab, algorithm: hashes.HashAlgorithm, colons: bool = False) -> str:
    der = widgets(lab).identity.chain_der[0]
    hexed = x509.load_der_x509_certificate(der).fingerprint(algorithm).hex()
    return ":".join(hexed[i : i + 2] for i in range(0, len(hexed), 2)).upper() if colons else hexed


@pytest.mark.parametrize(
    "option",
    [
        ["-i", "tlsmon Test Intermediate"],
        ["-i", "^CN=tlsmon test intermediate"],  # case-insensitive, like check_ssl_cert
        ["-o", "^Example Widgets"],
        ["--serial", "1234abcd"],
        ["--serial", "12:34:AB:CD"],
        ["--fingerprint", "sha256-colons"],
        ["--fingerprint", "sha1"],
    ],
)
def test_patterns_that_match(lab: Lab, option: list[str]) -> None:
    if option[0] == "--fingerprint":
        option = ["--fingerprint", _fingerprint(lab, hashes.SHA256(), colons=True) if option[1] == "sha256-colons"
                  else _fingerprint(lab, hashes.SHA1())]  # fmt: skip
    run = check(*widgets(lab).args(), *option)
    expect(run, OK, "CN=localhost expires in 60.0 days")


@pytest.mark.parametrize(
    ("option", "fragment"),
    [
        (["-i", "Other CA"], "issuer CN=tlsmon Test Intermediate,O=tlsmon test PKI does not match 'Other CA'"),
        (["-o", "Acme"], "organization 'Example Widgets Ltd' does not match 'Acme'"),
        (["--serial", "DEADBEEF"], "serial 1234ABCD does not match 'DEADBEEF'"),
        (["--fingerprint", "00" * 32], "fingerprint SHA-256"),
    ],
)
def test_patterns_that_do_not_match(lab: Lab, option: list[str], fragment: str) -> None:
    run = check(*widgets(lab).args(), *option)
    expect(run, CRITICAL, fragment, "does not match")


def test_maximum_validity_exceeded(lab: Lab) -> None:
    run = check(*valid(lab).args(), "--maximum-validity", "30")
    expect(run, CRITICAL, "validity of 61 days is longer than the maximum 30")


def test_ignore_maximum_validity(lab: Lab) -> None:
    run = check(*valid(lab).args(), "--maximum-validity", "30", "--ignore-maximum-validity")
    expect(run, OK)


def test_default_maximum_validity_is_397_days(lab: Lab, ecdsa_chain2: ServerIdentity) -> None:
    # trustme's leaves are valid from 2000 to 3000
    target = lab.py("trustme-long", lambda: ecdsa_chain2)
    expect(check(*target.args()), CRITICAL, "is longer than the maximum 397")
    expect(check(*target.args(), "--ignore-maximum-validity"), OK, "CN=localhost expires in")


# -- STARTTLS -------------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["smtp", "imap", "pop3", "ftp", "ldap", "postgres", "xmpp", "xmpp-server"])
def test_starttls(lab: Lab, starttls_server: Callable[..., Any], protocol: str) -> None:
    identity = lab.identity(lab.leaf(days_left=60))
    server = starttls_server(protocol, identity)
    run = check("-H", "127.0.0.1", "-p", str(server.port), "--sni", "localhost", "-r", str(identity.ca_pem_path),
                "-P", protocol)  # fmt: skip
    expect(run, OK, f"127.0.0.1:{server.port} CN=localhost expires in 60.0 days")
    assert server.wait_for(handshakes=1)


def test_starttls_has_no_maximum_validity(lab: Lab, starttls_server: Callable[..., Any],
                                          ecdsa_chain2: ServerIdentity) -> None:
    server = starttls_server("smtp", ecdsa_chain2)
    run = check("-H", "127.0.0.1", "-p", str(server.port), "--sni", "localhost", "-r", str(ecdsa_chain2.ca_pem_path),
                "-P", "smtp")  # fmt: skip
    expect(run, OK, "CN=localhost expires in")


def test_protocol_default_port(lab: Lab) -> None:
    run = check("-H", "127.0.0.1", "-P", "smtp", "-t", "3", "--ignore-ocsp")
    assert run.reason.startswith("127.0.0.1:25 "), run.text


@pytest.mark.parametrize("form", ["-p N", "--port N", "-pN", "--port=N"])
def test_port_wins_over_protocol_default(lab: Lab, form: str) -> None:
    port = str(lab.closed_port)
    option = form.replace("N", port).split()
    run = check("-H", "127.0.0.1", *option, "-P", "smtp", "-t", "3")
    expect(run, CRITICAL, f"127.0.0.1:{port} refused")


# -- client certificates ----------------------------------------------------------------------------

PASSWORD = "c0rrect-H0rse-battery-Staple"
CLIENT_AUTH_SERVERS = [
    pytest.param("openssl", "1.2", id="s_server-tls1.2"),
    pytest.param("openssl", "1.3", id="s_server-tls1.3"),
    pytest.param("python", "1.2", id="python-tls1.2"),
    pytest.param("python", "1.3", id="python-tls1.3"),
]


def client_auth_server(lab: Lab, request: pytest.FixtureRequest, kind: str, tls: str, client_ca: Any,
                       name: str = "valid", days_left: float = 60) -> Target:
    key = f"client-auth-{name}-{kind}-{tls}"

    def build() -> ServerIdentity:
        return lab.identity(lab.leaf(days_left=days_left))

    if kind == "openssl":
        openssl = request.getfixturevalue("openssl_bin")
        return lab.openssl(key, openssl, build, tls=tls, verify="required", client_ca_path=client_ca.pem_path)
    version = ssl.TLSVersion.TLSv1_2 if tls == "1.2" else ssl.TLSVersion.TLSv1_3
    return lab.py(key, build, min_version=version, max_version=version, client_auth="required",
                  client_ca_path=client_ca.pem_path)  # fmt: skip


@pytest.mark.parametrize(("kind", "tls"), CLIENT_AUTH_SERVERS)
def test_required_client_certificate_without_one(lab: Lab, request: pytest.FixtureRequest, client_ca: Any,
                                                 kind: str, tls: str) -> None:
    target = client_auth_server(lab, request, kind, tls, client_ca)
    run = check(*target.args())
    expect(run, OK, "CN=localhost expires in 60.0 days", "client certificate required")
    assert list(run.perfdata) == ["days_chain_elem1", "days_chain_elem2", "days_left"]


@pytest.mark.parametrize(("kind", "tls"), CLIENT_AUTH_SERVERS)
def test_required_client_certificate_without_one_still_checks_the_chain(
    lab: Lab, request: pytest.FixtureRequest, client_ca: Any, kind: str, tls: str
) -> None:
    target = client_auth_server(lab, request, kind, tls, client_ca, name="expiring", days_left=10)
    run = check(*target.args())
    expect(run, CRITICAL, "CN=localhost expires in 10.0 days")


@pytest.mark.parametrize(("kind", "tls"), CLIENT_AUTH_SERVERS)
def test_required_client_certificate_given(lab: Lab, request: pytest.FixtureRequest, client_ca: Any,
                                           client_cert: Any, kind: str, tls: str) -> None:
    target = client_auth_server(lab, request, kind, tls, client_ca)
    run = check(*target.args(), "-C", str(client_cert.cert_pem_path), "-K", str(client_cert.key_path))
    expect(run, OK, "CN=localhost expires in 60.0 days")
    assert "required" not in run.reason


@pytest.mark.parametrize(("kind", "tls"), CLIENT_AUTH_SERVERS)
def test_client_certificate_of_another_ca_is_rejected(lab: Lab, request: pytest.FixtureRequest, client_ca: Any,
                                                      other_client_ca: Any, kind: str, tls: str) -> None:
    target = client_auth_server(lab, request, kind, tls, client_ca)
    intruder = other_client_ca.issue_client_cert("intruder")
    run = check(*target.args(), "-C", str(intruder.cert_pem_path), "-K", str(intruder.key_path))
    expect(run, CRITICAL, "the server rejected our client certificate")


@pytest.fixture(scope="module")
def encrypted_client_key(client_cert: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the client key encrypted with PASSWORD, a file holding PASSWORD)."""
    directory = tmp_path_factory.mktemp("client-key")
    key = serialization.load_pem_private_key(client_cert.key_path.read_bytes(), None)
    encrypted = directory / "client.key"
    encrypted.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.BestAvailableEncryption(PASSWORD.encode())))  # fmt: skip
    password_file = directory / "password"
    password_file.write_text(PASSWORD + "\n")
    return encrypted, password_file


def assert_secret_kept(*runs: Run) -> None:
    for run in runs:
        assert PASSWORD not in run.stdout and PASSWORD not in run.stderr, run.text


@pytest.mark.parametrize(("kind", "tls"), CLIENT_AUTH_SERVERS)
def test_encrypted_client_key_with_password_file(lab: Lab, request: pytest.FixtureRequest, client_ca: Any,
                                                 client_cert: Any, encrypted_client_key: tuple[Path, Path],
                                                 kind: str, tls: str) -> None:
    target = client_auth_server(lab, request, kind, tls, client_ca)
    key, password_file = encrypted_client_key
    options = [*target.args(), "-C", str(client_cert.cert_pem_path), "-K", str(key), "--clientpass-file",
               str(password_file)]  # fmt: skip
    run = check(*options)
    expect(run, OK, "CN=localhost expires in 60.0 days")
    assert "required" not in run.reason
    assert_secret_kept(run, check(*options, "-vv"), check(*options, "--output", "json"))


def test_wrong_client_key_password_is_unknown_and_not_shown(lab: Lab, request: pytest.FixtureRequest,
                                                            client_ca: Any, client_cert: Any,
                                                            encrypted_client_key: tuple[Path, Path]) -> None:
    target = client_auth_server(lab, request, "python", "1.2", client_ca)
    key, _ = encrypted_client_key
    wrong = PASSWORD[::-1]
    run = check(*target.args(), "-C", str(client_cert.cert_pem_path), "-K", str(key), "-vvv",
                env={"TLSMON_CLIENTPASS": wrong})  # fmt: skip
    expect(run, UNKNOWN)
    assert run.stdout.count("\n") == 1, run.text
    assert wrong not in run.stdout and wrong not in run.stderr


@pytest.mark.parametrize("password", [None, "wrong"], ids=["no-password", "wrong-password"])
def test_client_key_password_problem_is_named_without_prompting(
    lab: Lab, request: pytest.FixtureRequest, client_ca: Any, client_cert: Any,
    encrypted_client_key: tuple[Path, Path], password: Optional[str]
) -> None:
    target = client_auth_server(lab, request, "python", "1.2", client_ca)
    key, _ = encrypted_client_key
    env = {"TLSMON_CLIENTPASS": password} if password else None
    run = check(*target.args(), "-C", str(client_cert.cert_pem_path), "-K", str(key), "-t", "5", env=env)
    expect(run, UNKNOWN)
    assert "pass phrase" not in run.stderr, run.text
    assert "password" in run.reason.lower(), run.text


def test_missing_client_key_file_is_unknown(lab: Lab, client_cert: Any, tmp_path: Path) -> None:
    run = check(*valid(lab).args(), "-C", str(client_cert.cert_pem_path), "-K", str(tmp_path / "missing.key"))
    expect(run, UNKNOWN, "not found")
    assert run.stdout.count("\n") == 1, run.text


def test_missing_password_file_is_unknown(lab: Lab, client_cert: Any, tmp_path: Path) -> None:
    run = check(*valid(lab).args(), "-C", str(client_cert.cert_pem_path), "-K", str(client_cert.key_path),
                "--clientpass-file", str(tmp_path / "missing"))  # fmt: skip
    expect(run, UNKNOWN, "cannot read password file")


# -- OCSP -----------------------------------------------------------------------------------------

OCSP_FLAGS = [
    pytest.param([], id="default"),
    pytest.param(["--ocsp"], id="--ocsp"),
]


def ocsp_target(lab: Lab, status: str) -> Target:
    """A leaf whose AIA names the loopback responder, which answers ``status`` (``down``: nobody listens)."""

    def build() -> ServerIdentity:
        url = f"http://127.0.0.1:{lab.closed_port}/" if status == "down" else lab.ocsp.url
        leaf = lab.leaf(days_left=60, ocsp_url=url)
        if status != "down":
            lab.ocsp.know(leaf, status)  # type: ignore[arg-type]
        return lab.identity(leaf)

    return lab.py(f"ocsp-{status}", build)


@pytest.mark.parametrize("flags", OCSP_FLAGS)
def test_ocsp_good(lab: Lab, flags: list[str]) -> None:
    target = ocsp_target(lab, "good")
    asked = lab.ocsp.requests
    run = check(*target.args(), *flags)
    expect(run, OK, "CN=localhost expires in 60.0 days")
    assert lab.ocsp.requests == asked + 1, "the responder was not asked"


@pytest.mark.parametrize("flags", OCSP_FLAGS)
def test_ocsp_revoked(lab: Lab, flags: list[str]) -> None:
    run = check(*ocsp_target(lab, "revoked").args(), *flags)
    expect(run, CRITICAL, "revoked", "keyCompromise", lab.ocsp.url)


@pytest.mark.parametrize("flags", OCSP_FLAGS)
def test_ocsp_unknown(lab: Lab, flags: list[str]) -> None:
    run = check(*ocsp_target(lab, "unknown").args(), *flags)
    expect(run, WARNING, "does not know the certificate")


@pytest.mark.parametrize("flags", OCSP_FLAGS)
def test_ocsp_responder_down_is_warning(lab: Lab, flags: list[str]) -> None:
    run = check(*ocsp_target(lab, "down").args(), *flags)
    expect(run, WARNING, "OCSP", "check failed")


@pytest.mark.parametrize("flags", OCSP_FLAGS)
def test_ocsp_responder_down_with_ocsp_errors_unknown(lab: Lab, flags: list[str]) -> None:
    run = check(*ocsp_target(lab, "down").args(), *flags, "--ocsp-errors", "unknown")
    expect(run, UNKNOWN, "OCSP", "check failed")


def test_ignore_ocsp(lab: Lab) -> None:
    target = ocsp_target(lab, "revoked")
    asked = lab.ocsp.requests
    run = check(*target.args(), "--ignore-ocsp")
    expect(run, OK, "CN=localhost expires in 60.0 days")
    assert lab.ocsp.requests == asked


# -- peers that are not TLS servers -----------------------------------------------------------------


def test_closed_port(hostile_peers: Any) -> None:
    port = hostile_peers.closed_port().port
    run = check("-H", "127.0.0.1", "-p", str(port))
    expect(run, CRITICAL, f"127.0.0.1:{port} refused (connect)")
    assert run.perfdata == {}


def test_tarpit_times_out_naming_the_phase(hostile_peers: Any) -> None:
    started = check()  # a usage error: the interpreter's start, for the time bound
    port = hostile_peers.tarpit().port
    run = check("-H", "127.0.0.1", "-p", str(port), "-t", "2")
    expect(run, CRITICAL, "timeout (server_hello)", "timed out")
    assert run.elapsed < 2 + 1 + started.elapsed + 0.5, run.elapsed


def test_plain_http_port(hostile_peers: Any) -> None:
    port = hostile_peers.plain_http().port
    run = check("-H", "127.0.0.1", "-p", str(port), "-t", "5")
    expect(run, CRITICAL, f"127.0.0.1:{port}", "not TLS")


# -- usage ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ([], "-H/--host or -f/--file is required"),
        (["-H", "h", "-f", "f"], "use either -H/--host or -f/--file"),
        (["-H", "h", "-w", "abc"], "not a number of days: 'abc'"),
        (["-H", "h", "-w", "10", "-c", "20"], "-c (20) must not be larger than -w (10)"),
        (["-H", "h", "-P", "gopher"], "unknown protocol 'gopher'"),
        (["-H", "h", "-K", "key.pem"], "-K/--clientkey needs -C/--clientcert"),
        (["-H", "h", "--ocsp-errors", "maybe"], "invalid choice: 'maybe'"),
        (["-H", "h", "--ocsp", "--ignore-ocsp"], "not allowed with argument"),
        (["-H", "h", "-p", "99999"], "not a TCP port: '99999'"),
        (["-H", "h", "-t", "0"], "must be positive"),
        (["-H", "h", "--output", "xml"], "invalid choice: 'xml'"),
        (["-H", "h", "--no-such-option"], "unrecognized arguments: --no-such-option"),
    ],
)
def test_bad_options_are_unknown_with_one_line(args: list[str], fragment: str) -> None:
    run = check(*args)
    expect(run, UNKNOWN, "usage: ", fragment)
    assert run.status.startswith("TLS_CERT UNKNOWN - usage: ")
    assert run.stdout.count("\n") == 1, run.text


def test_version() -> None:
    run = subprocess.run([sys.executable, str(PLUGIN), "-V"], capture_output=True, text=True, cwd="/",
                         env=dict(os.environ, PYTHONPATH=str(ROOT / "lib")), timeout=30)  # fmt: skip
    assert run.returncode == 0 and run.stdout.startswith("check_tls_cert (tlsmon "), run.stdout + run.stderr


def test_invalid_pattern_is_unknown(lab: Lab) -> None:
    run = check(*valid(lab).args(), "-i", "(")
    expect(run, UNKNOWN, "'(' is not a valid regular expression")


def test_invalid_pattern_is_unknown_before_connecting(lab: Lab) -> None:
    run = check("-H", "127.0.0.1", "-p", str(lab.closed_port), "-o", "[unclosed")
    expect(run, UNKNOWN, "is not a valid regular expression")


# -- certificate files ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def files(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("files")
    good, soon, long = lab.leaf(days_left=60), lab.leaf(days_left=17), lab.leaf(days_left=800)
    out = {
        "good.pem": directory / "good.pem",
        "soon.pem": directory / "soon.pem",
        "long.pem": directory / "long.pem",
        "garbage.pem": directory / "garbage.pem",
    }
    out["good.pem"].write_bytes(good.pem + lab.inter.pem)
    out["soon.pem"].write_bytes(soon.pem + lab.inter.pem)
    out["long.pem"].write_bytes(long.pem)
    out["garbage.pem"].write_bytes(b"this is not a certificate\n")
    out["good.p12"] = bc.write_pkcs12(directory / "good.p12", good, [lab.inter], PASSWORD.encode())
    return out


def test_file_pem_chain_ok(files: dict[str, Path]) -> None:
    run = check("-f", str(files["good.pem"]))
    expect(run, OK, f"{files['good.pem']} CN=localhost expires in 60.0 days")
    assert list(run.perfdata)[:2] == ["days_chain_elem1", "days_chain_elem2"]
    assert "trust is not checked for files" in run.details


def test_file_pem_chain_warning(files: dict[str, Path]) -> None:
    run = check("-f", str(files["soon.pem"]))
    expect(run, WARNING, "CN=localhost expires in 17.0 days")


def test_file_has_no_default_maximum_validity(files: dict[str, Path]) -> None:
    expect(check("-f", str(files["long.pem"])), OK, "expires in 800 days")
    expect(check("-f", str(files["long.pem"]), "--maximum-validity"), CRITICAL, "longer than the maximum 397")


def test_file_pkcs12_with_password_from_environment(files: dict[str, Path]) -> None:
    run = check("-f", str(files["good.p12"]), "-v", env={"TLSMON_CLIENTPASS": PASSWORD})
    expect(run, OK, "CN=localhost expires in 60.0 days")
    assert [line[:3] for line in run.details if re.match(r"\d\) ", line)] == ["1) ", "2) "]
    assert_secret_kept(run)


def test_file_pkcs12_with_wrong_password(files: dict[str, Path]) -> None:
    run = check("-f", str(files["good.p12"]), env={"TLSMON_CLIENTPASS": "not-" + PASSWORD[:5]})
    expect(run, UNKNOWN, "wrong password or not PKCS#12")


@pytest.mark.parametrize(
    ("name", "fragment"),
    [("missing.pem", "not found"), ("<directory>", "is a directory"), ("garbage.pem", "no certificate found")],
)
def test_unreadable_file_is_unknown(files: dict[str, Path], name: str, fragment: str) -> None:
    path = files["good.pem"].parent if name == "<directory>" else files.get(name, files["good.pem"].parent / name)
    run = check("-f", str(path))
    expect(run, UNKNOWN, f"cannot read '{path}'", fragment)
    assert run.stdout.count("\n") == 1, run.text


# -- outputs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", ["valid", "warning", "critical", "refused"])
def test_json_agrees_with_the_nagios_output(lab: Lab, scenario: str) -> None:
    if scenario == "refused":
        args = ["-H", "127.0.0.1", "-p", str(lab.closed_port)]
    else:
        args = {"valid": valid, "warning": lambda lb: expiring(lb, 17), "critical": lambda lb: expiring(lb, 10)}[
            scenario
        ](lab).args()
    nagios = check(*args)
    doc = check(*args, "--output", "json").json()
    assert (doc["state"], doc["exit_code"]) == (nagios.state, nagios.code)
    assert f"TLS_CERT {doc['state']} - {doc['summary']}" == nagios.status.split(" | ")[0]
    assert [m["label"] for m in doc["metrics"]] == list(nagios.perfdata)
    for metric in doc["metrics"]:
        assert (metric["value"], metric["warn"], metric["crit"]) == (
            nagios.perfdata[metric["label"]][0], nagios.perfdata[metric["label"]][1] + ":",
            nagios.perfdata[metric["label"]][2] + ":",
        )  # fmt: skip
    if scenario != "refused":
        assert [c["subject"] for c in doc["facts"]["certificates"]] == [
            "CN=localhost", "CN=tlsmon Test Intermediate,O=tlsmon test PKI"
        ]  # fmt: skip


def test_verbose_shows_one_line_per_chain_element(lab: Lab) -> None:
    run = check(*valid(lab).args(), "-v")
    expect(run, OK)
    elements = [line for line in run.details if re.match(r"\d+\) ", line)]
    assert len(elements) == 2, run.text
    assert elements[0].startswith("1) CN=localhost / issuer CN=tlsmon Test Intermediate,O=tlsmon test PKI")
    assert elements[1].startswith("2) CN=tlsmon Test Intermediate,O=tlsmon test PKI / issuer CN=tlsmon Test Root")
    assert all("(60.0 days)" in elements[0] and "EC 256" in line for line in elements)


def test_several_problems_get_a_line_each(lab: Lab) -> None:
    run = check(*expiring(lab, 10).args(sni="wrong.example"))
    expect(run, CRITICAL, "expires in 10.0 days", "wrong.example does not match")
    assert sum(line.startswith("CRITICAL: ") for line in run.details) == 2, run.text


def test_private_ca_without_key_usage_is_trusted_as_openssl_trusts_it(lab: Lab) -> None:
    # cryptography's web-PKI verifier refuses such a CA ("missing required extension");
    # OpenSSL, and so every real client of the platform library, accepts it.
    root = bc.make_root("tlsmon Root without keyUsage", key_usage=False)
    leaf = bc.make_leaf(root, not_before=lab.at(-1), not_after=lab.at(60))
    target = lab.py("no-key-usage", lambda: bc.write_identity(lab.dir, leaf, root=root))
    run = check(*target.args())
    expect(run, OK, "CN=localhost expires in")
