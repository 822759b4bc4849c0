"""Extension helpers: raw extension blocks and the typed payloads we read or send."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codec.strategies import alpn_lists, extension_lists, host_names, key_share_entries, uint16s
from tlsmon.codec import extensions as ext
from tlsmon.codec.messages import ClientHello
from tlsmon.codec.wire import Reader, Writer
from tlsmon.errors import DecodeError

FAST = settings(max_examples=150, deadline=None)


@FAST
@given(extension_lists)
def test_extension_block_round_trips(extensions):
    w = Writer()
    ext.build_extensions(w, extensions)
    r = Reader(w.getvalue(), "extensions")
    assert ext.parse_extensions(r) == extensions
    r.expect_end()


@FAST
@given(host_names)
def test_server_name_round_trips(host):
    e = ext.server_name(host)
    assert e.type == ext.ET_SERVER_NAME
    assert ext.parse_server_name(e.data) == host


def test_server_name_encodes_international_names_as_a_labels():
    e = ext.server_name("bücher.example")
    assert ext.parse_server_name(e.data) == "xn--bcher-kva.example"


def test_server_name_bytes():
    expected = bytes(
        [
            0x00, 0x0E,  # server_name_list length: 14
            0x00,  # name_type: host_name(0)
            0x00, 0x0B,  # host_name length: 11
            *b"example.org",  # host_name
        ]
    )  # fmt: skip
    assert ext.server_name("example.org") == ext.Extension(0, expected)


def test_empty_server_name_is_what_a_server_sends():
    assert ext.parse_server_name(b"") is None


def test_server_name_without_a_host_name_entry():
    data = bytes(
        [
            0x00, 0x04,  # server_name_list length: 4
            0x07,  # name_type: 7 (not host_name)
            0x00, 0x01,  # name length: 1
            0x41,  # name
        ]
    )  # fmt: skip
    assert ext.parse_server_name(data) is None


@FAST
@given(st.lists(uint16s, min_size=1, max_size=127))
def test_supported_versions_client_round_trips(versions):
    e = ext.supported_versions_client(versions)
    assert e.type == ext.ET_SUPPORTED_VERSIONS
    assert ext.parse_supported_versions_client(e.data) == tuple(versions)


@FAST
@given(uint16s)
def test_supported_versions_server_and_hrr_key_share_read_one_uint16(value):
    data = value.to_bytes(2, "big")
    assert ext.parse_supported_versions_server(data) == value
    assert ext.parse_key_share_hrr(data) == value


@FAST
@given(st.lists(key_share_entries, max_size=5))
def test_key_share_client_round_trips(entries):
    e = ext.key_share_client(entries)
    assert e.type == ext.ET_KEY_SHARE
    assert ext.parse_key_share_client(e.data) == tuple(entries)


@FAST
@given(key_share_entries)
def test_key_share_server_round_trips(entry):
    data = Writer().uint16(entry.group).vector(2, entry.key_exchange).getvalue()
    assert ext.parse_key_share_server(data) == entry


@FAST
@given(alpn_lists)
def test_alpn_round_trips(protocols):
    e = ext.alpn(protocols)
    assert e.type == ext.ET_ALPN
    assert ext.parse_alpn(e.data) == tuple(protocols)


@FAST
@given(st.lists(st.binary(min_size=1, max_size=60), max_size=6))
def test_certificate_authorities_round_trip(names):
    e = ext.certificate_authorities(names)
    assert e.type == ext.ET_CERTIFICATE_AUTHORITIES
    assert ext.parse_certificate_authorities(e.data) == tuple(names)


@FAST
@given(st.sampled_from([ext.ET_SUPPORTED_GROUPS, ext.ET_SIGNATURE_ALGORITHMS]), st.lists(uint16s, max_size=40))
def test_uint16_list_extensions_round_trip(ext_type, values):
    e = ext.uint16_list_extension(ext_type, values)
    assert e.type == ext_type
    assert ext.parse_uint16_list(e.data, "list") == tuple(values)


@FAST
@given(st.binary(max_size=255))
def test_renegotiation_info_round_trips(verified):
    assert ext.parse_renegotiation_info(ext.renegotiation_info(verified).data) == verified


def test_fixed_extensions():
    assert ext.status_request_ocsp() == ext.Extension(5, b"\x01\x00\x00\x00\x00")
    assert ext.ec_point_formats() == ext.Extension(11, b"\x01\x00")
    assert ext.psk_key_exchange_modes() == ext.Extension(45, b"\x01\x01")
    assert ext.empty(ext.ET_POST_HANDSHAKE_AUTH) == ext.Extension(49, b"")


def test_find_returns_the_first_of_a_type_or_none():
    a, b = ext.Extension(1, b"a"), ext.Extension(1, b"b")
    assert ext.find((ext.Extension(0), a, b), 1) is a
    assert ext.find((a,), 2) is None
    assert ext.find(None, 1) is None


@FAST
@given(host_names, st.lists(uint16s, min_size=1, max_size=5), alpn_lists)
def test_client_hello_properties_read_the_typed_extensions(host, versions, protocols):
    hello = ClientHello(
        0x0303,
        bytes(32),
        b"",
        (0x1301,),
        extensions=(
            ext.server_name(host),
            ext.supported_versions_client(versions),
            ext.alpn(protocols),
            ext.empty(ext.ET_POST_HANDSHAKE_AUTH),
        ),
    )
    assert hello.server_name == host
    assert hello.supported_versions == tuple(versions)
    assert hello.alpn_protocols == tuple(protocols)
    assert hello.post_handshake_auth
    bare = ClientHello(0x0301, bytes(32), b"", (0x002F,), extensions=None)
    assert (bare.server_name, bare.supported_versions, bare.alpn_protocols) == (None, (0x0301,), ())
    assert not bare.post_handshake_auth


@pytest.mark.parametrize(
    ("parse", "data"),
    [
        (ext.parse_server_name, b"\x00\x00"),  # server_name_list<1..2^16-1> empty
        (ext.parse_server_name, b"\x00\x03\x00\x00\x00"),  # host_name<1..2^16-1> empty
        (ext.parse_supported_versions_client, b"\x00"),  # versions<2..254> empty
        (ext.parse_supported_versions_client, b"\x03\x03\x04\x03"),  # odd length
        (ext.parse_supported_versions_server, b"\x03\x04\x00"),  # trailing byte
        (ext.parse_key_share_client, b"\x00\x04\x00\x1d\x00\x00"),  # key_exchange<1..2^16-1> empty
        (ext.parse_key_share_server, b"\x00\x1d\x00\x05abc"),  # key_exchange overruns
        (ext.parse_alpn, b"\x00\x00"),  # protocol_name_list<2..2^16-1> empty
        (ext.parse_alpn, b"\x00\x02\x00\x00"),  # protocol_name<1..2^8-1> empty
        (ext.parse_certificate_authorities, b"\x00\x02\x00\x00"),  # DistinguishedName<1..2^16-1> empty
        (ext.parse_uint16_list, b"\x00\x01\x00"),  # odd length
        (ext.parse_renegotiation_info, b"\x02a"),  # overrun
    ],
)
def test_malformed_extension_payloads_raise_decode_error(parse, data):
    with pytest.raises(DecodeError):
        parse(data)
