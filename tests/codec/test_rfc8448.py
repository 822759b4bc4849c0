"""TLS 1.3 key schedule and record protection, replayed against RFC 8448 §3.

The trace is the "Simple 1-RTT Handshake": x25519, TLS_AES_128_GCM_SHA256, an RSA
server key signing with rsa_pss_rsae_sha256. Unit tests for the failure paths follow.
"""

from __future__ import annotations

import datetime
import hashlib
import importlib.util
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from tlsmon.codec.keyschedule import (
    SUPPORTED_GROUPS,
    TLS13_SUITES,
    KeySchedule,
    KeyShare,
    Transcript,
    derive_secret,
    finished_verify_data,
    hkdf_expand_label,
    next_application_secret,
    traffic_key_iv,
    verify_certificate_verify,
    verify_finished,
    verify_signature,
)
from tlsmon.codec.protection import MAX_CIPHERTEXT, RecordProtection
from tlsmon.codec.wire import Reader
from tlsmon.errors import DecodeError, DecryptError, HandshakeVerifyError, LimitExceeded, UnexpectedMessage


def _load_vectors():  # by path, so the test works with or without tests/__init__.py
    spec = importlib.util.spec_from_file_location("_rfc8448_vectors", Path(__file__).with_name("rfc8448_vectors.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


V = _load_vectors()
SUITE = TLS13_SUITES[0x1301]
EMPTY_SHA256 = hashlib.sha256(b"").digest()
HANDSHAKE, APPLICATION_DATA, ALERT = 22, 23, 21


def h(name: str) -> bytes:
    return bytes.fromhex(getattr(V, name))


CH, SH, EE, CERT, CV, SFIN, CFIN = (
    h(n)
    for n in (
        "CLIENT_HELLO",
        "SERVER_HELLO",
        "ENCRYPTED_EXTENSIONS",
        "CERTIFICATE",
        "CERTIFICATE_VERIFY",
        "SERVER_FINISHED",
        "CLIENT_FINISHED",
    )
)


def sha256(*messages: bytes) -> bytes:
    return hashlib.sha256(b"".join(messages)).digest()


def leaf_certificate(msg: bytes) -> bytes:
    """The first cert_data of a TLS 1.3 Certificate message (RFC 8446 §4.4.2)."""
    r = Reader(msg, "Certificate")
    assert r.uint8("msg_type") == 11
    body = r.sub(3, "body")
    body.vector(1, "certificate_request_context")
    entries = body.sub(3, "certificate_list")
    return entries.vector(3, "cert_data", minimum=1)


def certificate_verify_fields(msg: bytes) -> tuple[int, bytes]:
    """(scheme, signature) of a CertificateVerify message (RFC 8446 §4.4.3)."""
    r = Reader(msg, "CertificateVerify")
    assert r.uint8("msg_type") == 15
    body = r.sub(3, "body")
    return body.uint16("algorithm"), body.vector(2, "signature")


def split(record: bytes) -> tuple[bytes, bytes]:
    return record[:5], record[5:]


# RFC 8448 §3, step by step


def test_x25519_shared_secret_from_the_rfc_keys():
    client = KeyShare.generate(29, h("CLIENT_X25519_PRIVATE"))
    server = KeyShare.from_private_bytes(29, h("SERVER_X25519_PRIVATE"))
    assert client.public_bytes == h("CLIENT_X25519_PUBLIC")
    assert server.public_bytes == h("SERVER_X25519_PUBLIC")
    assert client.exchange(h("SERVER_X25519_PUBLIC")) == h("SHARED_SECRET")
    assert server.exchange(client.public_bytes) == h("SHARED_SECRET")


def test_transcript_buffers_until_the_server_hello_names_the_suite():
    transcript = Transcript()
    transcript.update(CH)
    transcript.update(SH)
    transcript.set_suite(SUITE)
    assert transcript.digest() == h("HELLO_HASH")
    assert transcript.digest() == h("HELLO_HASH")  # digest() does not consume the hash
    assert transcript.message_count == 2


def test_handshake_and_master_secrets():
    ks = KeySchedule(SUITE)
    assert ks.early_secret == h("EARLY_SECRET")
    assert derive_secret(SUITE, ks.early_secret, b"derived", EMPTY_SHA256) == h("DERIVED_FOR_HANDSHAKE")
    c_hs, s_hs = ks.handshake_secrets(h("SHARED_SECRET"), h("HELLO_HASH"))
    assert ks.handshake_secret == h("HANDSHAKE_SECRET")
    assert derive_secret(SUITE, ks.handshake_secret, b"derived", EMPTY_SHA256) == h("DERIVED_FOR_MASTER")
    assert ks.master_secret == h("MASTER_SECRET")
    assert c_hs == h("CLIENT_HANDSHAKE_TRAFFIC_SECRET")
    assert s_hs == h("SERVER_HANDSHAKE_TRAFFIC_SECRET")


@pytest.mark.parametrize(
    ("secret", "key", "iv"),
    [
        ("SERVER_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_KEY", "SERVER_HANDSHAKE_IV"),
        ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_HANDSHAKE_KEY", "CLIENT_HANDSHAKE_IV"),
        ("SERVER_APPLICATION_TRAFFIC_SECRET", "SERVER_APPLICATION_KEY", "SERVER_APPLICATION_IV"),
        ("CLIENT_APPLICATION_TRAFFIC_SECRET", "CLIENT_APPLICATION_KEY", "CLIENT_APPLICATION_IV"),
    ],
)
def test_traffic_keys(secret, key, iv):
    assert traffic_key_iv(SUITE, h(secret)) == (h(key), h(iv))
    assert KeySchedule(SUITE).traffic_key_iv(h(secret)) == (h(key), h(iv))


def test_server_handshake_record_decrypts_to_the_rfc_messages():
    protection = RecordProtection(SUITE, h("SERVER_HANDSHAKE_TRAFFIC_SECRET"))
    content_type, plaintext = protection.decrypt(*split(h("SERVER_HANDSHAKE_RECORD")))
    assert content_type == HANDSHAKE
    assert plaintext == EE + CERT + CV + SFIN
    assert protection.sequence_number == 1


def test_server_certificate_verify_verifies_against_the_leaf():
    scheme, signature = certificate_verify_fields(CV)
    assert scheme == 0x0804  # rsa_pss_rsae_sha256
    verify_certificate_verify(leaf_certificate(CERT), scheme, signature, sha256(CH, SH, EE, CERT))


def test_server_finished():
    shts = h("SERVER_HANDSHAKE_TRAFFIC_SECRET")
    assert hkdf_expand_label(SUITE, shts, b"finished", b"", 32) == h("SERVER_FINISHED_KEY")
    transcript_hash = sha256(CH, SH, EE, CERT, CV)
    assert finished_verify_data(SUITE, shts, transcript_hash) == h("SERVER_FINISHED_VERIFY_DATA")
    assert SFIN == bytes([20, 0, 0, 32]) + h("SERVER_FINISHED_VERIFY_DATA")
    verify_finished(SUITE, shts, transcript_hash, SFIN[4:])


def test_application_secrets():
    ks = KeySchedule(SUITE)
    ks.handshake_secrets(h("SHARED_SECRET"), h("HELLO_HASH"))
    transcript = Transcript(SUITE)
    for msg in (CH, SH, EE, CERT, CV, SFIN):
        transcript.update(msg)
    assert transcript.digest() == h("SERVER_FINISHED_HASH")
    assert ks.application_secrets(transcript.digest()) == (
        h("CLIENT_APPLICATION_TRAFFIC_SECRET"),
        h("SERVER_APPLICATION_TRAFFIC_SECRET"),
        h("EXPORTER_MASTER_SECRET"),
    )


def test_client_finished_and_its_record():
    ks = KeySchedule(SUITE)
    chts, _ = ks.handshake_secrets(h("SHARED_SECRET"), h("HELLO_HASH"))
    assert hkdf_expand_label(SUITE, chts, b"finished", b"", 32) == h("CLIENT_FINISHED_KEY")
    verify_data = ks.finished_verify_data(chts, h("SERVER_FINISHED_HASH"))
    assert verify_data == h("CLIENT_FINISHED_VERIFY_DATA")
    assert CFIN == bytes([20, 0, 0, 32]) + verify_data
    assert RecordProtection(SUITE, chts).encrypt(HANDSHAKE, CFIN) == h("CLIENT_FINISHED_RECORD")
    assert sha256(CH, SH, EE, CERT, CV, SFIN, CFIN) == h("CLIENT_FINISHED_HASH")
    assert ks.resumption_master_secret(h("CLIENT_FINISHED_HASH")) == h("RESUMPTION_MASTER_SECRET")


def test_application_records_in_both_directions():
    server = RecordProtection(SUITE, h("SERVER_APPLICATION_TRAFFIC_SECRET"))
    assert server.decrypt(*split(h("SERVER_TICKET_RECORD"))) == (HANDSHAKE, h("NEW_SESSION_TICKET"))
    assert server.decrypt(*split(h("SERVER_APPLICATION_RECORD"))) == (APPLICATION_DATA, h("APPLICATION_DATA"))
    assert server.decrypt(*split(h("SERVER_ALERT_RECORD"))) == (ALERT, h("CLOSE_NOTIFY"))
    client = RecordProtection(SUITE, h("CLIENT_APPLICATION_TRAFFIC_SECRET"))
    assert client.encrypt(APPLICATION_DATA, h("APPLICATION_DATA")) == h("CLIENT_APPLICATION_RECORD")
    assert client.encrypt(ALERT, h("CLOSE_NOTIFY")) == h("CLIENT_ALERT_RECORD")
    assert client.sequence_number == 2


@pytest.mark.parametrize(
    ("secret", "records"),
    [
        ("SERVER_HANDSHAKE_TRAFFIC_SECRET", ["SERVER_HANDSHAKE_RECORD"]),
        ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", ["CLIENT_FINISHED_RECORD"]),
        (
            "SERVER_APPLICATION_TRAFFIC_SECRET",
            ["SERVER_TICKET_RECORD", "SERVER_APPLICATION_RECORD", "SERVER_ALERT_RECORD"],
        ),
        ("CLIENT_APPLICATION_TRAFFIC_SECRET", ["CLIENT_APPLICATION_RECORD", "CLIENT_ALERT_RECORD"]),
    ],
)
def test_encrypt_of_decrypt_gives_the_wire_records_back(secret, records):
    reader, writer = RecordProtection(SUITE, h(secret)), RecordProtection(SUITE, h(secret))
    for name in records:
        assert writer.encrypt(*reader.decrypt(*split(h(name)))) == h(name)
    assert reader.sequence_number == writer.sequence_number == len(records)


# Record protection failures


def test_tampered_record_raises_decrypt_error_and_keeps_the_sequence():
    record = bytearray(h("SERVER_HANDSHAKE_RECORD"))
    record[100] ^= 0x01
    protection = RecordProtection(SUITE, h("SERVER_HANDSHAKE_TRAFFIC_SECRET"))
    with pytest.raises(DecryptError):
        protection.decrypt(*split(bytes(record)))
    assert protection.sequence_number == 0
    header = bytearray(h("SERVER_HANDSHAKE_RECORD")[:5])
    header[2] = 0x01  # legacy_record_version is authenticated as AAD
    with pytest.raises(DecryptError):
        protection.decrypt(bytes(header), h("SERVER_HANDSHAKE_RECORD")[5:])
    assert protection.decrypt(*split(h("SERVER_HANDSHAKE_RECORD")))[0] == HANDSHAKE


def test_record_out_of_sequence_fails():
    protection = RecordProtection(SUITE, h("SERVER_APPLICATION_TRAFFIC_SECRET"))
    with pytest.raises(DecryptError):
        protection.decrypt(*split(h("SERVER_APPLICATION_RECORD")))  # sent as sequence 1, not 0
    assert RecordProtection(SUITE, h("SERVER_APPLICATION_TRAFFIC_SECRET"), sequence_number=1).decrypt(
        *split(h("SERVER_APPLICATION_RECORD"))
    ) == (APPLICATION_DATA, h("APPLICATION_DATA"))


def test_all_zero_inner_plaintext_has_no_content_type():
    key, iv = traffic_key_iv(SUITE, h("SERVER_APPLICATION_TRAFFIC_SECRET"))
    header = bytes([23, 3, 3, 0, 5 + 16])
    ciphertext = AESGCM(key).encrypt(iv, bytes(5), header)  # sequence 0: the nonce is the IV
    with pytest.raises(DecryptError, match="no content type"):
        RecordProtection(SUITE, h("SERVER_APPLICATION_TRAFFIC_SECRET")).decrypt(header, ciphertext)


def test_padding_is_stripped():
    writer = RecordProtection(SUITE, h("CLIENT_APPLICATION_TRAFFIC_SECRET"))
    reader = RecordProtection(SUITE, h("CLIENT_APPLICATION_TRAFFIC_SECRET"))
    record = writer.encrypt(APPLICATION_DATA, b"ping\x00\x00", padding=100)
    assert len(record) == 5 + 6 + 1 + 100 + 16
    assert reader.decrypt(*split(record)) == (APPLICATION_DATA, b"ping\x00\x00")


@pytest.mark.parametrize(
    ("header", "body"),
    [
        (bytes([23, 3, 3]) + (MAX_CIPHERTEXT + 1).to_bytes(2, "big"), bytes(MAX_CIPHERTEXT + 1)),  # record_overflow
        (bytes([23, 3, 3, 0, 15]), bytes(15)),  # shorter than the tag
        (bytes([22, 3, 3, 0, 20]), bytes(20)),  # not a protected record's type
        (bytes([23, 3, 3, 0, 21]), bytes(20)),  # header length disagrees
        (bytes([23, 3, 3, 0]), bytes(20)),  # short header
    ],
)
def test_malformed_protected_records_raise_decode_error(header, body):
    protection = RecordProtection(SUITE, h("SERVER_APPLICATION_TRAFFIC_SECRET"))
    with pytest.raises(DecodeError):
        protection.decrypt(header, body)
    assert protection.sequence_number == 0


def test_overflow_is_a_limit_exceeded():
    with pytest.raises(LimitExceeded):
        RecordProtection(SUITE, h("SERVER_APPLICATION_TRAFFIC_SECRET")).decrypt(
            bytes([23, 3, 3]) + (MAX_CIPHERTEXT + 1).to_bytes(2, "big"), bytes(MAX_CIPHERTEXT + 1)
        )


def test_encrypt_rejects_what_it_cannot_send():
    protection = RecordProtection(SUITE, h("CLIENT_APPLICATION_TRAFFIC_SECRET"))
    with pytest.raises(ValueError):
        protection.encrypt(0, b"x")
    with pytest.raises(ValueError):
        protection.encrypt(APPLICATION_DATA, bytes(1 << 14), padding=1)
    assert protection.sequence_number == 0


@pytest.mark.parametrize("code", sorted(TLS13_SUITES))
def test_every_suite_round_trips_and_detects_tampering(code):
    suite = TLS13_SUITES[code]
    secret = bytes(range(suite.hash_len))
    writer, reader = RecordProtection(suite, secret), RecordProtection(suite, secret)
    for payload, pad in ((b"", 0), (b"hello", 7), (bytes(1 << 14), 0)):  # 2^14 is the most one record carries
        record = writer.encrypt(APPLICATION_DATA, payload, padding=pad)
        assert len(record) == 5 + len(payload) + 1 + pad + suite.tag_len
        assert reader.decrypt(*split(record)) == (APPLICATION_DATA, payload)
    record = bytearray(writer.encrypt(ALERT, b"\x01\x00"))
    record[-1] ^= 0x80
    with pytest.raises(DecryptError):
        reader.decrypt(*split(bytes(record)))


def test_key_update_moves_both_sides_to_the_next_secret():
    secret = h("CLIENT_APPLICATION_TRAFFIC_SECRET")
    writer, reader = RecordProtection(SUITE, secret), RecordProtection(SUITE, secret)
    reader.decrypt(*split(writer.encrypt(APPLICATION_DATA, b"before")))
    writer.key_update()
    record = writer.encrypt(APPLICATION_DATA, b"after")
    assert writer.traffic_secret == next_application_secret(SUITE, secret)
    with pytest.raises(DecryptError):
        reader.decrypt(*split(record))
    reader.key_update()
    assert reader.decrypt(*split(record)) == (APPLICATION_DATA, b"after")
    assert KeySchedule(SUITE).next_application_secret(secret) == writer.traffic_secret


# Finished and CertificateVerify failures


def test_wrong_finished_raises_handshake_verify_error():
    shts = h("SERVER_HANDSHAKE_TRAFFIC_SECRET")
    bad = bytearray(h("SERVER_FINISHED_VERIFY_DATA"))
    bad[0] ^= 1
    with pytest.raises(HandshakeVerifyError):
        verify_finished(SUITE, shts, sha256(CH, SH, EE, CERT, CV), bytes(bad))
    with pytest.raises(HandshakeVerifyError):  # the transcript without the CertificateVerify
        verify_finished(SUITE, shts, sha256(CH, SH, EE, CERT), h("SERVER_FINISHED_VERIFY_DATA"))


def test_wrong_certificate_verify_signature_raises_handshake_verify_error():
    scheme, signature = certificate_verify_fields(CV)
    leaf, transcript_hash = leaf_certificate(CERT), sha256(CH, SH, EE, CERT)
    bad = bytearray(signature)
    bad[10] ^= 0x40
    with pytest.raises(HandshakeVerifyError, match="rsa_pss_rsae_sha256"):
        verify_certificate_verify(leaf, scheme, bytes(bad), transcript_hash)
    with pytest.raises(HandshakeVerifyError, match="rsa_pss_rsae_sha256"):
        verify_certificate_verify(leaf, scheme, signature, sha256(CH, SH, EE))
    with pytest.raises(HandshakeVerifyError):  # signed as the server, not as a client
        verify_certificate_verify(leaf, scheme, signature, transcript_hash, server=False)


@pytest.mark.parametrize(
    ("scheme", "reason"),
    [
        (0x0401, "rsa_pkcs1_sha256"),  # PKCS#1 v1.5 is not allowed in TLS 1.3
        (0x0403, "ecdsa_secp256r1_sha256"),  # needs an EC key
        (0x0809, "rsa_pss_pss_sha256"),  # needs an RSASSA-PSS key, the RFC's is rsaEncryption
        (0x0807, "ed25519"),
        (0x1234, "0x1234"),
    ],
)
def test_unsupported_scheme_or_key_mismatch(scheme, reason):
    _, signature = certificate_verify_fields(CV)
    with pytest.raises(HandshakeVerifyError, match=reason):
        verify_certificate_verify(leaf_certificate(CERT), scheme, signature, sha256(CH, SH, EE, CERT))


def test_unreadable_leaf_raises_handshake_verify_error():
    _, signature = certificate_verify_fields(CV)
    with pytest.raises(HandshakeVerifyError, match="cannot read"):
        verify_certificate_verify(b"\x30\x03\x02\x01\x00", 0x0804, signature, bytes(32))


def _self_signed(key) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tlsmon test")])
    start = datetime.datetime(2020, 1, 1)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=1))
    )
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(key, algorithm).public_bytes(Encoding.DER)


def _content(transcript_hash: bytes) -> bytes:
    return b" " * 64 + b"TLS 1.3, server CertificateVerify\x00" + transcript_hash


@pytest.mark.parametrize(
    ("curve", "scheme", "algorithm"),
    [
        (ec.SECP256R1, 0x0403, hashes.SHA256),
        (ec.SECP384R1, 0x0503, hashes.SHA384),
        (ec.SECP521R1, 0x0603, hashes.SHA512),
    ],
)
def test_ecdsa_certificate_verify(curve, scheme, algorithm):
    key = ec.generate_private_key(curve())
    leaf, transcript_hash = _self_signed(key), bytes(range(32))
    signature = key.sign(_content(transcript_hash), ec.ECDSA(algorithm()))
    verify_certificate_verify(leaf, scheme, signature, transcript_hash)
    other = 0x0503 if scheme == 0x0403 else 0x0403
    with pytest.raises(HandshakeVerifyError, match="does not fit"):  # TLS 1.3 binds the curve to the scheme
        verify_certificate_verify(leaf, other, signature, transcript_hash)
    with pytest.raises(HandshakeVerifyError, match="does not verify"):
        verify_certificate_verify(leaf, scheme, signature[:-1], transcript_hash)


def test_ed25519_certificate_verify_and_tls12_signature():
    key = ed25519.Ed25519PrivateKey.generate()
    leaf, transcript_hash = _self_signed(key), bytes(32)
    verify_certificate_verify(leaf, 0x0807, key.sign(_content(transcript_hash)), transcript_hash)
    with pytest.raises(HandshakeVerifyError, match="ed25519"):
        verify_certificate_verify(leaf, 0x0807, bytes(64), transcript_hash)
    ec_key = ec.generate_private_key(ec.SECP384R1())
    signature = ec_key.sign(b"server key exchange", ec.ECDSA(hashes.SHA256()))
    verify_signature(_self_signed(ec_key), 0x0403, signature, b"server key exchange", tls13=False)


# Key shares


@pytest.mark.parametrize("group", SUPPORTED_GROUPS)
def test_key_shares_agree_pairwise(group):
    a, b = KeyShare.generate(group), KeyShare.generate(group)
    assert a.group == b.group == group
    assert a.exchange(b.public_bytes) == b.exchange(a.public_bytes)
    expected_len = {29: 32, 30: 56, 23: 65, 24: 97, 25: 133}[group]
    assert len(a.public_bytes) == expected_len
    if group in (23, 24, 25):
        assert a.public_bytes[0] == 0x04


def test_ec_key_share_from_a_given_scalar_is_deterministic():
    scalar = (12345).to_bytes(32, "big")
    assert KeyShare.generate(23, scalar).public_bytes == KeyShare.generate(23, scalar).public_bytes
    with pytest.raises(ValueError):
        KeyShare.generate(23, bytes(32))  # zero is not a private key
    with pytest.raises(ValueError):
        KeyShare.generate(0x0100)  # ffdhe2048: not supported here


@pytest.mark.parametrize(
    ("group", "peer"),
    [
        (29, bytes(31)),  # x25519 share one byte short
        (29, bytes(32)),  # low-order point: all-zero shared secret
        (30, bytes(57)),
        (23, b"\x04" + bytes(63)),  # too short for P-256
        (23, b"\x04" + bytes(64)),  # (0, 0) is not on the curve
        (24, b""),
    ],
)
def test_malformed_peer_share_raises_decode_error(group, peer):
    with pytest.raises(DecodeError, match="key_share"):
        KeyShare.generate(group).exchange(peer)


def test_compressed_or_off_curve_points_are_refused():
    ours, theirs = KeyShare.generate(23), KeyShare.generate(23)
    x = theirs.public_bytes[1:33]
    with pytest.raises(DecodeError, match="uncompressed"):
        ours.exchange(b"\x02" + x)
    off_curve = bytearray(theirs.public_bytes)
    off_curve[-1] ^= 1
    with pytest.raises(DecodeError):
        ours.exchange(bytes(off_curve))
    with pytest.raises(DecodeError):  # a P-384 point offered for P-256
        ours.exchange(KeyShare.generate(24).public_bytes)


# Transcript rules


def test_hello_retry_request_replaces_client_hello1_with_message_hash():
    ch1 = bytes([1, 0, 0, 3]) + b"ch1"
    hrr = bytes([2, 0, 0, 3]) + b"hrr"
    ch2 = bytes([1, 0, 0, 3]) + b"ch2"
    transcript = Transcript()
    transcript.update(ch1)
    transcript.restart_after_hrr(SUITE)
    transcript.update(hrr)
    transcript.update(ch2)
    # RFC 8446 §4.4.1: message_hash(254), uint24 length Hash.length, Hash(ClientHello1)
    synthetic = bytes([254, 0, 0, 32]) + sha256(ch1)
    assert transcript.digest() == sha256(synthetic, hrr, ch2)
    assert transcript.message_count == 3


def test_hello_retry_request_rule_with_sha384():
    transcript = Transcript(TLS13_SUITES[0x1302])
    transcript.update(CH)
    transcript.restart_after_hrr()
    assert transcript.digest() == hashlib.sha384(bytes([254, 0, 0, 48]) + hashlib.sha384(CH).digest()).digest()


def test_hello_retry_request_only_right_after_the_first_client_hello():
    transcript = Transcript(SUITE)
    transcript.update(CH + SH)  # two whole messages in one call
    with pytest.raises(UnexpectedMessage):
        transcript.restart_after_hrr()


def test_transcript_misuse():
    transcript = Transcript(max_buffered=300)
    with pytest.raises(RuntimeError):
        transcript.digest()
    with pytest.raises(ValueError):
        transcript.update(CH[:-1])  # not a whole message
    transcript.update(CH)
    with pytest.raises(LimitExceeded):
        transcript.update(SH + EE)
    transcript.set_suite(SUITE)
    transcript.set_suite(SUITE)  # the same suite again is fine
    with pytest.raises(UnexpectedMessage):
        transcript.set_suite(TLS13_SUITES[0x1303])
    transcript.update(SH + EE)  # no bound once the hash runs
    assert transcript.digest() == sha256(CH, SH, EE)
