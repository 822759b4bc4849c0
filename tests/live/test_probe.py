"""The active prober against real OpenSSL peers on loopback."""

from __future__ import annotations

import socket
import ssl
import time

import pytest

from tlsmon.codec.constants import AlertDescription, CipherSuite, SignatureScheme
from tlsmon.codec.hello import TLS12, TLS13, HelloOptions
from tlsmon.observations import Outcome
from tlsmon.sources.probe import ProbeTarget, probe

VERSIONS = {"1.2": TLS12, "1.3": TLS13}


def _probe(port: int, *, host: str = "127.0.0.1", versions=(TLS13, TLS12), sni="localhost", timeout=5.0, **kw):
    hello = HelloOptions(versions=versions, server_name=sni, **kw)
    return probe(ProbeTarget(host, port), hello, timeout_s=timeout)


@pytest.mark.parametrize("tls", ["1.2", "1.3"])
@pytest.mark.parametrize("key_type", ["rsa", "ecdsa"])
@pytest.mark.parametrize("chain_length", [1, 2, 3])
def test_chain_as_sent_by_python_server(py_tls_server, server_identities, tls, key_type, chain_length):
    identity = server_identities(key_type, chain_length)
    version = ssl.TLSVersion.TLSv1_2 if tls == "1.2" else ssl.TLSVersion.TLSv1_3
    server = py_tls_server(identity, min_version=version, max_version=version)
    obs = _probe(server.port)
    assert obs.outcome is Outcome.COMPLETED, obs.error
    assert obs.version == VERSIONS[tls]
    assert [c.der for c in obs.certificates] == list(identity.chain_der)
    assert obs.certificate_request is None
    leaf = obs.certificates[0]
    assert leaf.key_type == ("RSA" if key_type == "rsa" else "EC")
    assert "localhost" in leaf.dns_names
    assert obs.cipher_suite is not None and CipherSuite(obs.cipher_suite).name.startswith("TLS_")
    assert obs.group is not None
    # The steps read like a capture: our hello first, then the server's flight.
    assert obs.steps[0].direction == "C->S" and obs.steps[0].messages == ("ClientHello",)
    names = [m for s in obs.steps for m in s.messages]
    if tls == "1.3":
        assert names[-4:] == ["EncryptedExtensions", "Certificate", "CertificateVerify", "Finished"]
        assert all(s.encrypted for s in obs.steps if "Finished" in s.messages)
    else:
        assert names[-1] == "ServerHelloDone" and "ServerKeyExchange" in names
    t = obs.timings
    assert 0 <= t.dns <= t.connect <= t.first_byte <= t.server_hello <= t.flight_complete <= t.total < 5


@pytest.mark.parametrize("tls", ["1.2", "1.3"])
@pytest.mark.parametrize("verify", ["optional", "required"])
def test_certificate_request_ca_names_from_openssl(openssl_server, ecdsa_chain2, client_ca, other_client_ca,
                                                   client_ca_bundle, tls, verify):
    server = openssl_server(ecdsa_chain2, tls=tls, verify=verify, client_ca_path=client_ca_bundle)
    obs = _probe(server.port)
    assert obs.outcome is Outcome.COMPLETED, obs.error
    assert obs.version == VERSIONS[tls]
    req = obs.certificate_request
    assert req is not None
    assert req.ca_names == (client_ca.subject_rfc4514, other_client_ca.subject_rfc4514)
    assert req.ca_names_der == (client_ca.subject_der, other_client_ca.subject_der)
    assert SignatureScheme.ecdsa_secp256r1_sha256 in req.signature_algorithms
    assert [c.der for c in obs.certificates] == list(ecdsa_chain2.chain_der)
    step_names = [m for s in obs.steps for m in s.messages]
    assert "CertificateRequest" in step_names


@pytest.mark.parametrize("tls", ["1.2", "1.3"])
def test_no_certificate_request_from_openssl_without_verify(openssl_server, rsa_chain3, tls):
    server = openssl_server(rsa_chain3, tls=tls)
    obs = _probe(server.port)
    assert obs.outcome is Outcome.COMPLETED, obs.error
    assert obs.certificate_request is None
    assert len(obs.certificates) == 3


def test_python_server_requesting_client_cert_sends_no_ca_names(py_tls_server, rsa_chain1, client_ca):
    # Python's ssl module has no way to set the client CA list: the request names no CA.
    server = py_tls_server(rsa_chain1, client_auth="required", client_ca_path=client_ca.pem_path)
    obs = _probe(server.port)
    assert obs.outcome is Outcome.COMPLETED, obs.error
    assert obs.certificate_request is not None
    assert obs.certificate_request.ca_names == ()


def test_tls13_only_offer_to_tls12_server_reports_alert(py_tls_server, ecdsa_chain1):
    server = py_tls_server(ecdsa_chain1, max_version=ssl.TLSVersion.TLSv1_2)
    obs = _probe(server.port, versions=(TLS13,))
    assert obs.outcome is Outcome.ALERT
    assert obs.alert is not None and obs.alert.description == AlertDescription.protocol_version
    assert obs.alert.after == "ClientHello"
    assert obs.phase == "server_hello"
    assert "protocol_version(70)" in obs.error


def test_hello_retry_request_when_no_share_for_servers_group(openssl_server, ecdsa_chain1):
    # Offer a key share for x25519 only while the server accepts only P-384: it must ask again.
    server = openssl_server(ecdsa_chain1, tls="1.3", extra_args=("-groups", "P-384"))
    obs = _probe(server.port, versions=(TLS13,))
    assert obs.outcome is Outcome.COMPLETED, obs.error
    assert obs.hello_retry
    assert obs.group == 24  # secp384r1
    names = [m for s in obs.steps for m in s.messages]
    assert names[:3] == ["ClientHello", "HelloRetryRequest", "ClientHello"]


@pytest.mark.parametrize("suite", [0x1301, 0x1302, 0x1303])
def test_each_tls13_suite_decrypts_and_verifies(openssl_server, rsa_chain2, suite):
    name = CipherSuite(suite).name
    server = openssl_server(rsa_chain2, tls="1.3", extra_args=("-ciphersuites", name))
    obs = _probe(server.port, versions=(TLS13,), cipher_suites=(suite,))
    assert obs.outcome is Outcome.COMPLETED, obs.error
    assert obs.cipher_suite == suite
    assert len(obs.certificates) == 2


@pytest.mark.parametrize("group", [23, 24])
def test_nist_key_shares(openssl_server, ecdsa_chain1, group):
    server = openssl_server(ecdsa_chain1, tls="1.3")
    obs = _probe(server.port, versions=(TLS13,), key_share_groups=(group,))
    assert obs.outcome is Outcome.COMPLETED, obs.error
    assert obs.group == group and not obs.hello_retry


def test_alpn_negotiated(py_tls_server, ecdsa_chain1):
    server = py_tls_server(ecdsa_chain1, alpn=["h2", "http/1.1"])
    obs = _probe(server.port, alpn=("http/1.1",))
    assert obs.outcome is Outcome.COMPLETED, obs.error
    assert obs.alpn == "http/1.1"


def test_ipv6_loopback(py_tls_server, ecdsa_chain1):
    server = py_tls_server(ecdsa_chain1, host="::1")
    obs = _probe(server.port, host="::1")
    assert obs.outcome is Outcome.COMPLETED, obs.error
    assert obs.server.address == "::1"


def test_sni_is_sent_as_given(py_tls_server, ecdsa_chain1):
    seen: list = []
    server = py_tls_server(ecdsa_chain1)
    server.context.sni_callback = lambda sslobj, name, ctx: seen.append(name)
    assert _probe(server.port, sni="mail.example.test").ok
    assert _probe(server.port, sni=None).ok
    assert seen == ["mail.example.test", None]


# --- failures, each with its phase and within the deadline ---------------------------------------


def test_closed_port_is_refused(hostile_peers):
    port = hostile_peers.closed_port().port
    obs = _probe(port)
    assert obs.outcome is Outcome.REFUSED and obs.phase == "connect"
    assert "refused" in obs.error


def test_tarpit_times_out_within_deadline(hostile_peers):
    peer = hostile_peers.tarpit()
    start = time.monotonic()
    obs = _probe(peer.port, timeout=1.0)
    elapsed = time.monotonic() - start
    assert obs.outcome is Outcome.TIMEOUT and obs.phase == "server_hello"
    assert "ServerHello" in obs.error
    assert 0.9 <= elapsed < 2.0


def test_plain_http_is_not_tls(hostile_peers):
    peer = hostile_peers.plain_http()
    obs = _probe(peer.port)
    assert obs.outcome is Outcome.NOT_TLS
    assert "not TLS" in obs.error or "did not answer in TLS" in obs.error


def test_reset_after_client_hello(hostile_peers):
    peer = hostile_peers.reset_after_client_hello()
    obs = _probe(peer.port)
    assert obs.outcome in (Outcome.RESET, Outcome.CLOSED)
    assert obs.phase == "server_hello"


def test_immediate_alert(hostile_peers):
    peer = hostile_peers.immediate_alert(40)
    obs = _probe(peer.port)
    assert obs.outcome is Outcome.ALERT
    assert obs.alert.description == 40 and obs.alert.level == 2
    assert "handshake_failure(40)" in obs.error and "after ClientHello" in obs.error


def test_server_hello_then_stall(hostile_peers):
    peer = hostile_peers.server_hello_then_stall()
    start = time.monotonic()
    obs = _probe(peer.port, versions=(TLS12,), timeout=1.0)
    assert time.monotonic() - start < 2.0
    assert obs.outcome is Outcome.TIMEOUT
    assert obs.phase == "certificate"
    assert obs.version == TLS12


def test_oversized_length_is_rejected_not_awaited(hostile_peers):
    peer = hostile_peers.oversized_then_trickle()
    start = time.monotonic()
    obs = _probe(peer.port, timeout=5.0)
    assert time.monotonic() - start < 2.0  # rejected on sight, no waiting for 16 MB
    assert obs.outcome is Outcome.PROTOCOL_ERROR
    assert "limit" in obs.error


def test_dns_failure_is_typed():
    obs = probe(ProbeTarget("no-such-host.invalid", 443), HelloOptions(), timeout_s=5.0)
    assert obs.outcome in (Outcome.DNS, Outcome.TIMEOUT)
    assert obs.phase == "dns"


def test_family_mismatch_for_address_literal():
    obs = probe(ProbeTarget("127.0.0.1", 443, socket.AF_INET6), HelloOptions(), timeout_s=2.0)
    assert obs.outcome is Outcome.DNS and "not an IPv6 address" in obs.error


# --- TLS 1.3: finishing the handshake without a client certificate ------------------------------


def test_complete_without_certificate_gets_certificate_required(openssl_server, ecdsa_chain1, client_ca):
    server = openssl_server(ecdsa_chain1, tls="1.3", verify="required", client_ca_path=client_ca.pem_path)
    hello = HelloOptions(versions=(TLS13,), server_name="localhost")
    obs = probe(ProbeTarget("127.0.0.1", server.port), hello, timeout_s=5.0, complete=True)
    assert obs.outcome is Outcome.ALERT, obs.error
    assert obs.alert.description == AlertDescription.certificate_required
    assert obs.alert.after == "Finished" and obs.alert.encrypted
    assert obs.certificate_request is not None
    sent = [(s.direction, s.messages) for s in obs.steps if s.direction == "C->S"]
    assert sent[-2:] == [("C->S", ("Certificate",)), ("C->S", ("Finished",))]
    assert "certificate_required(116)" in obs.error


def test_complete_with_optional_request_is_accepted(openssl_server, ecdsa_chain1, client_ca):
    server = openssl_server(ecdsa_chain1, tls="1.3", verify="optional", client_ca_path=client_ca.pem_path)
    hello = HelloOptions(versions=(TLS13,), server_name="localhost")
    obs = probe(ProbeTarget("127.0.0.1", server.port), hello, timeout_s=5.0, complete=True)
    assert obs.outcome is Outcome.COMPLETED, obs.error
    assert obs.alert is None
    names = [m for s in obs.steps for m in s.messages]
    assert names[-1] == "NewSessionTicket"


def test_complete_is_a_no_op_for_tls12(openssl_server, ecdsa_chain1, client_ca):
    server = openssl_server(ecdsa_chain1, tls="1.2", verify="required", client_ca_path=client_ca.pem_path)
    obs = probe(ProbeTarget("127.0.0.1", server.port), HelloOptions(server_name="localhost"), complete=True)
    assert obs.outcome is Outcome.COMPLETED, obs.error
    assert [m for s in obs.steps for m in s.messages][-1] == "ServerHelloDone"


@pytest.mark.parametrize("tls", ["1.2", "1.3"])
def test_stapled_ocsp_response_is_reported(openssl_server, ecdsa_chain1, tmp_path, tls):
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp

    # The leaf of a one-element chain is issued by the root, whose key trustme keeps.
    leaf = x509.load_der_x509_certificate(ecdsa_chain1.chain_der[0])
    issuer = x509.load_der_x509_certificate(ecdsa_chain1.ca_der)
    issuer_key = serialization.load_pem_private_key(ecdsa_chain1.ca.private_key_pem.bytes(), None)
    now = datetime.datetime.now(datetime.timezone.utc)
    response = (
        ocsp.OCSPResponseBuilder()
        .add_response(leaf, issuer, hashes.SHA1(), ocsp.OCSPCertStatus.GOOD, now, now + datetime.timedelta(days=1),
                      None, None)
        .responder_id(ocsp.OCSPResponderEncoding.HASH, issuer)
        .sign(issuer_key, hashes.SHA256())
    )
    der = response.public_bytes(serialization.Encoding.DER)
    staple = tmp_path / "staple.der"
    staple.write_bytes(der)
    server = openssl_server(ecdsa_chain1, tls=tls, extra_args=("-status_file", str(staple)))
    obs = _probe(server.port)
    assert obs.outcome is Outcome.COMPLETED, obs.error
    assert obs.ocsp_response == der


@pytest.mark.parametrize("flag, version", [("-tls1", 0x0301), ("-tls1_1", 0x0302)])
def test_legacy_versions_read_with_codec_hello(openssl_server, rsa_chain2, client_ca, flag, version):
    # The local OpenSSL will not offer TLS 1.0/1.1 by default; the codec's ClientHello does.
    server = openssl_server(rsa_chain2, verify="optional", client_ca_path=client_ca.pem_path,
                            extra_args=(flag, "-cipher", "DEFAULT@SECLEVEL=0"))
    obs = _probe(server.port, versions=(version,))
    assert obs.outcome is Outcome.COMPLETED, obs.error
    assert obs.version == version
    req = obs.certificate_request
    assert req is not None and req.ca_names == (client_ca.subject_rfc4514,)
    assert req.signature_algorithms == ()  # TLS 1.0/1.1 CertificateRequest has no such field
    assert [c.der for c in obs.certificates] == list(rsa_chain2.chain_der)
