"""Handshake messages and alerts: round trips, dispatch, and hand-built wire examples."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codec.strategies import (
    alerts,
    certificate_request_version,
    certificate_requests_tls12,
    certificate_requests_tls13,
    certificate_statuses,
    certificate_verifies,
    certificates_tls12,
    certificates_tls13,
    client_hellos,
    client_key_exchanges,
    dispatchable,
    empty_messages,
    encrypted_extensions,
    finisheds,
    key_updates,
    new_session_tickets_tls12,
    new_session_tickets_tls13,
    server_hellos,
    server_key_exchanges,
    unknown_handshakes,
)
from tlsmon.codec import extensions as ext
from tlsmon.codec import messages as m
from tlsmon.errors import DecodeError

FAST = settings(max_examples=100, deadline=None)


def body(msg) -> bytes:
    """The handshake body, without the 4-byte header build_handshake() adds."""
    raw = m.build_handshake(msg)
    assert raw[0] == msg.msg_type
    assert int.from_bytes(raw[1:4], "big") == len(raw) - 4
    return raw[4:]


# --- round trips -----------------------------------------------------------------------------


@FAST
@given(client_hellos)
def test_client_hello_round_trips(msg):
    assert m.parse_client_hello(m.build_client_hello(msg)) == msg


@FAST
@given(server_hellos)
def test_server_hello_round_trips(msg):
    back = m.parse_server_hello(m.build_server_hello(msg))
    assert back == msg
    assert back.is_hello_retry_request == (msg.random == m.HRR_RANDOM)
    assert m.message_name(back) == ("HelloRetryRequest" if back.is_hello_retry_request else "ServerHello")


@FAST
@given(certificates_tls12)
def test_tls12_certificate_round_trips(msg):
    assert m.parse_certificate(m.build_certificate(msg), tls13=False) == msg


@FAST
@given(certificates_tls13)
def test_tls13_certificate_with_entry_extensions_round_trips(msg):
    assert m.parse_certificate(m.build_certificate(msg), tls13=True) == msg


@FAST
@given(certificate_requests_tls12())
def test_tls12_and_tls10_certificate_request_round_trips(msg):
    version = certificate_request_version(msg)
    back = m.parse_certificate_request(m.build_certificate_request(msg), tls13=False, version=version)
    assert back == msg
    assert back.ca_names == msg.distinguished_names
    assert back.signature_algorithms == (msg.supported_signature_algorithms or ())


@FAST
@given(certificate_requests_tls13)
def test_tls13_certificate_request_round_trips(msg):
    assert m.parse_certificate_request(m.build_certificate_request(msg), tls13=True) == msg


@FAST
@given(certificate_statuses)
def test_certificate_status_round_trips(msg):
    assert m.parse_certificate_status(body(msg)) == msg


@FAST
@given(encrypted_extensions)
def test_encrypted_extensions_round_trip(msg):
    assert m.parse_encrypted_extensions(body(msg)) == msg


@FAST
@given(certificate_verifies)
def test_certificate_verify_round_trips(msg):
    version = 0x0301 if msg.algorithm is None else 0x0303
    assert m.parse_certificate_verify(body(msg), version=version) == msg


@FAST
@given(new_session_tickets_tls12)
def test_tls12_new_session_ticket_round_trips(msg):
    assert m.parse_new_session_ticket(body(msg), tls13=False) == msg


@FAST
@given(new_session_tickets_tls13)
def test_tls13_new_session_ticket_round_trips(msg):
    assert m.parse_new_session_ticket(body(msg), tls13=True) == msg


@FAST
@given(key_updates)
def test_key_update_round_trips(msg):
    assert m.parse_key_update(body(msg)) == msg


@FAST
@given(alerts)
def test_alert_round_trips(alert):
    assert m.parse_alert(m.build_alert(alert)) == alert


@FAST
@given(
    st.one_of(finisheds, server_key_exchanges, client_key_exchanges, empty_messages, unknown_handshakes),
    st.booleans(),
)
def test_raw_and_empty_messages_round_trip(msg, tls13):
    assert m.parse_handshake(m.build_handshake(msg)[0], body(msg), tls13=tls13) == msg


@settings(max_examples=300, deadline=None)
@given(dispatchable())
def test_parse_handshake_reads_back_build_handshake(case):
    msg, tls13, version = case
    raw = m.build_handshake(msg)
    assert m.parse_handshake(raw[0], raw[4:], tls13=tls13, version=version) == msg


def test_build_handshake_refuses_what_is_not_a_handshake_message():
    with pytest.raises(TypeError):
        m.build_handshake(m.Alert(2, 40))


# --- hand-built examples ----------------------------------------------------------------------

DN_A = bytes.fromhex("300f310d300b06035504030c0443412d41")  # SEQUENCE { SET { CN=CA-A } }
DN_B = bytes.fromhex("300f310d300b06035504030c0443412d42")  # SEQUENCE { SET { CN=CA-B } }

TLS12_CERTIFICATE_REQUEST = bytes(
    [
        0x0D,  # msg_type: certificate_request(13)
        0x00, 0x00, 0x33,  # length: 51
        0x02,  # certificate_types length: 2
        0x01,  # rsa_sign(1)
        0x40,  # ecdsa_sign(64)
        0x00, 0x06,  # supported_signature_algorithms length: 6
        0x04, 0x03,  # ecdsa_secp256r1_sha256
        0x08, 0x04,  # rsa_pss_rsae_sha256
        0x04, 0x01,  # rsa_pkcs1_sha256
        0x00, 0x26,  # certificate_authorities length: 38
        0x00, 0x11,  # DistinguishedName length: 17
        *DN_A,  # DistinguishedName: CN=CA-A
        0x00, 0x11,  # DistinguishedName length: 17
        *DN_B,  # DistinguishedName: CN=CA-B
    ]
)  # fmt: skip


def test_tls12_certificate_request_with_two_distinguished_names():
    msg = m.parse_handshake(13, TLS12_CERTIFICATE_REQUEST[4:], tls13=False, version=0x0303)
    assert msg == m.CertificateRequest(
        certificate_types=(1, 64),
        supported_signature_algorithms=(0x0403, 0x0804, 0x0401),
        distinguished_names=(DN_A, DN_B),
    )
    assert msg.ca_names == (DN_A, DN_B)
    assert msg.signature_algorithms == (0x0403, 0x0804, 0x0401)
    assert m.build_handshake(msg) == TLS12_CERTIFICATE_REQUEST


def test_tls10_certificate_request_has_no_signature_algorithms():
    data = bytes(
        [
            0x01,  # certificate_types length: 1
            0x01,  # rsa_sign(1)
            0x00, 0x13,  # certificate_authorities length: 19
            0x00, 0x11,  # DistinguishedName length: 17
            *DN_A,  # DistinguishedName: CN=CA-A
        ]
    )  # fmt: skip
    msg = m.parse_certificate_request(data, tls13=False, version=0x0301)
    assert msg == m.CertificateRequest((1,), None, (DN_A,))
    assert msg.signature_algorithms == ()
    assert m.build_certificate_request(msg) == data
    with pytest.raises(DecodeError):  # read as TLS 1.2, the DN list is taken for the algorithms
        m.parse_certificate_request(data, tls13=False, version=0x0303)


def test_tls13_certificate_request_reads_its_extensions():
    data = bytes(
        [
            0x00,  # certificate_request_context length: 0
            0x00, 0x21,  # extensions length: 33
            0x00, 0x0D,  # extension type: signature_algorithms(13)
            0x00, 0x04,  # extension_data length: 4
            0x00, 0x02,  # supported_signature_algorithms length: 2
            0x08, 0x07,  # ed25519
            0x00, 0x2F,  # extension type: certificate_authorities(47)
            0x00, 0x15,  # extension_data length: 21
            0x00, 0x13,  # authorities length: 19
            0x00, 0x11,  # DistinguishedName length: 17
            *DN_B,  # DistinguishedName: CN=CA-B
        ]
    )  # fmt: skip
    msg = m.parse_handshake(13, data, tls13=True)
    assert msg.context == b""
    assert msg.signature_algorithms == (0x0807,)
    assert msg.ca_names == (DN_B,)
    assert m.build_certificate_request(msg) == data


SSLV2_CLIENT_HELLO_BODY = bytes(
    [
        0x01,  # msg_type: CLIENT-HELLO
        0x03, 0x01,  # version: TLS 1.0
        0x00, 0x09,  # cipher_spec_length: 9 (three 3-byte specs)
        0x00, 0x00,  # session_id_length: 0
        0x00, 0x10,  # challenge_length: 16
        0x00, 0x00, 0x2F,  # cipher spec: TLS_RSA_WITH_AES_128_CBC_SHA
        0x00, 0x00, 0xFF,  # cipher spec: TLS_EMPTY_RENEGOTIATION_INFO_SCSV
        0x07, 0x00, 0xC0,  # cipher spec: SSL_CK_DES_192_EDE3_CBC_WITH_MD5 (SSLv2 only)
        *range(16),  # challenge: 16 bytes
    ]
)  # fmt: skip


def test_sslv2_client_hello_specs():
    msg = m.parse_sslv2_client_hello(SSLV2_CLIENT_HELLO_BODY)
    assert msg == m.Sslv2ClientHello(0x0301, (0x00002F, 0x0000FF, 0x0700C0), b"", bytes(range(16)))


@pytest.mark.parametrize(
    ("offset", "value", "reason"),
    [
        (0, 0x02, "not a CLIENT-HELLO"),
        (4, 0x08, "multiple of 3"),
        (8, 0x0F, "outside 16..32"),
        (8, 0x21, "outside 16..32"),
        (6, 0x01, "needs 16 bytes, 15 left"),  # a 1-byte session id eats into the challenge
    ],
)
def test_malformed_sslv2_client_hello(offset, value, reason):
    data = bytearray(SSLV2_CLIENT_HELLO_BODY)
    data[offset] = value
    with pytest.raises(DecodeError, match=reason):
        m.parse_sslv2_client_hello(bytes(data))


def test_client_hello_without_extensions_block_is_not_an_empty_one():
    data = bytes(
        [
            0x03, 0x00,  # legacy_version: SSL 3.0
            *bytes(32),  # random
            0x00,  # legacy_session_id length: 0
            0x00, 0x02,  # cipher_suites length: 2
            0x00, 0x0A,  # TLS_RSA_WITH_3DES_EDE_CBC_SHA
            0x01,  # legacy_compression_methods length: 1
            0x00,  # null
        ]
    )  # fmt: skip
    assert m.parse_client_hello(data).extensions is None
    assert m.parse_client_hello(data + b"\x00\x00").extensions == ()


def test_server_hello_properties():
    sh = m.ServerHello(
        0x0303,
        m.HRR_RANDOM,
        b"",
        0x1301,
        extensions=(ext.Extension(43, b"\x03\x04"), ext.alpn(["h2"])),
    )
    assert sh.is_hello_retry_request
    assert sh.selected_version == 0x0304
    assert sh.alpn_protocol == "h2"
    assert m.ServerHello(0x0302, bytes(32), b"", 0x002F, extensions=None).selected_version == 0x0302


@pytest.mark.parametrize(
    ("data", "named_group", "prime_bits"),
    [
        (b"\x03\x00\x1d\x20" + bytes(32), 29, None),  # named_curve(3) x25519
        (b"\x00\x03\x80\x00\x01" + b"\x00\x01\x02", None, 24),  # dh_p of 3 bytes, top bit set
        (b"\x00\x05\x01", None, None),  # dh_p overruns
        (b"", None, None),
    ],
)
def test_server_key_exchange_parameters(data, named_group, prime_bits):
    ske = m.ServerKeyExchange(data)
    assert ske.named_group == named_group
    assert ske.dh_prime_bits() == prime_bits


@pytest.mark.parametrize(
    ("msg_type", "data", "tls13"),
    [
        (1, b"\x03\x03" + bytes(32) + b"\x21" + bytes(33) + b"\x00\x02\x13\x01\x01\x00", False),  # session id > 32
        (1, b"\x03\x03" + bytes(32) + b"\x00\x00\x00\x01\x00", False),  # no cipher suites
        (1, b"\x03\x03" + bytes(32) + b"\x00\x00\x02\x13\x01\x00", False),  # no compression methods
        (2, b"\x03\x03" + bytes(32) + b"\x00\x13\x01\x00\x00\x00\x00", False),  # trailing byte
        (11, b"\x00\x00\x03\x00\x00\x00", False),  # cert_data<1..2^24-1> empty
        (11, b"\x00\x00\x00\x00\x00", True),  # trailing byte after certificate_list
        (13, b"\x00\x00\x02\x04\x03\x00\x00", False),  # certificate_types<1..2^8-1> empty
        (14, b"\x00", False),  # ServerHelloDone is empty
        (0, b"\x00", True),  # HelloRequest is empty
        (5, b"\x00", True),  # EndOfEarlyData is empty
        (22, b"\x01\x00\x00\x00", False),  # OCSPResponse<1..2^24-1> empty
        (15, b"\x08\x04\x00", True),  # signature length cut short
        (4, b"\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00", True),  # ticket<1..2^16-1> empty
        (24, b"", False),  # KeyUpdate needs request_update
    ],
)
def test_malformed_messages_raise_decode_error(msg_type, data, tls13):
    with pytest.raises(DecodeError):
        m.parse_handshake(msg_type, data, tls13=tls13)


def test_message_names():
    assert m.message_name(m.ServerHelloDone()) == "ServerHelloDone"
    assert m.message_name(m.UnknownHandshake(25, b"")) == "CompressedCertificate"
    assert m.message_name(m.UnknownHandshake(99, b"")) == "Handshake(99)"
    assert m.message_name(m.Alert(2, 40)) == "Alert"
