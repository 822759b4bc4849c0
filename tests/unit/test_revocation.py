"""OCSP and CRL checks against real HTTP responders on loopback, with answers built by cryptography."""

from __future__ import annotations

import datetime
import http.server
import socket
import ssl
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from peers.tools import require_ipv6_loopback
from tlsmon.errors import RevocationError
from tlsmon.sources import revocation
from tlsmon.sources.revocation import RevocationFacts, check_crl, check_ocsp

DER = serialization.Encoding.DER
UTC = datetime.timezone.utc
# whole seconds: OCSP and CRL times are GeneralizedTime/UTCTime without fractions
NOW = datetime.datetime.now(UTC).replace(microsecond=0)
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
LIB = Path(__file__).resolve().parents[2] / "lib"


# -- a small PKI ----------------------------------------------------------------------------------


@dataclass
class Identity:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(DER)


def issue(
    name: str,
    issuer: Optional[Identity] = None,
    *,
    ca: bool = False,
    eku: Sequence[x509.ObjectIdentifier] = (),
    ocsp_url: Optional[str] = None,
    crl_url: Optional[str] = None,
    serial: Optional[int] = None,
) -> Identity:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(NOW - 10 * DAY)
        .not_valid_after(NOW + 80 * DAY)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if ocsp_url:
        aia = [x509.AccessDescription(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url))]
        builder = builder.add_extension(x509.AuthorityInformationAccess(aia), critical=False)
    if crl_url:
        point = x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)
        builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    return Identity(key, builder.sign(issuer.key if issuer else key, hashes.SHA256()))


@dataclass
class Pki:
    ca: Identity
    other_ca: Identity  # unrelated CA
    leaf: Identity
    delegate: Identity  # CA-issued, OCSPSigning
    delegate_no_eku: Identity  # CA-issued, serverAuth only
    foreign_delegate: Identity  # OCSPSigning, but issued by other_ca


@pytest.fixture(scope="module")
def pki() -> Pki:
    ca = issue("Test CA", ca=True)
    other_ca = issue("Test CA", ca=True)  # same name, other key: a forger's CA
    return Pki(
        ca=ca,
        other_ca=other_ca,
        leaf=issue("leaf.example", ca),
        delegate=issue("OCSP responder", ca, eku=[ExtendedKeyUsageOID.OCSP_SIGNING]),
        delegate_no_eku=issue("Not a responder", ca, eku=[ExtendedKeyUsageOID.SERVER_AUTH]),
        foreign_delegate=issue("Foreign responder", other_ca, eku=[ExtendedKeyUsageOID.OCSP_SIGNING]),
    )


def ocsp_response(
    pki: Pki,
    *,
    cert: Optional[x509.Certificate] = None,
    status: ocsp.OCSPCertStatus = ocsp.OCSPCertStatus.GOOD,
    revoked_at: Optional[datetime.datetime] = None,
    reason: Optional[x509.ReasonFlags] = None,
    signer: Optional[Identity] = None,
    include: Sequence[Identity] = (),
    this_update: datetime.datetime = NOW - HOUR,
    next_update: Optional[datetime.datetime] = NOW + DAY,
    tamper: bool = False,
    by_name: bool = False,
) -> bytes:
    signer = signer or pki.ca
    builder = ocsp.OCSPResponseBuilder().add_response(
        cert=cert or pki.leaf.cert,
        issuer=pki.ca.cert,
        algorithm=hashes.SHA1(),
        cert_status=status,
        this_update=this_update,
        next_update=next_update,
        revocation_time=revoked_at,
        revocation_reason=reason,
    )
    encoding = ocsp.OCSPResponderEncoding.NAME if by_name else ocsp.OCSPResponderEncoding.HASH
    builder = builder.responder_id(encoding, signer.cert)
    if include:
        builder = builder.certificates([i.cert for i in include])
    response = builder.sign(signer.key, hashes.SHA256())
    der = response.public_bytes(DER)
    if tamper:  # flip a bit of the ECDSA s value: still well-formed, no longer valid
        signature = response.signature
        assert der.count(signature) == 1
        der = der.replace(signature, signature[:-1] + bytes([signature[-1] ^ 1]))
    return der


def crl(
    pki: Pki,
    *,
    revoked: Sequence[tuple[int, datetime.datetime, Optional[x509.ReasonFlags]]] = (),
    signer: Optional[Identity] = None,
    issuer_name: Optional[x509.Name] = None,
    last_update: datetime.datetime = NOW - HOUR,
    next_update: datetime.datetime = NOW + DAY,
    encoding: serialization.Encoding = DER,
) -> bytes:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer_name or pki.ca.cert.subject)
        .last_update(last_update)
        .next_update(next_update)
    )
    for serial, when, reason in revoked:
        entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when)
        if reason is not None:
            entry = entry.add_extension(x509.CRLReason(reason), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign((signer or pki.ca).key, hashes.SHA256()).public_bytes(encoding)


# -- loopback HTTP responders ---------------------------------------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


# (method, path, body) -> (status, content type, body, extra headers)
Answer = Callable[[str, str, bytes], tuple[int, str, bytes, dict[str, str]]]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Responder

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.seen.append(Seen(self.command, self.path, dict(self.headers.items()), body))
        status, content_type, payload, extra = self.server.answer(self.command, self.path, body)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        pass


class Responder(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, answer: Answer, context: Optional[ssl.SSLContext] = None) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, 0), _Handler)
        if context is not None:
            self.socket = context.wrap_socket(self.socket, server_side=True)
        self.answer = answer
        self.seen: list[Seen] = []
        self.scheme = "https" if context else "http"
        self.port: int = self.server_address[1]
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def url(self, path: str = "/", host: Optional[str] = None) -> str:
        host = host or self.server_address[0]
        host = f"[{host}]" if ":" in host else host
        return f"{self.scheme}://{host}:{self.port}{path}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(5)


@pytest.fixture
def serve() -> Iterator[Callable[..., Responder]]:
    """serve(answer_or_bytes, host="127.0.0.1", context=None) -> a started Responder; stopped in teardown."""
    started: list[Responder] = []

    def start(answer: Answer | bytes, host: str = "127.0.0.1", context: Optional[ssl.SSLContext] = None) -> Responder:
        if isinstance(answer, bytes):
            payload = answer

            def answer(method: str, path: str, body: bytes) -> tuple[int, str, bytes, dict[str, str]]:
                return 200, "application/octet-stream", payload, {}

        server = Responder(host, answer, context)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def ocsp_check(pki: Pki, url: str, leaf: Optional[Identity] = None, **kwargs: object) -> RevocationFacts:
    kwargs.setdefault("timeout_s", 5.0)
    kwargs.setdefault("now", NOW)
    return check_ocsp((leaf or pki.leaf).der, pki.ca.der, url=url, **kwargs)  # type: ignore[arg-type]


def crl_check(pki: Pki, url: str, leaf: Optional[Identity] = None, **kwargs: object) -> RevocationFacts:
    kwargs.setdefault("timeout_s", 5.0)
    kwargs.setdefault("now", NOW)
    return check_crl((leaf or pki.leaf).der, pki.ca.der, url=url, **kwargs)  # type: ignore[arg-type]


def assert_error(facts: RevocationFacts, *fragments: str) -> None:
    assert facts.status == "error", facts
    assert facts.reason is not None and "\n" not in facts.reason
    for fragment in fragments:
        assert fragment in facts.reason, facts.reason


# -- OCSP -----------------------------------------------------------------------------------------


def test_ocsp_good_from_the_certificates_url(pki: Pki, serve: Callable[..., Responder]) -> None:
    server = serve(ocsp_response(pki))
    leaf = issue("aia.example", pki.ca, ocsp_url=server.url("/ocsp"), serial=pki.leaf.cert.serial_number)
    facts = check_ocsp(leaf.der, pki.ca.der, timeout_s=5.0, now=NOW)
    assert facts == RevocationFacts(
        method="ocsp",
        status="good",
        url=server.url("/ocsp"),
        this_update=NOW - HOUR,
        next_update=NOW + DAY,
        responder="CN=Test CA",
    )
    (seen,) = server.seen
    assert (seen.method, seen.path) == ("POST", "/ocsp")
    assert seen.headers["Content-Type"] == "application/ocsp-request"
    assert seen.headers["Host"] == f"127.0.0.1:{server.port}"
    request = ocsp.load_der_ocsp_request(seen.body)
    assert request.serial_number == leaf.cert.serial_number
    assert isinstance(request.hash_algorithm, hashes.SHA1)


def test_ocsp_revoked_with_reason_and_time(pki: Pki, serve: Callable[..., Responder]) -> None:
    when = NOW - 3 * DAY
    answer = ocsp_response(
        pki, status=ocsp.OCSPCertStatus.REVOKED, revoked_at=when, reason=x509.ReasonFlags.key_compromise
    )
    facts = ocsp_check(pki, serve(answer).url())
    assert (facts.status, facts.reason, facts.revoked_at) == ("revoked", "keyCompromise", when)


def test_ocsp_unknown(pki: Pki, serve: Callable[..., Responder]) -> None:
    facts = ocsp_check(pki, serve(ocsp_response(pki, status=ocsp.OCSPCertStatus.UNKNOWN)).url())
    assert facts.status == "unknown"


def test_ocsp_delegated_responder_accepted(pki: Pki, serve: Callable[..., Responder]) -> None:
    answer = ocsp_response(pki, signer=pki.delegate, include=[pki.delegate])
    facts = ocsp_check(pki, serve(answer).url())
    assert (facts.status, facts.responder) == ("good", "CN=OCSP responder")


@pytest.mark.parametrize("by_name", [False, True])
@pytest.mark.parametrize("signer", ["ca", "delegate"])
def test_ocsp_responder_id_by_key_or_name(
    pki: Pki, serve: Callable[..., Responder], signer: str, by_name: bool
) -> None:
    identity = getattr(pki, signer)
    answer = ocsp_response(pki, signer=identity, include=[identity] if signer == "delegate" else [], by_name=by_name)
    facts = ocsp_check(pki, serve(answer).url())
    assert (facts.status, facts.responder) == ("good", identity.cert.subject.rfc4514_string())


@pytest.mark.parametrize(
    ("signer", "include", "tamper", "fragment"),
    [
        ("other_ca", (), False, "unauthorised responder"),  # a key the issuer never vouched for
        ("delegate", (), False, "unauthorised responder"),  # a delegate that does not show its certificate
        ("delegate_no_eku", ("delegate_no_eku",), False, "lacks the OCSPSigning"),
        ("foreign_delegate", ("foreign_delegate",), False, "not issued by the certificate's issuer"),
        ("ca", (), True, "signature does not verify"),
        ("delegate", ("delegate",), True, "signature does not verify"),
    ],
)
def test_ocsp_wrong_signer(
    pki: Pki,
    serve: Callable[..., Responder],
    signer: str,
    include: tuple[str, ...],
    tamper: bool,
    fragment: str,
) -> None:
    answer = ocsp_response(pki, signer=getattr(pki, signer), include=[getattr(pki, i) for i in include], tamper=tamper)
    assert_error(ocsp_check(pki, serve(answer).url()), fragment)


def test_ocsp_expired_response(pki: Pki, serve: Callable[..., Responder]) -> None:
    answer = ocsp_response(pki, this_update=NOW - 8 * DAY, next_update=NOW - DAY)
    facts = ocsp_check(pki, serve(answer).url())
    assert_error(facts, "OCSP response expired")
    assert facts.next_update == NOW - DAY


def test_ocsp_response_for_another_certificate(pki: Pki, serve: Callable[..., Responder]) -> None:
    other = issue("other.example", pki.ca, serial=4242)
    facts = ocsp_check(pki, serve(ocsp_response(pki, cert=other.cert)).url())
    assert_error(facts, "is for serial 1092, not")


def test_ocsp_malformed_and_unsuccessful(pki: Pki, serve: Callable[..., Responder]) -> None:
    assert_error(ocsp_check(pki, serve(b"<html>not OCSP</html>").url()), "malformed OCSP response")
    try_later = ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.TRY_LATER).public_bytes(DER)
    assert_error(ocsp_check(pki, serve(try_later).url()), "OCSP responder answered 'try later'")


def test_ocsp_http_500(pki: Pki, serve: Callable[..., Responder]) -> None:
    def answer(method: str, path: str, body: bytes) -> tuple[int, str, bytes, dict[str, str]]:
        return 500, "text/plain", b"oops", {}

    assert_error(ocsp_check(pki, serve(answer).url()), "HTTP 500")


def test_ocsp_response_too_large(pki: Pki, serve: Callable[..., Responder]) -> None:
    big = b"\x30" * (revocation.MAX_OCSP_RESPONSE_SIZE + 1)
    assert_error(ocsp_check(pki, serve(big).url()), "response larger than 1 MiB")


def test_ocsp_responder_down(pki: Pki, hostile_peers: object) -> None:
    closed = hostile_peers.closed_port()  # type: ignore[attr-defined]
    facts = ocsp_check(pki, f"http://127.0.0.1:{closed.port}/")
    assert_error(facts, f"127.0.0.1 port {closed.port}", "refused")


def test_ocsp_responder_timeout(pki: Pki, hostile_peers: object) -> None:
    tarpit = hostile_peers.tarpit()  # type: ignore[attr-defined]
    started = time.monotonic()
    facts = ocsp_check(pki, f"http://127.0.0.1:{tarpit.port}/", timeout_s=0.5)
    elapsed = time.monotonic() - started
    assert_error(facts, "no answer from 127.0.0.1", "within 0.5 s")
    assert elapsed < 1.5


def test_ocsp_stapled_response_needs_no_network(pki: Pki) -> None:
    facts = revocation.ocsp_response_facts(ocsp_response(pki), pki.leaf.der, pki.ca.der, url="stapled", now=NOW)
    assert (facts.status, facts.url) == ("good", "stapled")


# -- address families -----------------------------------------------------------------------------


def test_family_ipv4_against_ipv6_literal(pki: Pki) -> None:
    facts = ocsp_check(pki, "http://[::1]:9/ocsp", family=socket.AF_INET)
    assert_error(facts, "is not an IPv4 address")


def test_family_ipv6_against_ipv4_literal(pki: Pki) -> None:
    facts = ocsp_check(pki, "http://127.0.0.1:9/ocsp", family=socket.AF_INET6)
    assert_error(facts, "is not an IPv6 address")


def test_family_ipv4_by_name_keeps_the_host_header(pki: Pki, serve: Callable[..., Responder]) -> None:
    server = serve(ocsp_response(pki))
    facts = ocsp_check(pki, server.url("/ocsp", host="localhost"), family=socket.AF_INET)
    assert facts.status == "good", facts
    assert server.seen[0].headers["Host"] == f"localhost:{server.port}"


def test_family_ipv6_loopback(pki: Pki, serve: Callable[..., Responder]) -> None:
    require_ipv6_loopback()
    server = serve(ocsp_response(pki), host="::1")
    assert ocsp_check(pki, server.url(), family=socket.AF_INET6).status == "good"


@pytest.fixture(scope="module")
def tls_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, str]:
    ca = trustme.CA()
    path = tmp_path_factory.mktemp("tls") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return ca, str(path)


def _tls_context(ca: trustme.CA, name: str, sni_seen: list[Optional[str]]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(name).configure_cert(context)
    context.sni_callback = lambda sslobj, server_name, ctx: sni_seen.append(server_name)  # type: ignore[assignment,misc]
    return context


def test_https_with_forced_family_keeps_sni_and_name_check(
    pki: Pki, serve: Callable[..., Responder], tls_ca: tuple[trustme.CA, str]
) -> None:
    ca, ca_file = tls_ca
    sni: list[Optional[str]] = []
    server = serve(ocsp_response(pki), context=_tls_context(ca, "localhost", sni))  # no IP in the certificate
    facts = ocsp_check(pki, server.url("/", host="localhost"), family=socket.AF_INET, ca_file=ca_file)
    assert facts.status == "good", facts
    assert sni == ["localhost"]
    assert server.seen[0].headers["Host"] == f"localhost:{server.port}"


def test_https_wrong_certificate_name(
    pki: Pki, serve: Callable[..., Responder], tls_ca: tuple[trustme.CA, str]
) -> None:
    ca, ca_file = tls_ca
    server = serve(ocsp_response(pki), context=_tls_context(ca, "other.example", []))
    facts = ocsp_check(pki, server.url("/", host="localhost"), family=socket.AF_INET, ca_file=ca_file)
    assert_error(facts, "TLS certificate of 127.0.0.1", "not accepted")


# -- cannot check at all --------------------------------------------------------------------------


def test_no_url_and_wrong_issuer_raise(pki: Pki) -> None:
    with pytest.raises(RevocationError, match="no OCSP URL"):
        check_ocsp(pki.leaf.der, pki.ca.der, timeout_s=1.0, now=NOW)
    with pytest.raises(RevocationError, match="no CRL URL"):
        check_crl(pki.leaf.der, pki.ca.der, timeout_s=1.0, now=NOW)
    ldap_only = issue("ldap.example", pki.ca, crl_url="ldap://ldap.example/cn=crl")
    with pytest.raises(RevocationError, match="no http CRL URL"):
        check_crl(ldap_only.der, pki.ca.der, timeout_s=1.0, now=NOW)
    with pytest.raises(RevocationError, match="is not the issuer of"):
        check_ocsp(pki.leaf.der, pki.delegate.der, url="http://127.0.0.1:9/", timeout_s=1.0, now=NOW)
    with pytest.raises(RevocationError, match="cannot read the certificates"):
        check_ocsp(b"junk", pki.ca.der, url="http://127.0.0.1:9/", timeout_s=1.0, now=NOW)


def test_requests_is_imported_lazily() -> None:
    code = "import sys, tlsmon.sources.revocation; print('requests' in sys.modules)"
    env = {"PYTHONPATH": str(LIB)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- CRL ------------------------------------------------------------------------------------------


def test_crl_good_from_the_certificates_url(pki: Pki, serve: Callable[..., Responder]) -> None:
    other_revoked = [(12345, NOW - DAY, x509.ReasonFlags.superseded)]
    server = serve(crl(pki, revoked=other_revoked))
    leaf = issue("cdp.example", pki.ca, crl_url=server.url("/ca.crl"))
    facts = check_crl(leaf.der, pki.ca.der, timeout_s=5.0, now=NOW)
    assert facts == RevocationFacts(
        method="crl",
        status="good",
        url=server.url("/ca.crl"),
        this_update=NOW - HOUR,
        next_update=NOW + DAY,
        responder="CN=Test CA",
    )
    assert server.seen[0].method == "GET"


def test_crl_revoked_pem_with_reason(pki: Pki, serve: Callable[..., Responder]) -> None:
    when = NOW - 2 * DAY
    revoked = [(pki.leaf.cert.serial_number, when, x509.ReasonFlags.key_compromise)]
    facts = crl_check(pki, serve(crl(pki, revoked=revoked, encoding=serialization.Encoding.PEM)).url())
    assert (facts.status, facts.reason, facts.revoked_at) == ("revoked", "keyCompromise", when)


def test_crl_revoked_without_reason(pki: Pki, serve: Callable[..., Responder]) -> None:
    facts = crl_check(pki, serve(crl(pki, revoked=[(pki.leaf.cert.serial_number, NOW - DAY, None)])).url())
    assert (facts.status, facts.reason) == ("revoked", None)


def test_crl_follows_redirects(pki: Pki, serve: Callable[..., Responder]) -> None:
    payload = crl(pki)

    def answer(method: str, path: str, body: bytes) -> tuple[int, str, bytes, dict[str, str]]:
        if path == "/old.crl":
            return 302, "text/plain", b"moved", {"Location": "/new.crl"}
        return 200, "application/pkix-crl", payload, {}

    server = serve(answer)
    assert crl_check(pki, server.url("/old.crl")).status == "good"
    assert [s.path for s in server.seen] == ["/old.crl", "/new.crl"]


def test_crl_expired(pki: Pki, serve: Callable[..., Responder]) -> None:
    facts = crl_check(pki, serve(crl(pki, last_update=NOW - 9 * DAY, next_update=NOW - 2 * DAY)).url())
    assert_error(facts, "CRL expired")


def test_crl_bad_signature(pki: Pki, serve: Callable[..., Responder]) -> None:
    facts = crl_check(pki, serve(crl(pki, signer=pki.other_ca)).url())  # same issuer name, other key
    assert_error(facts, "CRL signature does not verify")


def test_crl_from_another_issuer(pki: Pki, serve: Callable[..., Responder]) -> None:
    facts = crl_check(pki, serve(crl(pki, issuer_name=pki.delegate.cert.subject)).url())
    assert_error(facts, "CRL is issued by CN=OCSP responder")


def test_crl_malformed(pki: Pki, serve: Callable[..., Responder]) -> None:
    assert_error(crl_check(pki, serve(b"\x30\x03\x02\x01\x01").url()), "malformed CRL")


def test_crl_server_down(pki: Pki, hostile_peers: object) -> None:
    closed = hostile_peers.closed_port()  # type: ignore[attr-defined]
    assert_error(crl_check(pki, f"http://127.0.0.1:{closed.port}/ca.crl"), "refused")
