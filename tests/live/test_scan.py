"""Version and cipher enumeration (tlsmon.sources.scan) against real servers on loopback.

The matrix a scan reports must equal what each server was configured with: nginx with
different ssl_protocols/ssl_ciphers, openssl s_server with -tls1/-tls1_1 and @SECLEVEL=0
legacy suites, TLS 1.3-only servers, and the scripted legacy server (tests/peers/scripted_tls.py)
for what the local OpenSSL can no longer serve (SSL 3.0, RC4, DES, 3DES, EXPORT, a server
without secure renegotiation).
"""

from __future__ import annotations

import time

import pytest

from peers.scripted_tls import ScriptedTlsServer, parse_client_hello
from tlsmon.codec.constants import CipherSuite as CS
from tlsmon.codec.hello import SSL3, TLS10, TLS11, TLS12, TLS13, build_client_hello_message
from tlsmon.codec.messages import build_handshake
from tlsmon.sources.probe import ProbeTarget
from tlsmon.sources.scan import (
    MAX_SUITES_PER_HELLO,
    SCAN_VERSIONS,
    ScanOptions,
    ScanResult,
    _hello_options,
    platform_offer,
    scan,
    suites_for,
)

ALL = set(SCAN_VERSIONS)


def _scan(port: int, **kw: object) -> ScanResult:
    opts = ScanOptions(server_name="localhost", check_stapling=False, **kw)  # type: ignore[arg-type]
    return scan(ProbeTarget("127.0.0.1", port), opts, timeout_s=10)


def matrix(result: ScanResult) -> dict[int, set[int]]:
    """{version: accepted suites} for the accepted versions."""
    return {v.version: set(v.suites) for v in result.versions if v.accepted}


def assert_refused(result: ScanResult, versions: set[int]) -> None:
    for v in result.versions:
        if v.version in versions:
            assert v.accepted is False, (hex(v.version), v)
            assert v.refusal, v


# --- suites offered ------------------------------------------------------------------------------


def test_suite_lists_per_version():
    tls12, tls10 = suites_for(TLS12), suites_for(TLS10)
    assert suites_for(TLS13) == (0x1301, 0x1302, 0x1303, 0x1304, 0x1305)
    assert tls12[:4] == (CS.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, CS.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
                         CS.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, CS.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384)
    assert len(set(tls12)) == len(tls12) > 300
    assert not set(tls12) & {0x00FF, 0x5600} and not set(tls12) & set(suites_for(TLS13))
    # Before TLS 1.2: no AEAD, no SHA-256 HMAC (but the PSK ones), weak suites all there.
    assert CS.TLS_RSA_WITH_AES_128_GCM_SHA256 not in tls10 and CS.TLS_RSA_WITH_AES_128_CBC_SHA256 not in tls10
    assert CS.TLS_PSK_WITH_AES_128_CBC_SHA256 in tls10
    for weak in (CS.TLS_RSA_EXPORT_WITH_RC4_40_MD5, CS.TLS_RSA_WITH_NULL_MD5, CS.TLS_DH_anon_WITH_RC4_128_MD5,
                 CS.TLS_RSA_WITH_DES_CBC_SHA, CS.TLS_RSA_WITH_3DES_EDE_CBC_SHA, CS.TLS_NULL_WITH_NULL_NULL):
        assert weak in tls10 and weak in tls12 and weak in suites_for(SSL3)


@pytest.mark.parametrize("version", SCAN_VERSIONS)
@pytest.mark.parametrize("count", [1, 40, 64, 100, MAX_SUITES_PER_HELLO])
def test_hellos_stay_out_of_the_256_to_511_byte_range(version, count):
    suites = suites_for(version)[:count]
    opts = _hello_options(version, suites, "localhost")
    size = len(build_handshake(build_client_hello_message(opts, bytes(32), bytes(32))))
    if version > SSL3:
        assert not 256 <= size < 512, size


def test_platform_offer_is_what_python_ssl_offers():
    import ssl

    offer = platform_offer()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    assert offer.suites == tuple(c["id"] & 0xFFFF for c in ctx.get_ciphers())
    assert TLS12 in offer.versions and ssl.OPENSSL_VERSION == offer.library


# --- nginx ---------------------------------------------------------------------------------------

NGINX_CONFIGS = {
    "tls12+13 server order": (
        dict(protocols="TLSv1.2 TLSv1.3", ciphers="ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305:AES256-SHA",
             tls13_ciphers="TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256", prefer_server_ciphers=True),
        {TLS12: {CS.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, CS.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
                 CS.TLS_RSA_WITH_AES_256_CBC_SHA},
         TLS13: {CS.TLS_AES_256_GCM_SHA384, CS.TLS_CHACHA20_POLY1305_SHA256}},
    ),
    "tls1.0-1.2 legacy, client order": (
        dict(protocols="TLSv1 TLSv1.1 TLSv1.2",
             ciphers="ECDHE-RSA-AES128-SHA:AES128-SHA:AES256-GCM-SHA384:@SECLEVEL=0"),
        {TLS10: {CS.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, CS.TLS_RSA_WITH_AES_128_CBC_SHA},
         TLS11: {CS.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, CS.TLS_RSA_WITH_AES_128_CBC_SHA},
         TLS12: {CS.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, CS.TLS_RSA_WITH_AES_128_CBC_SHA,
                 CS.TLS_RSA_WITH_AES_256_GCM_SHA384}},
    ),
    "tls1.3 only": (
        dict(protocols="TLSv1.3"),
        {TLS13: {CS.TLS_AES_128_GCM_SHA256, CS.TLS_AES_256_GCM_SHA384, CS.TLS_CHACHA20_POLY1305_SHA256}},
    ),
    "tls1.3 only, CCM suites": (
        dict(protocols="TLSv1.3", tls13_ciphers="TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256"),
        {TLS13: {CS.TLS_AES_128_CCM_SHA256, CS.TLS_AES_128_CCM_8_SHA256}},
    ),
}


@pytest.mark.parametrize("name", NGINX_CONFIGS)
def test_nginx_matrix_equals_its_configuration(nginx_server, rsa_chain2, name):
    config, expected = NGINX_CONFIGS[name]
    server = nginx_server(rsa_chain2, **config)
    result = _scan(server.port)
    assert matrix(result) == expected, result
    assert_refused(result, ALL - set(expected))
    assert not result.cut_short and all(v.complete for v in result.versions)
    for v in result.versions:
        if v.accepted and v.version < TLS13:
            assert v.secure_renegotiation is True and v.extended_master_secret is True
    # The version matrix alone gives the same versions, in a handful of probes.
    versions_only = _scan(server.port, enumerate_ciphers=False)
    assert set(versions_only.accepted_versions) == set(expected)
    assert versions_only.probes <= 2 * len(SCAN_VERSIONS)


def test_nginx_server_order_gives_the_preferred_suite(nginx_server, rsa_chain2):
    config, _ = NGINX_CONFIGS["tls12+13 server order"]
    result = _scan(nginx_server(rsa_chain2, **config).port)
    tls12, tls13 = result.get(TLS12), result.get(TLS13)
    assert tls12 is not None and tls12.server_order is True
    assert tls12.preferred == CS.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 == tls12.suites[0]
    assert tls13 is not None and tls13.server_order is True and tls13.preferred == CS.TLS_AES_256_GCM_SHA384


def test_nginx_client_order_has_no_preferred_suite(nginx_server, rsa_chain2):
    config, _ = NGINX_CONFIGS["tls1.0-1.2 legacy, client order"]
    result = _scan(nginx_server(rsa_chain2, **config).port)
    for version in (TLS10, TLS11, TLS12):
        v = result.get(version)
        assert v is not None and v.server_order is False and v.preferred is None


def test_nginx_default_ciphers_ecdsa(nginx_server, ecdsa_chain1):
    result = _scan(nginx_server(ecdsa_chain1).port)
    assert set(result.accepted_versions) == {TLS12, TLS13}
    tls12 = matrix(result)[TLS12]
    # An ECDSA key: every TLS 1.2 suite is ECDHE-ECDSA (HIGH:!aNULL:!MD5, no RSA key exchange possible).
    assert tls12 and all(CS(s).name.startswith("TLS_ECDHE_ECDSA_") for s in tls12), tls12
    assert CS.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 in tls12


# --- openssl s_server ----------------------------------------------------------------------------


@pytest.mark.parametrize("flag, version", [("-tls1", TLS10), ("-tls1_1", TLS11)])
def test_openssl_legacy_version_with_seclevel0_suites(openssl_server, rsa_chain1, flag, version):
    server = openssl_server(rsa_chain1, extra_args=(flag, "-cipher", "AES128-SHA:NULL-MD5:ADH-AES256-SHA:@SECLEVEL=0"))
    result = _scan(server.port)
    assert matrix(result) == {version: {CS.TLS_RSA_WITH_AES_128_CBC_SHA, CS.TLS_RSA_WITH_NULL_MD5,
                                        CS.TLS_DH_anon_WITH_AES_256_CBC_SHA}}, result
    assert_refused(result, ALL - {version})


def test_openssl_tls13_only(openssl_server, ecdsa_chain1):
    server = openssl_server(ecdsa_chain1, tls="1.3", extra_args=("-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"))
    result = _scan(server.port)
    assert matrix(result) == {TLS13: {CS.TLS_CHACHA20_POLY1305_SHA256}}
    tls13 = result.get(TLS13)
    assert tls13 is not None and tls13.preferred == CS.TLS_CHACHA20_POLY1305_SHA256 and tls13.server_order is None
    assert_refused(result, ALL - {TLS13})


def test_tls13_server_without_x25519_answers_after_a_hello_retry_request(openssl_server, ecdsa_chain1):
    # Our hellos send an x25519 key share only: the server asks for P-256 first (HelloRetryRequest).
    server = openssl_server(ecdsa_chain1, tls="1.3", extra_args=("-groups", "P-256"))
    result = _scan(server.port)
    assert matrix(result) == {TLS13: {CS.TLS_AES_128_GCM_SHA256, CS.TLS_AES_256_GCM_SHA384,
                                      CS.TLS_CHACHA20_POLY1305_SHA256}}


def test_openssl_no_tls13_and_stapling(openssl_server, ecdsa_chain1, tmp_path):
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp

    leaf = x509.load_der_x509_certificate(ecdsa_chain1.chain_der[0])
    issuer = x509.load_der_x509_certificate(ecdsa_chain1.ca_der)
    key = serialization.load_pem_private_key(ecdsa_chain1.ca.private_key_pem.bytes(), None)
    now = datetime.datetime.now(datetime.timezone.utc)
    response = (ocsp.OCSPResponseBuilder()
                .add_response(leaf, issuer, hashes.SHA1(), ocsp.OCSPCertStatus.GOOD, now,
                              now + datetime.timedelta(days=1), None, None)
                .responder_id(ocsp.OCSPResponderEncoding.HASH, issuer).sign(key, hashes.SHA256()))
    staple = tmp_path / "staple.der"
    staple.write_bytes(response.public_bytes(serialization.Encoding.DER))
    server = openssl_server(ecdsa_chain1, tls="1.2", extra_args=("-status_file", str(staple)))
    result = scan(ProbeTarget("127.0.0.1", server.port), ScanOptions(server_name="localhost"), timeout_s=10)
    assert set(result.accepted_versions) == {TLS12}
    assert result.ocsp_stapled is True and result.stapling_error is None


# --- the scripted legacy server: what OpenSSL 3 no longer serves ---------------------------------

LEGACY = {
    SSL3: [CS.TLS_RSA_WITH_RC4_128_MD5, CS.TLS_RSA_WITH_3DES_EDE_CBC_SHA, CS.TLS_RSA_EXPORT_WITH_DES40_CBC_SHA],
    TLS10: [CS.TLS_RSA_WITH_RC4_128_SHA, CS.TLS_RSA_WITH_DES_CBC_SHA, CS.TLS_RSA_WITH_AES_128_CBC_SHA,
            CS.TLS_RSA_EXPORT_WITH_RC4_40_MD5, CS.TLS_DH_anon_WITH_3DES_EDE_CBC_SHA],
    TLS12: [CS.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, CS.TLS_RSA_WITH_NULL_SHA256, CS.TLS_RSA_WITH_AES_128_CBC_SHA],
}


@pytest.mark.parametrize("server_order", [True, False])
def test_scripted_legacy_server_matrix(server_order):
    with ScriptedTlsServer(LEGACY, server_order=server_order, renegotiation_info=False) as server:
        result = _scan(server.port)
    assert matrix(result) == {v: set(s) for v, s in LEGACY.items()}
    assert_refused(result, {TLS11, TLS13})  # TLS 1.1: answered with TLS 1.0, which was not offered
    for v in result.versions:
        if v.accepted:
            assert v.secure_renegotiation is False
            assert v.server_order is server_order
            assert v.preferred == (LEGACY[v.version][0] if server_order else None)


def test_scripted_server_with_secure_renegotiation():
    with ScriptedTlsServer({TLS12: [CS.TLS_RSA_WITH_AES_128_CBC_SHA]}) as server:
        result = _scan(server.port)
    tls12 = result.get(TLS12)
    assert tls12 is not None and tls12.accepted and tls12.secure_renegotiation is True
    assert tls12.preferred == CS.TLS_RSA_WITH_AES_128_CBC_SHA and tls12.server_order is None


def test_chunks_find_suites_at_the_end_of_the_list():
    # 0xC100 is in the last chunk of the TLS 1.2 list; no hello carries more than MAX_SUITES_PER_HELLO.
    late = [s for s in suites_for(TLS12) if s >= 0xC100][:2]
    suites = {TLS12: [CS.TLS_RSA_WITH_AES_128_CBC_SHA, *late]}
    with ScriptedTlsServer(suites) as server:
        result = _scan(server.port, versions=(TLS12,))
        offered = [parse_client_hello(raw) for raw in server.received if raw]
    assert matrix(result) == {TLS12: set(suites[TLS12])}
    counts = [len(h.suites) for h in offered if h is not None]
    assert counts and max(counts) <= MAX_SUITES_PER_HELLO


def test_version_matrix_alone_is_one_probe_per_version(nginx_server, rsa_chain1):
    server = nginx_server(rsa_chain1, protocols="TLSv1.2 TLSv1.3")
    start = time.monotonic()
    result = _scan(server.port, enumerate_ciphers=False)
    elapsed = time.monotonic() - start
    assert set(result.accepted_versions) == {TLS12, TLS13}
    assert all(not v.enumerated and len(v.suites) <= 1 for v in result.versions)
    assert result.probes <= 2 * len(SCAN_VERSIONS)
    assert elapsed < 2.0  # the benchmark measures it properly (bench/handshake_bench.py)


# --- bounds --------------------------------------------------------------------------------------


def test_deadline_bounds_a_scan_of_a_tarpit(hostile_peers):
    peer = hostile_peers.tarpit()
    start = time.monotonic()
    result = scan(ProbeTarget("127.0.0.1", peer.port), ScanOptions(probe_timeout_s=5.0), timeout_s=1.0)
    assert time.monotonic() - start < 1.5
    assert all(v.accepted is None and not v.complete for v in result.versions)
    assert result.accepted_versions == ()


def test_probe_timeout_bounds_each_probe(hostile_peers):
    peer = hostile_peers.tarpit()
    start = time.monotonic()
    result = scan(ProbeTarget("127.0.0.1", peer.port), ScanOptions(probe_timeout_s=0.3), timeout_s=10.0)
    assert time.monotonic() - start < 2.0
    assert all(v.accepted is None for v in result.versions) and not result.cut_short


def test_probe_budget_cuts_the_scan_short(nginx_server, rsa_chain1):
    server = nginx_server(rsa_chain1)
    result = _scan(server.port, max_probes=6)
    assert result.cut_short and result.probes == 6
    assert any(not v.complete for v in result.versions)


@pytest.mark.parametrize("peer", ["immediate_alert", "reset_after_client_hello", "plain_http"])
def test_hostile_peers_accept_no_version(hostile_peers, peer):
    target = getattr(hostile_peers, peer)()
    result = scan(ProbeTarget("127.0.0.1", target.port), ScanOptions(), timeout_s=5.0)
    assert result.accepted_versions == ()
    assert result.ocsp_stapled is None and result.stapling_error


def test_starttls_scan(starttls_server, ecdsa_chain1):
    server = starttls_server("smtp", ecdsa_chain1)
    result = _scan(server.port, starttls="smtp")
    assert set(result.accepted_versions) == {TLS12, TLS13}
