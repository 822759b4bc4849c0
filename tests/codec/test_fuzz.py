"""Hostile input: arbitrary and mutated bytes raise only ``CodecError`` subclasses.

Every parser, the record layer and the client state machine get arbitrary bytes and
valid messages or server flights that were truncated, bit-flipped or given huge
lengths. Anything but a ``CodecError`` (an IndexError, a ValueError from a helper, a
hang past the deadline) fails the test.
"""

from __future__ import annotations

import datetime
import random
from typing import Callable

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codec.strategies import cuts, dispatchable, mutate, mutations, record_streams, split_at
from tlsmon.codec import extensions as ext
from tlsmon.codec import messages as m
from tlsmon.codec.connection import ClientHandshake, State
from tlsmon.codec.events import SERVER, AlertEvent, ConnectionClosed, MessageEvent, ServerFlightComplete
from tlsmon.codec.hello import TLS12, TLS13, HelloOptions
from tlsmon.codec.keyschedule import (
    TLS13_SUITES,
    KeySchedule,
    KeyShare,
    Transcript,
    finished_verify_data,
    verify_certificate_verify,
)
from tlsmon.codec.protection import RecordProtection
from tlsmon.codec.records import NEED_DATA, HandshakeReassembler, RecordReader, build_record
from tlsmon.codec.wire import Reader, Writer
from tlsmon.errors import CodecError, DecodeError, HandshakeVerifyError, UnexpectedMessage

HOSTILE = settings(max_examples=200, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
HOSTILE_SLOW = settings(max_examples=80, deadline=5000, suppress_health_check=[HealthCheck.too_slow])


def only_codec_errors(call: Callable[[], object]) -> None:
    """Run ``call``: returning normally or raising a CodecError are both fine."""
    try:
        call()
    except CodecError as exc:
        assert str(exc) and "\n" not in str(exc)  # fit for a status line


# --- parsers ------------------------------------------------------------------------------------

PARSERS: dict[str, Callable[[bytes], object]] = {
    "client_hello": m.parse_client_hello,
    "sslv2_client_hello": m.parse_sslv2_client_hello,
    "server_hello": m.parse_server_hello,
    "certificate_tls12": lambda d: m.parse_certificate(d, tls13=False),
    "certificate_tls13": lambda d: m.parse_certificate(d, tls13=True),
    "certificate_request_tls13": lambda d: m.parse_certificate_request(d, tls13=True),
    "certificate_request_tls12": lambda d: m.parse_certificate_request(d, tls13=False, version=0x0303),
    "certificate_request_tls10": lambda d: m.parse_certificate_request(d, tls13=False, version=0x0301),
    "certificate_status": m.parse_certificate_status,
    "encrypted_extensions": m.parse_encrypted_extensions,
    "certificate_verify_tls12": m.parse_certificate_verify,
    "certificate_verify_tls10": lambda d: m.parse_certificate_verify(d, version=0x0301),
    "new_session_ticket_tls12": lambda d: m.parse_new_session_ticket(d, tls13=False),
    "new_session_ticket_tls13": lambda d: m.parse_new_session_ticket(d, tls13=True),
    "key_update": m.parse_key_update,
    "alert": m.parse_alert,
    "extensions": lambda d: ext.parse_extensions(Reader(d)),
    "server_name": ext.parse_server_name,
    "supported_versions_client": ext.parse_supported_versions_client,
    "supported_versions_server": ext.parse_supported_versions_server,
    "uint16_list": ext.parse_uint16_list,
    "key_share_client": ext.parse_key_share_client,
    "key_share_server": ext.parse_key_share_server,
    "key_share_hrr": ext.parse_key_share_hrr,
    "alpn": ext.parse_alpn,
    "renegotiation_info": ext.parse_renegotiation_info,
    "certificate_authorities": ext.parse_certificate_authorities,
}


@pytest.mark.parametrize("name", sorted(PARSERS))
@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=200))
def test_parsers_raise_only_codec_errors_on_arbitrary_bytes(name, data):
    only_codec_errors(lambda: PARSERS[name](data))


@HOSTILE
@given(st.integers(0, 255), st.binary(max_size=300), st.booleans(), st.sampled_from([0x0300, 0x0301, 0x0303, 0x0304]))
def test_parse_handshake_raises_only_codec_errors_on_arbitrary_bytes(msg_type, data, tls13, version):
    only_codec_errors(lambda: m.parse_handshake(msg_type, data, tls13=tls13, version=version))


@HOSTILE
@given(dispatchable(), mutations, st.booleans())
def test_parse_handshake_raises_only_codec_errors_on_mutated_messages(case, steps, tls13):
    msg, _, version = case
    raw = m.build_handshake(msg)
    only_codec_errors(lambda: m.parse_handshake(raw[0], mutate(raw[4:], steps), tls13=tls13, version=version))


@HOSTILE
@given(st.binary(max_size=300), st.booleans(), cuts)
def test_record_layer_raises_only_codec_errors_on_arbitrary_bytes(data, allow_sslv2, sizes):
    reader, hs = RecordReader(allow_sslv2=allow_sslv2), HandshakeReassembler()

    def feed():
        for chunk in split_at(data, sizes):
            reader.receive_data(chunk)
            while (rec := reader.next_record()) is not NEED_DATA:
                assert len(rec.fragment) <= 2**14 + 2048 or rec.content_type > 0xFF
                if rec.content_type == 22:
                    hs.receive_fragment(rec.fragment)
                    while hs.next_message() is not NEED_DATA:
                        pass

    only_codec_errors(feed)


@HOSTILE
@given(record_streams(), mutations)
def test_record_layer_raises_only_codec_errors_on_mutated_streams(stream_and_messages, steps):
    data = mutate(stream_and_messages[0], steps)
    reader, hs = RecordReader(), HandshakeReassembler()

    def feed():
        reader.receive_data(data)
        while (rec := reader.next_record()) is not NEED_DATA:
            if rec.content_type == 22:
                hs.receive_fragment(rec.fragment)
                while hs.next_message() is not NEED_DATA:
                    pass

    only_codec_errors(feed)


# --- the client state machine ------------------------------------------------------------------


def seeded(seed: int) -> Callable[[int], bytes]:
    return random.Random(seed).randbytes


def drive(hs: ClientHandshake, chunks, *, close: bool = True, tolerate=()) -> tuple[list, object]:
    """Feed ``chunks``, collect events; return (events, the CodecError or None).

    ``tolerate`` names further exceptions a caller accepts, so
    that a fuzz test keeps checking everything else until the bug is fixed.
    """
    events: list = []
    try:
        for chunk in [*chunks, b""] if close else chunks:
            hs.receive_data(chunk)
            while (event := hs.next_event()) is not NEED_DATA:
                events.append(event)
                hs.data_to_send()
    except (CodecError, *tolerate) as exc:
        return events, exc
    return events, None


def outcome(result: tuple[list, object]) -> tuple[list, str]:
    """Events and the error, comparable across runs."""
    events, error = result
    return events, f"{type(error).__name__}: {error}"


def new_client(seed: int = 1, *, complete: bool = False) -> tuple[ClientHandshake, bytes]:
    """A client that has sent its ClientHello; returns it and the hello's handshake bytes."""
    hs = ClientHandshake(HelloOptions(), rng=seeded(seed), complete=complete)
    out = hs.data_to_send()
    assert out[0] == 22 and int.from_bytes(out[3:5], "big") == len(out) - 5
    return hs, out[5:]


def _self_signed_ed25519() -> tuple[ed25519.Ed25519PrivateKey, bytes]:
    key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fuzz.example")])
    start = datetime.datetime(2024, 1, 1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=30))
        .sign(key, None)
    )
    return key, cert.public_bytes(Encoding.DER)


SERVER_KEY, SERVER_CERT = _self_signed_ed25519()


class Tls13Server:
    """Just enough of a TLS 1.3 server to answer one ClientHello with a valid first flight."""

    def __init__(self, client_hello: bytes, *, certificate_request: bool = False, cert: bytes = SERVER_CERT) -> None:
        ch = m.parse_handshake(1, client_hello[4:])
        assert isinstance(ch, m.ClientHello)
        client_share = ext.parse_key_share_client(ext.find(ch.extensions, ext.ET_KEY_SHARE).data)[0]
        share = KeyShare.generate(client_share.group, bytes(range(1, 33)))
        server_share = Writer().uint16(share.group).vector(2, share.public_bytes).getvalue()
        sh = m.ServerHello(
            0x0303,
            bytes(range(100, 132)),
            ch.session_id,
            0x1301,
            extensions=(
                ext.Extension(ext.ET_SUPPORTED_VERSIONS, b"\x03\x04"),
                ext.Extension(ext.ET_KEY_SHARE, server_share),
            ),
        )
        self.suite = TLS13_SUITES[0x1301]
        self.server_hello = m.build_handshake(sh)
        self.transcript = Transcript(self.suite)
        self.transcript.update(client_hello)
        self.transcript.update(self.server_hello)
        self.schedule = KeySchedule(self.suite)
        shared = share.exchange(client_share.key_exchange)
        _, self.server_secret = self.schedule.handshake_secrets(shared, self.transcript.digest())
        self.certificate_request = certificate_request
        self.cert = cert

    def flight(self) -> list[bytes]:
        """EncryptedExtensions, [CertificateRequest], Certificate, CertificateVerify, Finished."""
        out = [m.build_handshake(m.EncryptedExtensions((ext.alpn(["h2"]),)))]
        if self.certificate_request:
            sig_algs = ext.uint16_list_extension(ext.ET_SIGNATURE_ALGORITHMS, [0x0807])
            out.append(m.build_handshake(m.CertificateRequest(context=b"", extensions=(sig_algs,))))
        out.append(m.build_handshake(m.Certificate((m.CertificateEntry(self.cert),), b"")))
        for raw in out:
            self.transcript.update(raw)
        content = b" " * 64 + b"TLS 1.3, server CertificateVerify\x00" + self.transcript.digest()
        cv = m.build_handshake(m.CertificateVerify(0x0807, SERVER_KEY.sign(content)))
        self.transcript.update(cv)
        verify_data = finished_verify_data(self.suite, self.server_secret, self.transcript.digest())
        fin = m.build_handshake(m.Finished(verify_data))
        self.transcript.update(fin)
        return [*out, cv, fin]

    def application_protection(self) -> RecordProtection:
        """Protection with the server's application_traffic_secret_0; call after ``flight()``."""
        return RecordProtection(self.suite, self.schedule.application_secrets(self.transcript.digest())[1])

    def wire(self, plaintext: bytes, sizes=(2**14,)) -> bytes:
        """ServerHello in clear, then ``plaintext`` in protected handshake records of ``sizes``."""
        protection = RecordProtection(self.suite, self.server_secret)
        records = [protection.encrypt(22, piece) for piece in split_at(plaintext, list(sizes))]
        return build_record(22, self.server_hello) + b"".join(records)


def tls13_exchange(seed: int = 1, **kwargs) -> tuple[ClientHandshake, Tls13Server]:
    client, hello = new_client(seed)
    return client, Tls13Server(hello, **kwargs)


def test_tls13_fake_server_is_valid():
    """The harness itself: an unmutated flight completes, so mutations start from something real."""
    client, server = tls13_exchange(certificate_request=True)
    events, error = drive(client, [server.wire(b"".join(server.flight()))])
    assert error is None
    assert ServerFlightComplete(TLS13) in events
    assert isinstance(events[-1], ConnectionClosed)
    assert client.certificate_request is not None
    assert client.server_certificate.certificates == (SERVER_CERT,)
    assert [e.message.msg_type for e in events if isinstance(e, MessageEvent)] == [1, 2, 8, 13, 11, 15, 20]


@HOSTILE_SLOW
@given(cuts)
def test_client_events_do_not_depend_on_chunking(sizes):
    client, server = tls13_exchange()
    wire = server.wire(b"".join(server.flight()), sizes=(50, 700, 3))
    whole = drive(client, [wire])[0]
    assert ServerFlightComplete(TLS13) in whole
    for pieces in (split_at(wire, [1]), split_at(wire, sizes)):
        client2, _ = tls13_exchange()
        assert drive(client2, pieces)[0] == whole


@HOSTILE_SLOW
@given(st.binary(max_size=400), cuts, st.booleans())
def test_client_raises_only_codec_errors_on_arbitrary_bytes(data, sizes, complete):
    hs = ClientHandshake(HelloOptions(), rng=seeded(2), complete=complete)
    hs.data_to_send()
    drive(hs, split_at(data, sizes))


@HOSTILE_SLOW
@given(st.binary(max_size=200), st.sampled_from([20, 21, 22, 23, 24]), st.sampled_from([0x0301, 0x0303]))
def test_client_raises_only_codec_errors_on_arbitrary_records(fragment, content_type, version):
    hs, _ = new_client(3)
    drive(hs, [build_record(content_type, fragment, version)])


@HOSTILE_SLOW
@given(mutations, st.booleans())
def test_client_raises_only_codec_errors_on_mutated_tls13_wire(steps, certificate_request):
    """Mutations of the whole wire: ServerHello in clear, then ciphertext; fed whole or byte by byte."""
    client, server = tls13_exchange(certificate_request=certificate_request)
    wire = mutate(server.wire(b"".join(server.flight())), steps)
    events, error = drive(client, [wire])
    again, _ = tls13_exchange(certificate_request=certificate_request)  # the same client and server
    assert outcome(drive(again, split_at(wire, [1]))) == outcome((events, error))


# A mutated serial number makes cryptography warn that it will refuse such certificates one day.
@pytest.mark.filterwarnings("ignore:Parsed a serial number which wasn't positive")
@HOSTILE_SLOW
@given(mutations, st.booleans(), st.booleans())
def test_client_raises_only_codec_errors_on_mutated_encrypted_messages(steps, certificate_request, complete):
    """Mutations inside the protection: decrypt succeeds, then the messages are bad."""
    client, hello = new_client(4, complete=complete)
    server = Tls13Server(hello, certificate_request=certificate_request)
    flight = b"".join(server.flight())
    # A mutated leaf can carry an unknown X.509 version: see test_leaf_with_an_unknown_x509_version_*.
    drive(client, [server.wire(mutate(flight, steps), sizes=(90, 2000))])


def tls12_flight(session_id: bytes) -> list[bytes]:
    sh = m.ServerHello(0x0303, bytes(32), session_id, 0xC02F, extensions=(ext.renegotiation_info(),))
    ske = m.ServerKeyExchange(b"\x03\x00\x1d\x20" + bytes(range(32)) + b"\x08\x07\x00\x04abcd")
    cr = m.CertificateRequest((1, 64), (0x0403, 0x0804), (b"\x30\x00",))
    return [
        m.build_handshake(msg)
        for msg in (
            sh,
            m.Certificate((m.CertificateEntry(SERVER_CERT),)),
            m.CertificateStatus(1, b"\x30\x03\x0a\x01\x00"),
            ske,
            cr,
            m.ServerHelloDone(),
        )
    ]


def test_tls12_flight_is_valid():
    hs, hello = new_client(5)
    session_id = m.parse_client_hello(hello[4:]).session_id
    events, error = drive(hs, [build_record(22, b"".join(tls12_flight(session_id)))])
    assert error is None
    assert ServerFlightComplete(TLS12) in events
    assert hs.state == State.FLIGHT_DONE


@HOSTILE_SLOW
@given(mutations, cuts)
def test_client_raises_only_codec_errors_on_mutated_tls12_flights(steps, sizes):
    hs, hello = new_client(5)
    flight = b"".join(tls12_flight(m.parse_client_hello(hello[4:]).session_id))
    records = mutate(b"".join(build_record(22, piece) for piece in split_at(flight, sizes)), steps)
    result = drive(hs, [records])
    again, _ = new_client(5)
    assert outcome(drive(again, split_at(records, [1]))) == outcome(result)


@HOSTILE_SLOW
@given(
    st.lists(
        st.sampled_from(
            [
                m.NewSessionTicket(7200, b"ticket", 1, b"\x00", (ext.Extension(42, b"\x00\x00\x40\x00"),)),
                m.KeyUpdate(0),
                m.CertificateRequest(context=b"\x01", extensions=(ext.empty(ext.ET_SIGNATURE_ALGORITHMS),)),
                m.HelloRequest(),
                m.Finished(bytes(32)),
            ]
        ),
        min_size=1,
        max_size=4,
    ),
    mutations,
    st.sampled_from([21, 22, 23]),
)
def test_client_raises_only_codec_errors_on_mutated_post_handshake_messages(messages, steps, content_type):
    client, hello = new_client(12, complete=True)
    server = Tls13Server(hello)
    _, error = drive(client, [server.wire(b"".join(server.flight()))], close=False)
    assert error is None and client.state == State.CONNECTED
    protection = server.application_protection()
    plaintext = mutate(b"".join(m.build_handshake(msg) for msg in messages), steps)
    drive(client, [protection.encrypt(content_type, piece) for piece in split_at(plaintext, [100])])


HRR_FOR_P256 = m.ServerHello(
    0x0303,
    m.HRR_RANDOM,
    b"",
    0x1301,
    extensions=(
        ext.Extension(ext.ET_SUPPORTED_VERSIONS, b"\x03\x04"),
        ext.Extension(ext.ET_KEY_SHARE, b"\x00\x17"),  # selected_group: secp256r1
        ext.Extension(ext.ET_COOKIE, b"\x00\x03abc"),
    ),
)


def test_hello_retry_request_is_answered_with_a_second_hello():
    hs, _ = new_client(6)
    events, error = drive(hs, [build_record(22, m.build_handshake(HRR_FOR_P256))], close=False)
    assert error is None
    hellos = [e.message for e in events if isinstance(e, MessageEvent) and e.direction == "C->S"]
    assert len(hellos) == 2
    shares = ext.parse_key_share_client(ext.find(hellos[1].extensions, ext.ET_KEY_SHARE).data)
    assert [s.group for s in shares] == [23]
    assert ext.find(hellos[1].extensions, ext.ET_COOKIE).data == b"\x00\x03abc"
    _, error = drive(hs, [build_record(22, m.build_handshake(HRR_FOR_P256))])
    assert isinstance(error, UnexpectedMessage)  # a second HelloRetryRequest


@HOSTILE_SLOW
@given(mutations)
def test_client_raises_only_codec_errors_on_mutated_hello_retry_requests(steps):
    hs, _ = new_client(7)
    drive(hs, [build_record(22, mutate(m.build_handshake(HRR_FOR_P256), steps))])


@pytest.mark.parametrize("group", [256, 257])
def test_hello_retry_request_for_an_offered_ffdhe_group_raises_a_codec_error(group):
    hs, _ = new_client(8)
    hrr = m.ServerHello(
        0x0303,
        m.HRR_RANDOM,
        b"",
        0x1301,
        extensions=(
            ext.Extension(ext.ET_SUPPORTED_VERSIONS, b"\x03\x04"),
            ext.Extension(ext.ET_KEY_SHARE, group.to_bytes(2, "big")),  # selected_group: ffdhe2048/3072
        ),
    )
    assert group in hs.options.groups  # we offered it
    _, error = drive(hs, [build_record(22, m.build_handshake(hrr))])  # raises ValueError today
    assert isinstance(error, CodecError)


@pytest.mark.parametrize("rest", ["whole", "partial"])
def test_plaintext_after_the_tls13_server_hello_in_the_same_record_is_refused(rest):
    client, server = tls13_exchange()
    flight = server.flight()
    smuggled = flight[0] if rest == "whole" else flight[0][:3]  # EncryptedExtensions, or its first bytes
    protection = RecordProtection(server.suite, server.server_secret)
    tail = flight[1:] if rest == "whole" else [flight[0][3:], *flight[1:]]
    wire = build_record(22, server.server_hello + smuggled) + protection.encrypt(22, b"".join(tail))
    events, error = drive(client, [wire])
    assert isinstance(error, (UnexpectedMessage, DecodeError)), events


# SERVER_CERT with its version field (byte 10: INTEGER 2, i.e. v3) changed to 3, a version X.509 does not have.
UNKNOWN_VERSION_CERT = SERVER_CERT[:10] + b"\x03" + SERVER_CERT[11:]


def test_leaf_with_an_unknown_x509_version_raises_handshake_verify_error():
    assert SERVER_CERT[8:11] == b"\x02\x01\x02"  # INTEGER, length 1, value 2 (v3)
    with pytest.raises(HandshakeVerifyError, match="cannot read"):
        verify_certificate_verify(UNKNOWN_VERSION_CERT, 0x0807, bytes(64), bytes(32))


def test_leaf_with_an_unknown_x509_version_in_a_tls13_flight_raises_a_codec_error():
    client, hello = new_client(10)
    server = Tls13Server(hello, cert=UNKNOWN_VERSION_CERT)
    _, error = drive(client, [server.wire(b"".join(server.flight()))])
    assert isinstance(error, HandshakeVerifyError)


def test_key_update_from_the_server_moves_the_read_key():
    client, hello = new_client(11, complete=True)  # it sends its Finished and reads on
    server = Tls13Server(hello)
    _, error = drive(client, [server.wire(b"".join(server.flight()))], close=False)
    assert error is None and client.state == State.CONNECTED
    protection = server.application_protection()
    ticket = m.build_handshake(m.NewSessionTicket(7200, b"ticket", 1, b"\x00"))
    wire = protection.encrypt(22, ticket) + protection.encrypt(22, m.build_handshake(m.KeyUpdate(0)))
    protection.key_update()  # RFC 8446 §4.6.3: the server's next record uses the next secret
    wire += protection.encrypt(21, b"\x01\x00")  # warning close_notify
    events, error = drive(client, [wire], close=False)
    assert error is None, error
    assert AlertEvent(SERVER, m.Alert(1, 0), True, 5, State.CONNECTED) in events
