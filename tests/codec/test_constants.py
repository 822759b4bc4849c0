"""Spot checks of the IANA registries in tlsmon.codec.constants against the RFCs."""

from __future__ import annotations

from enum import IntEnum

import pytest

from tlsmon.codec import constants
from tlsmon.codec.constants import (
    LEGACY_HASH_SIGNATURE,
    AlertDescription,
    AlertLevel,
    CertificateStatusType,
    CipherSuite,
    ClientCertificateType,
    ContentType,
    ECCurveType,
    ExtensionType,
    HandshakeType,
    KeyUpdateRequest,
    NamedGroup,
    ProtocolVersion,
    SignatureScheme,
    SuiteTraits,
    describe,
    is_grease,
    suite_traits,
    version_name,
)

REGISTRIES: list[type[IntEnum]] = [
    ContentType,
    HandshakeType,
    AlertLevel,
    AlertDescription,
    ProtocolVersion,
    CipherSuite,
    NamedGroup,
    SignatureScheme,
    ExtensionType,
    ClientCertificateType,
    CertificateStatusType,
    KeyUpdateRequest,
    ECCurveType,
]
ONE_BYTE = [
    ContentType,
    HandshakeType,
    AlertLevel,
    AlertDescription,
    ClientCertificateType,
    CertificateStatusType,
    KeyUpdateRequest,
    ECCurveType,
]
GREASE = [0x0A0A + 0x1010 * i for i in range(16)]


# --- the registries themselves ---------------------------------------------------------


@pytest.mark.parametrize("enum_cls", REGISTRIES, ids=lambda c: c.__name__)
def test_no_duplicate_values(enum_cls: type[IntEnum]) -> None:
    # An IntEnum silently turns a repeated value into an alias; __members__ shows them.
    values = [member.value for member in enum_cls.__members__.values()]
    assert len(set(values)) == len(enum_cls.__members__)


@pytest.mark.parametrize("enum_cls", ONE_BYTE, ids=lambda c: c.__name__)
def test_one_byte_registries_fit_in_a_byte(enum_cls: type[IntEnum]) -> None:
    assert all(0 <= member <= 0xFF for member in enum_cls)


@pytest.mark.parametrize("enum_cls", sorted(set(REGISTRIES) - set(ONE_BYTE), key=lambda c: c.__name__))
def test_two_byte_registries_hold_no_grease(enum_cls: type[IntEnum]) -> None:
    assert all(0 <= member <= 0xFFFF and not is_grease(member) for member in enum_cls)


def test_all_is_exported() -> None:
    for name in constants.__all__:
        assert hasattr(constants, name), name


def test_content_types() -> None:  # RFC 8446 §5.1
    assert ContentType.change_cipher_spec == 20
    assert ContentType.alert == 21
    assert ContentType.handshake == 22
    assert ContentType.application_data == 23
    assert ContentType.heartbeat == 24


@pytest.mark.parametrize(
    ("member", "value"),
    [
        (HandshakeType.hello_request, 0),
        (HandshakeType.client_hello, 1),
        (HandshakeType.server_hello, 2),
        (HandshakeType.new_session_ticket, 4),
        (HandshakeType.encrypted_extensions, 8),
        (HandshakeType.certificate, 11),
        (HandshakeType.certificate_request, 13),
        (HandshakeType.server_hello_done, 14),
        (HandshakeType.certificate_verify, 15),
        (HandshakeType.client_key_exchange, 16),
        (HandshakeType.finished, 20),
        (HandshakeType.certificate_status, 22),
        (HandshakeType.key_update, 24),
        (HandshakeType.compressed_certificate, 25),
        (HandshakeType.message_hash, 254),
    ],
)
def test_handshake_types(member: HandshakeType, value: int) -> None:
    assert member == value


@pytest.mark.parametrize(
    ("member", "value"),
    [
        (AlertLevel.warning, 1),
        (AlertLevel.fatal, 2),
        (AlertDescription.close_notify, 0),
        (AlertDescription.unexpected_message, 10),
        (AlertDescription.bad_record_mac, 20),
        (AlertDescription.handshake_failure, 40),
        (AlertDescription.bad_certificate, 42),
        (AlertDescription.certificate_expired, 45),
        (AlertDescription.unknown_ca, 48),
        (AlertDescription.decode_error, 50),
        (AlertDescription.protocol_version, 70),
        (AlertDescription.insufficient_security, 71),
        (AlertDescription.inappropriate_fallback, 86),
        (AlertDescription.missing_extension, 109),
        (AlertDescription.unrecognized_name, 112),
        (AlertDescription.certificate_required, 116),
        (AlertDescription.no_application_protocol, 120),
        (AlertDescription.ech_required, 121),
    ],
)
def test_alerts(member: IntEnum, value: int) -> None:
    assert member == value


def test_alert_registry_is_complete() -> None:
    assert len(AlertDescription.__members__) == 37


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (0x0000, "TLS_NULL_WITH_NULL_NULL"),
        (0x0001, "TLS_RSA_WITH_NULL_MD5"),
        (0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5"),
        (0x0004, "TLS_RSA_WITH_RC4_128_MD5"),
        (0x0005, "TLS_RSA_WITH_RC4_128_SHA"),
        (0x0009, "TLS_RSA_WITH_DES_CBC_SHA"),
        (0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
        (0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA"),
        (0x0018, "TLS_DH_anon_WITH_RC4_128_MD5"),
        (0x001E, "TLS_KRB5_WITH_DES_CBC_SHA"),
        (0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA"),
        (0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"),
        (0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256"),
        (0x0041, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA"),
        (0x008A, "TLS_PSK_WITH_RC4_128_SHA"),
        (0x0096, "TLS_RSA_WITH_SEED_CBC_SHA"),
        (0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256"),
        (0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"),
        (0x00FF, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"),
        (0x1301, "TLS_AES_128_GCM_SHA256"),
        (0x1302, "TLS_AES_256_GCM_SHA384"),
        (0x1303, "TLS_CHACHA20_POLY1305_SHA256"),
        (0x1304, "TLS_AES_128_CCM_SHA256"),
        (0x1305, "TLS_AES_128_CCM_8_SHA256"),
        (0x5600, "TLS_FALLBACK_SCSV"),
        (0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"),
        (0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
        (0xC01D, "TLS_SRP_SHA_WITH_AES_128_CBC_SHA"),
        (0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
        (0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
        (0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
        (0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
        (0xC03C, "TLS_RSA_WITH_ARIA_128_CBC_SHA256"),
        (0xC072, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256"),
        (0xC09C, "TLS_RSA_WITH_AES_128_CCM"),
        (0xC0AC, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM"),
        (0xC0B0, "TLS_ECCPWD_WITH_AES_128_GCM_SHA256"),
        (0xC100, "TLS_GOSTR341112_256_WITH_KUZNYECHIK_CTR_OMAC"),
        (0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
        (0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
        (0xD001, "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256"),
        (0xD005, "TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256"),
    ],
)
def test_cipher_suites(value: int, name: str) -> None:
    assert CipherSuite(value).name == name
    assert CipherSuite[name] == value


def test_cipher_suite_registry_is_complete() -> None:
    assert len(CipherSuite.__members__) > 300
    # Reserved and unassigned code points are not members.
    for value in (0x001C, 0x001D, 0x0047, 0x00C8, 0x1300, 0x5601, 0xC0B6, 0xD004, 0xFF00):
        assert value not in CipherSuite._value2member_map_


def test_cipher_suite_names_follow_the_iana_form() -> None:
    for name in CipherSuite.__members__:
        assert name.startswith("TLS_"), name


@pytest.mark.parametrize(
    ("member", "value"),
    [
        (NamedGroup.sect163k1, 1),
        (NamedGroup.secp256r1, 23),
        (NamedGroup.secp384r1, 24),
        (NamedGroup.secp521r1, 25),
        (NamedGroup.x25519, 29),
        (NamedGroup.x448, 30),
        (NamedGroup.brainpoolP256r1tls13, 31),
        (NamedGroup.ffdhe2048, 256),
        (NamedGroup.ffdhe8192, 260),
        (NamedGroup.X25519MLKEM768, 4588),
        (NamedGroup.SecP256r1MLKEM768, 0x11EB),
        (NamedGroup.SecP384r1MLKEM1024, 0x11ED),
        (NamedGroup.X25519Kyber768Draft00, 0x6399),
        (NamedGroup.arbitrary_explicit_prime_curves, 0xFF01),
        (NamedGroup.arbitrary_explicit_char2_curves, 0xFF02),
    ],
)
def test_named_groups(member: NamedGroup, value: int) -> None:
    assert member == value


@pytest.mark.parametrize(
    ("member", "value"),
    [
        (SignatureScheme.rsa_pkcs1_sha1, 0x0201),
        (SignatureScheme.ecdsa_sha1, 0x0203),
        (SignatureScheme.rsa_pkcs1_sha256, 0x0401),
        (SignatureScheme.ecdsa_secp256r1_sha256, 0x0403),
        (SignatureScheme.rsa_pkcs1_sha384, 0x0501),
        (SignatureScheme.ecdsa_secp384r1_sha384, 0x0503),
        (SignatureScheme.rsa_pkcs1_sha512, 0x0601),
        (SignatureScheme.ecdsa_secp521r1_sha512, 0x0603),
        (SignatureScheme.rsa_pss_rsae_sha256, 0x0804),
        (SignatureScheme.rsa_pss_rsae_sha512, 0x0806),
        (SignatureScheme.ed25519, 0x0807),
        (SignatureScheme.ed448, 0x0808),
        (SignatureScheme.rsa_pss_pss_sha256, 0x0809),
        (SignatureScheme.rsa_pss_pss_sha512, 0x080B),
        (SignatureScheme.ecdsa_brainpoolP256r1tls13_sha256, 0x081A),
        (SignatureScheme.mldsa65, 0x0905),
    ],
)
def test_signature_schemes(member: SignatureScheme, value: int) -> None:
    assert member == value


def test_legacy_pairs_do_not_shadow_signature_schemes() -> None:
    assert not set(LEGACY_HASH_SIGNATURE) & set(SignatureScheme._value2member_map_)
    # RFC 5246 §7.4.1.4.1: hash byte first (md5 = 1, sha256 = 4), then signature (rsa = 1, dsa = 2).
    assert LEGACY_HASH_SIGNATURE[0x0101] == "rsa_md5"
    assert LEGACY_HASH_SIGNATURE[0x0402] == "dsa_sha256"


@pytest.mark.parametrize(
    ("member", "value"),
    [
        (ExtensionType.server_name, 0),
        (ExtensionType.max_fragment_length, 1),
        (ExtensionType.status_request, 5),
        (ExtensionType.supported_groups, 10),
        (ExtensionType.ec_point_formats, 11),
        (ExtensionType.signature_algorithms, 13),
        (ExtensionType.application_layer_protocol_negotiation, 16),
        (ExtensionType.signed_certificate_timestamp, 18),
        (ExtensionType.padding, 21),
        (ExtensionType.extended_master_secret, 23),
        (ExtensionType.compress_certificate, 27),
        (ExtensionType.session_ticket, 35),
        (ExtensionType.pre_shared_key, 41),
        (ExtensionType.supported_versions, 43),
        (ExtensionType.psk_key_exchange_modes, 45),
        (ExtensionType.certificate_authorities, 47),
        (ExtensionType.post_handshake_auth, 49),
        (ExtensionType.signature_algorithms_cert, 50),
        (ExtensionType.key_share, 51),
        (ExtensionType.quic_transport_parameters, 57),
        (ExtensionType.application_settings, 17513),
        (ExtensionType.encrypted_client_hello, 0xFE0D),
        (ExtensionType.renegotiation_info, 0xFF01),
    ],
)
def test_extension_types(member: ExtensionType, value: int) -> None:
    assert member == value


def test_small_registries() -> None:
    assert ClientCertificateType.rsa_sign == 1
    assert ClientCertificateType.fortezza_dms == 20
    assert ClientCertificateType.ecdsa_sign == 64
    assert ClientCertificateType.gost_sign512 == 68
    assert CertificateStatusType.ocsp == 1
    assert CertificateStatusType.ocsp_multi == 2
    assert KeyUpdateRequest.update_requested == 1
    assert ECCurveType.named_curve == 3


def test_protocol_versions() -> None:
    assert ProtocolVersion.SSLv2 == 0x0002
    assert ProtocolVersion.SSLv3 == 0x0300
    assert ProtocolVersion.TLSv1 == 0x0301
    assert ProtocolVersion.TLSv1_2 == 0x0303
    assert ProtocolVersion.TLSv1_3 == 0x0304


# --- naming helpers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (0x0002, "SSLv2"),
        (0x0300, "SSLv3"),
        (0x0301, "TLSv1.0"),
        (0x0302, "TLSv1.1"),
        (0x0303, "TLSv1.2"),
        (0x0304, "TLSv1.3"),
        (ProtocolVersion.TLSv1_3, "TLSv1.3"),
        (0x7F1C, "0x7f1c"),  # TLS 1.3 draft 28
        (0x0A0A, "0x0a0a"),  # GREASE
        (0xFEFD, "0xfefd"),  # DTLS 1.2
        (0x0000, "0x0000"),
    ],
)
def test_version_name(value: int, name: str) -> None:
    assert version_name(value) == name


def test_is_grease() -> None:
    assert [v for v in range(0x10000) if is_grease(v)] == GREASE
    assert not is_grease(-1)
    assert not is_grease(0x10A0A)


def test_describe_known_values() -> None:
    assert describe(CipherSuite, 0xC02F) == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
    assert describe(CipherSuite, CipherSuite.TLS_AES_128_GCM_SHA256) == "TLS_AES_128_GCM_SHA256"
    assert describe(AlertDescription, 116) == "certificate_required"
    assert describe(ExtensionType, 0) == "server_name"
    assert describe(NamedGroup, 29) == "x25519"
    assert describe(ProtocolVersion, 0x0303) == "TLSv1_2"


def test_describe_falls_back_to_hex() -> None:
    assert describe(CipherSuite, 0x1308) == "0x1308"
    assert describe(CipherSuite, 0xFF85) == "0xff85"
    assert describe(ExtensionType, 0x0028) == "0x0028"
    assert describe(NamedGroup, 0x0000) == "0x0000"
    assert describe(ProtocolVersion, 0x7F1C) == "0x7f1c"


@pytest.mark.parametrize("enum_cls", ONE_BYTE, ids=lambda c: c.__name__)
def test_describe_one_byte_registries_use_two_digits(enum_cls: type[IntEnum]) -> None:
    assert describe(enum_cls, 0xFB) == "0xfb"
    assert describe(enum_cls, 0xFA) == "0xfa"


@pytest.mark.parametrize("enum_cls", [CipherSuite, NamedGroup, SignatureScheme, ExtensionType, ProtocolVersion])
@pytest.mark.parametrize("value", GREASE)
def test_describe_grease(enum_cls: type[IntEnum], value: int) -> None:
    assert describe(enum_cls, value) == f"GREASE(0x{value:04x})"


def test_describe_grease_is_lower_case_hex() -> None:
    assert describe(CipherSuite, 0xDADA) == "GREASE(0xdada)"


def test_describe_signature_scheme_uses_legacy_pairs() -> None:
    assert describe(SignatureScheme, 0x0101) == "rsa_md5"
    assert describe(SignatureScheme, 0x0202) == "dsa_sha1"
    assert describe(SignatureScheme, 0x0402) == "dsa_sha256"
    assert describe(SignatureScheme, 0x0804) == "rsa_pss_rsae_sha256"
    assert describe(SignatureScheme, 0x0910) == "0x0910"
    assert describe(SignatureScheme, 0x1A1A) == "GREASE(0x1a1a)"
    # The legacy table is for signature schemes only.
    assert describe(CipherSuite, 0x0101) == "0x0101"


def test_describe_rejects_negative_values() -> None:
    with pytest.raises(ValueError):
        describe(CipherSuite, -1)


# --- cipher-suite traits ---------------------------------------------------------------


def test_every_suite_has_traits() -> None:
    for suite in CipherSuite:
        traits = suite_traits(suite)
        assert isinstance(traits, SuiteTraits)
        assert traits.name == suite.name


def test_unknown_suites_have_no_traits() -> None:
    assert suite_traits(0x0A0A) is None
    assert suite_traits(0x1308) is None
    assert suite_traits(0xFFFF) is None


def test_traits_are_frozen() -> None:
    traits = suite_traits(0xC02F)
    assert traits is not None
    with pytest.raises(AttributeError):
        traits.name = "x"  # type: ignore[misc]


def test_traits_of_null_suites() -> None:
    null_null = suite_traits(0x0000)
    assert null_null is not None
    assert null_null.is_null and null_null.is_anonymous and not null_null.forward_secret
    assert (null_null.key_exchange, null_null.encryption, null_null.mac) == ("none", "NULL", "NULL")
    rsa_null_md5 = suite_traits(0x0001)
    assert rsa_null_md5 is not None
    assert rsa_null_md5.is_null and rsa_null_md5.is_md5_mac and not rsa_null_md5.is_anonymous
    ecdhe_null = suite_traits(CipherSuite.TLS_ECDHE_RSA_WITH_NULL_SHA)
    assert ecdhe_null is not None
    assert ecdhe_null.is_null and ecdhe_null.forward_secret and ecdhe_null.mac == "SHA"


def test_traits_of_export_rc4_md5() -> None:  # 0x0003 TLS_RSA_EXPORT_WITH_RC4_40_MD5
    traits = suite_traits(0x0003)
    assert traits == SuiteTraits(
        name="TLS_RSA_EXPORT_WITH_RC4_40_MD5",
        key_exchange="RSA",
        authentication="RSA",
        encryption="RC4_40",
        mac="MD5",
        is_export=True,
        is_rc4=True,
        is_md5_mac=True,
    )


def test_traits_of_anonymous_rc4_md5() -> None:  # 0x0018 TLS_DH_anon_WITH_RC4_128_MD5
    traits = suite_traits(0x0018)
    assert traits is not None
    assert (traits.key_exchange, traits.authentication) == ("DH", "anon")
    assert (traits.encryption, traits.mac) == ("RC4_128", "MD5")
    assert traits.is_anonymous and traits.is_rc4 and traits.is_md5_mac and not traits.is_export
    assert traits.forward_secret  # ephemeral, though unauthenticated


def test_traits_of_des_suites() -> None:
    des = suite_traits(0x0009)  # TLS_RSA_WITH_DES_CBC_SHA
    des40 = suite_traits(0x0014)  # TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA
    krb5_des40 = suite_traits(0x0026)  # TLS_KRB5_EXPORT_WITH_DES_CBC_40_SHA
    assert des is not None and des40 is not None and krb5_des40 is not None
    assert des.is_des and not des.is_3des and not des.is_export
    assert des40.is_des and des40.is_export and des40.forward_secret and des40.encryption == "DES40_CBC"
    assert krb5_des40.is_des and krb5_des40.is_export and krb5_des40.key_exchange == "KRB5"


def test_traits_of_3des() -> None:  # 0x000A TLS_RSA_WITH_3DES_EDE_CBC_SHA
    traits = suite_traits(0x000A)
    assert traits is not None
    assert traits.is_3des and not traits.is_des
    assert (traits.encryption, traits.mac) == ("3DES_EDE_CBC", "SHA")
    assert not traits.forward_secret


def test_traits_of_ecdhe_is_forward_secret() -> None:  # 0xC02B TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    traits = suite_traits(0xC02B)
    assert traits == SuiteTraits(
        name="TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        key_exchange="ECDHE",
        authentication="ECDSA",
        encryption="AES_128_GCM",
        mac="AEAD",
        forward_secret=True,
    )
    chacha = suite_traits(0xCCA8)
    assert chacha is not None
    assert chacha.forward_secret and chacha.encryption == "CHACHA20_POLY1305" and chacha.mac == "AEAD"
    dhe = suite_traits(0x0033)  # TLS_DHE_RSA_WITH_AES_128_CBC_SHA
    assert dhe is not None
    assert dhe.forward_secret and dhe.key_exchange == "DHE" and dhe.mac == "SHA"


@pytest.mark.parametrize(
    "code",
    [
        0x002F,  # TLS_RSA_WITH_AES_128_CBC_SHA
        0x009C,  # TLS_RSA_WITH_AES_128_GCM_SHA256
        0x0030,  # TLS_DH_DSS_WITH_AES_128_CBC_SHA: static DH
        0xC02D,  # TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256: static ECDH
        0x008C,  # TLS_PSK_WITH_AES_128_CBC_SHA
        0x0094,  # TLS_RSA_PSK_WITH_AES_128_CBC_SHA
    ],
)
def test_static_key_exchanges_are_not_forward_secret(code: int) -> None:
    traits = suite_traits(code)
    assert traits is not None
    assert not traits.forward_secret


def test_traits_of_plain_rsa() -> None:
    traits = suite_traits(0x003C)  # TLS_RSA_WITH_AES_128_CBC_SHA256
    assert traits is not None
    assert (traits.key_exchange, traits.authentication, traits.encryption, traits.mac) == (
        "RSA",
        "RSA",
        "AES_128_CBC",
        "SHA256",
    )
    assert not (traits.forward_secret or traits.is_tls13 or traits.is_null or traits.is_anonymous)


@pytest.mark.parametrize("code", range(0x1301, 0x1306))
def test_traits_of_tls13_suites(code: int) -> None:
    traits = suite_traits(code)
    assert traits is not None
    assert traits.is_tls13 and traits.forward_secret
    assert (traits.key_exchange, traits.authentication, traits.mac) == ("any", "any", "AEAD")
    assert not (traits.is_null or traits.is_anonymous or traits.is_export or traits.is_scsv)


def test_traits_of_tls13_details() -> None:
    aes = suite_traits(0x1302)
    ccm8 = suite_traits(0x1305)
    integrity_only = suite_traits(0xC0B4)  # RFC 9150 TLS_SHA256_SHA256
    gost13 = suite_traits(0xC103)  # RFC 9367, a TLS 1.3 suite despite its "_WITH_"
    assert aes is not None and ccm8 is not None and integrity_only is not None and gost13 is not None
    assert aes.encryption == "AES_256_GCM"
    assert ccm8.encryption == "AES_128_CCM_8"
    assert integrity_only.is_tls13 and integrity_only.is_null and integrity_only.mac == "SHA256"
    assert gost13.is_tls13 and gost13.key_exchange == "any" and gost13.encryption == "KUZNYECHIK_MGM_L"


def test_traits_of_scsvs() -> None:
    for code in (0x00FF, 0x5600):
        traits = suite_traits(code)
        assert traits is not None
        assert traits.is_scsv
        assert not (traits.is_null or traits.is_anonymous or traits.forward_secret or traits.is_tls13)


def test_traits_of_psk_and_srp() -> None:
    ecdhe_psk = suite_traits(0xD001)  # TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256
    psk_dhe = suite_traits(0xC0AA)  # TLS_PSK_DHE_WITH_AES_128_CCM_8
    srp_rsa = suite_traits(0xC01E)  # TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA
    assert ecdhe_psk is not None and psk_dhe is not None and srp_rsa is not None
    assert (ecdhe_psk.key_exchange, ecdhe_psk.authentication) == ("ECDHE", "PSK")
    assert (psk_dhe.key_exchange, psk_dhe.authentication, psk_dhe.mac) == ("DHE", "PSK", "AEAD")
    assert (srp_rsa.key_exchange, srp_rsa.authentication) == ("SRP", "RSA")


def test_flags_agree_with_names_across_the_registry() -> None:
    for suite in CipherSuite:
        traits = suite_traits(suite)
        assert traits is not None
        name = suite.name
        assert traits.is_export == ("_EXPORT_" in name)
        assert traits.is_rc4 == ("_RC4_" in name)
        assert traits.is_3des == ("_3DES_" in name)
        assert traits.is_anonymous == ("_anon_" in name or name == "TLS_NULL_WITH_NULL_NULL")
        assert traits.is_md5_mac == name.endswith("_MD5")
        if traits.is_tls13:
            assert traits.forward_secret
