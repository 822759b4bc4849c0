"""IANA TLS registries as ``IntEnum``s, plus helpers that name raw wire values.

Wire values stay raw ints everywhere in the codec (a peer can send anything); these
enums only give them names. ``describe()`` never fails on an unknown value: it falls
back to hex, so a code point we have not heard of still prints readably.
``suite_traits()`` derives what a policy check needs to know about a cipher suite
from its IANA name.

Sources: the IANA "Transport Layer Security (TLS) Parameters" and "TLS
ExtensionType Values" registries (https://www.iana.org/assignments/tls-parameters/,
https://www.iana.org/assignments/tls-extensiontype-values/). Member names are the
IANA descriptions, minus suffixes such as "_RESERVED" or "(OBSOLETE)" that are not
valid identifiers or that IANA added after the fact.

Pure data and pure functions: no I/O here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import IntEnum

__all__ = [
    "ContentType",
    "HandshakeType",
    "AlertLevel",
    "AlertDescription",
    "ProtocolVersion",
    "CipherSuite",
    "NamedGroup",
    "SignatureScheme",
    "LEGACY_HASH_SIGNATURE",
    "ExtensionType",
    "ClientCertificateType",
    "CertificateStatusType",
    "KeyUpdateRequest",
    "ECCurveType",
    "SuiteTraits",
    "describe",
    "is_grease",
    "suite_traits",
    "version_name",
]


class ContentType(IntEnum):
    """TLS record content types (RFC 8446 §5.1; IANA TLS ContentType). One byte."""

    change_cipher_spec = 20
    alert = 21
    handshake = 22
    application_data = 23
    heartbeat = 24  # RFC 6520
    tls12_cid = 25  # RFC 9146
    ack = 26  # RFC 9147 (DTLS 1.3)


class HandshakeType(IntEnum):
    """Handshake message types (RFC 8446 §4; IANA TLS HandshakeType). One byte."""

    hello_request = 0
    client_hello = 1
    server_hello = 2
    hello_verify_request = 3  # DTLS, RFC 6347
    new_session_ticket = 4
    end_of_early_data = 5
    hello_retry_request = 6  # draft TLS 1.3 only; RFC 8446 sends a ServerHello
    encrypted_extensions = 8
    request_connection_id = 9  # RFC 9147
    new_connection_id = 10  # RFC 9147
    certificate = 11
    server_key_exchange = 12
    certificate_request = 13
    server_hello_done = 14
    certificate_verify = 15
    client_key_exchange = 16
    client_certificate_request = 17  # RFC 9261
    finished = 20
    certificate_url = 21  # RFC 6066
    certificate_status = 22  # RFC 6066
    supplemental_data = 23  # RFC 4680
    key_update = 24
    compressed_certificate = 25  # RFC 8879
    ekt_key = 26  # RFC 8870
    message_hash = 254  # RFC 8446 §4.4.1, never on the wire


class AlertLevel(IntEnum):
    """Alert levels (RFC 5246 §7.2). One byte."""

    warning = 1
    fatal = 2


class AlertDescription(IntEnum):
    """Alert descriptions (RFC 8446 §6; IANA TLS Alerts). One byte."""

    close_notify = 0
    unexpected_message = 10
    bad_record_mac = 20
    decryption_failed = 21  # RFC 5246: reserved, SSLv3/TLS 1.0 only
    record_overflow = 22
    decompression_failure = 30  # reserved since TLS 1.3
    handshake_failure = 40
    no_certificate = 41  # SSLv3 only
    bad_certificate = 42
    unsupported_certificate = 43
    certificate_revoked = 44
    certificate_expired = 45
    certificate_unknown = 46
    illegal_parameter = 47
    unknown_ca = 48
    access_denied = 49
    decode_error = 50
    decrypt_error = 51
    too_many_cids_requested = 52  # RFC 9147
    export_restriction = 60  # reserved since TLS 1.1
    protocol_version = 70
    insufficient_security = 71
    internal_error = 80
    inappropriate_fallback = 86  # RFC 7507
    user_canceled = 90
    no_renegotiation = 100  # reserved since TLS 1.3
    missing_extension = 109
    unsupported_extension = 110
    certificate_unobtainable = 111  # RFC 6066, reserved since TLS 1.3
    unrecognized_name = 112
    bad_certificate_status_response = 113
    bad_certificate_hash_value = 114  # RFC 6066, reserved since TLS 1.3
    unknown_psk_identity = 115
    certificate_required = 116
    general_error = 117  # RFC 8446bis
    no_application_protocol = 120  # RFC 7301
    ech_required = 121  # Encrypted Client Hello


class ProtocolVersion(IntEnum):
    """Protocol versions as they appear in records and hellos. Two bytes.

    TLS 1.3 drafts (0x7fXX) and GREASE values are deliberately absent; ``version_name``
    shows them as hex.
    """

    SSLv2 = 0x0002
    SSLv3 = 0x0300
    TLSv1 = 0x0301
    TLSv1_1 = 0x0302
    TLSv1_2 = 0x0303
    TLSv1_3 = 0x0304


class CipherSuite(IntEnum):
    """Every assigned code point of the IANA "TLS Cipher Suites" registry. Two bytes.

    Reserved ranges and the GREASE values (RFC 8701) are not members; ``describe``
    names them as hex or ``GREASE(0x....)``. The comment names the defining document.
    """

    TLS_NULL_WITH_NULL_NULL = 0x0000  # RFC 5246
    TLS_RSA_WITH_NULL_MD5 = 0x0001  # RFC 5246
    TLS_RSA_WITH_NULL_SHA = 0x0002  # RFC 5246
    TLS_RSA_EXPORT_WITH_RC4_40_MD5 = 0x0003  # RFC 4346
    TLS_RSA_WITH_RC4_128_MD5 = 0x0004  # RFC 5246
    TLS_RSA_WITH_RC4_128_SHA = 0x0005  # RFC 5246
    TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5 = 0x0006  # RFC 4346
    TLS_RSA_WITH_IDEA_CBC_SHA = 0x0007  # RFC 5469
    TLS_RSA_EXPORT_WITH_DES40_CBC_SHA = 0x0008  # RFC 4346
    TLS_RSA_WITH_DES_CBC_SHA = 0x0009  # RFC 5469
    TLS_RSA_WITH_3DES_EDE_CBC_SHA = 0x000A  # RFC 5246
    TLS_DH_DSS_EXPORT_WITH_DES40_CBC_SHA = 0x000B  # RFC 4346
    TLS_DH_DSS_WITH_DES_CBC_SHA = 0x000C  # RFC 5469
    TLS_DH_DSS_WITH_3DES_EDE_CBC_SHA = 0x000D  # RFC 5246
    TLS_DH_RSA_EXPORT_WITH_DES40_CBC_SHA = 0x000E  # RFC 4346
    TLS_DH_RSA_WITH_DES_CBC_SHA = 0x000F  # RFC 5469
    TLS_DH_RSA_WITH_3DES_EDE_CBC_SHA = 0x0010  # RFC 5246
    TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA = 0x0011  # RFC 4346
    TLS_DHE_DSS_WITH_DES_CBC_SHA = 0x0012  # RFC 5469
    TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA = 0x0013  # RFC 5246
    TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA = 0x0014  # RFC 4346
    TLS_DHE_RSA_WITH_DES_CBC_SHA = 0x0015  # RFC 5469
    TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA = 0x0016  # RFC 5246
    TLS_DH_anon_EXPORT_WITH_RC4_40_MD5 = 0x0017  # RFC 4346
    TLS_DH_anon_WITH_RC4_128_MD5 = 0x0018  # RFC 5246
    TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA = 0x0019  # RFC 4346
    TLS_DH_anon_WITH_DES_CBC_SHA = 0x001A  # RFC 5469
    TLS_DH_anon_WITH_3DES_EDE_CBC_SHA = 0x001B  # RFC 5246
    TLS_KRB5_WITH_DES_CBC_SHA = 0x001E  # RFC 2712
    TLS_KRB5_WITH_3DES_EDE_CBC_SHA = 0x001F  # RFC 2712
    TLS_KRB5_WITH_RC4_128_SHA = 0x0020  # RFC 2712
    TLS_KRB5_WITH_IDEA_CBC_SHA = 0x0021  # RFC 2712
    TLS_KRB5_WITH_DES_CBC_MD5 = 0x0022  # RFC 2712
    TLS_KRB5_WITH_3DES_EDE_CBC_MD5 = 0x0023  # RFC 2712
    TLS_KRB5_WITH_RC4_128_MD5 = 0x0024  # RFC 2712
    TLS_KRB5_WITH_IDEA_CBC_MD5 = 0x0025  # RFC 2712
    TLS_KRB5_EXPORT_WITH_DES_CBC_40_SHA = 0x0026  # RFC 2712
    TLS_KRB5_EXPORT_WITH_RC2_CBC_40_SHA = 0x0027  # RFC 2712
    TLS_KRB5_EXPORT_WITH_RC4_40_SHA = 0x0028  # RFC 2712
    TLS_KRB5_EXPORT_WITH_DES_CBC_40_MD5 = 0x0029  # RFC 2712
    TLS_KRB5_EXPORT_WITH_RC2_CBC_40_MD5 = 0x002A  # RFC 2712
    TLS_KRB5_EXPORT_WITH_RC4_40_MD5 = 0x002B  # RFC 2712
    TLS_PSK_WITH_NULL_SHA = 0x002C  # RFC 4785
    TLS_DHE_PSK_WITH_NULL_SHA = 0x002D  # RFC 4785
    TLS_RSA_PSK_WITH_NULL_SHA = 0x002E  # RFC 4785
    TLS_RSA_WITH_AES_128_CBC_SHA = 0x002F  # RFC 5246
    TLS_DH_DSS_WITH_AES_128_CBC_SHA = 0x0030  # RFC 5246
    TLS_DH_RSA_WITH_AES_128_CBC_SHA = 0x0031  # RFC 5246
    TLS_DHE_DSS_WITH_AES_128_CBC_SHA = 0x0032  # RFC 5246
    TLS_DHE_RSA_WITH_AES_128_CBC_SHA = 0x0033  # RFC 5246
    TLS_DH_anon_WITH_AES_128_CBC_SHA = 0x0034  # RFC 5246
    TLS_RSA_WITH_AES_256_CBC_SHA = 0x0035  # RFC 5246
    TLS_DH_DSS_WITH_AES_256_CBC_SHA = 0x0036  # RFC 5246
    TLS_DH_RSA_WITH_AES_256_CBC_SHA = 0x0037  # RFC 5246
    TLS_DHE_DSS_WITH_AES_256_CBC_SHA = 0x0038  # RFC 5246
    TLS_DHE_RSA_WITH_AES_256_CBC_SHA = 0x0039  # RFC 5246
    TLS_DH_anon_WITH_AES_256_CBC_SHA = 0x003A  # RFC 5246
    TLS_RSA_WITH_NULL_SHA256 = 0x003B  # RFC 5246
    TLS_RSA_WITH_AES_128_CBC_SHA256 = 0x003C  # RFC 5246
    TLS_RSA_WITH_AES_256_CBC_SHA256 = 0x003D  # RFC 5246
    TLS_DH_DSS_WITH_AES_128_CBC_SHA256 = 0x003E  # RFC 5246
    TLS_DH_RSA_WITH_AES_128_CBC_SHA256 = 0x003F  # RFC 5246
    TLS_DHE_DSS_WITH_AES_128_CBC_SHA256 = 0x0040  # RFC 5246
    TLS_RSA_WITH_CAMELLIA_128_CBC_SHA = 0x0041  # RFC 5932
    TLS_DH_DSS_WITH_CAMELLIA_128_CBC_SHA = 0x0042  # RFC 5932
    TLS_DH_RSA_WITH_CAMELLIA_128_CBC_SHA = 0x0043  # RFC 5932
    TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA = 0x0044  # RFC 5932
    TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA = 0x0045  # RFC 5932
    TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA = 0x0046  # RFC 5932
    TLS_DHE_RSA_WITH_AES_128_CBC_SHA256 = 0x0067  # RFC 5246
    TLS_DH_DSS_WITH_AES_256_CBC_SHA256 = 0x0068  # RFC 5246
    TLS_DH_RSA_WITH_AES_256_CBC_SHA256 = 0x0069  # RFC 5246
    TLS_DHE_DSS_WITH_AES_256_CBC_SHA256 = 0x006A  # RFC 5246
    TLS_DHE_RSA_WITH_AES_256_CBC_SHA256 = 0x006B  # RFC 5246
    TLS_DH_anon_WITH_AES_128_CBC_SHA256 = 0x006C  # RFC 5246
    TLS_DH_anon_WITH_AES_256_CBC_SHA256 = 0x006D  # RFC 5246
    TLS_RSA_WITH_CAMELLIA_256_CBC_SHA = 0x0084  # RFC 5932
    TLS_DH_DSS_WITH_CAMELLIA_256_CBC_SHA = 0x0085  # RFC 5932
    TLS_DH_RSA_WITH_CAMELLIA_256_CBC_SHA = 0x0086  # RFC 5932
    TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA = 0x0087  # RFC 5932
    TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA = 0x0088  # RFC 5932
    TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA = 0x0089  # RFC 5932
    TLS_PSK_WITH_RC4_128_SHA = 0x008A  # RFC 4279
    TLS_PSK_WITH_3DES_EDE_CBC_SHA = 0x008B  # RFC 4279
    TLS_PSK_WITH_AES_128_CBC_SHA = 0x008C  # RFC 4279
    TLS_PSK_WITH_AES_256_CBC_SHA = 0x008D  # RFC 4279
    TLS_DHE_PSK_WITH_RC4_128_SHA = 0x008E  # RFC 4279
    TLS_DHE_PSK_WITH_3DES_EDE_CBC_SHA = 0x008F  # RFC 4279
    TLS_DHE_PSK_WITH_AES_128_CBC_SHA = 0x0090  # RFC 4279
    TLS_DHE_PSK_WITH_AES_256_CBC_SHA = 0x0091  # RFC 4279
    TLS_RSA_PSK_WITH_RC4_128_SHA = 0x0092  # RFC 4279
    TLS_RSA_PSK_WITH_3DES_EDE_CBC_SHA = 0x0093  # RFC 4279
    TLS_RSA_PSK_WITH_AES_128_CBC_SHA = 0x0094  # RFC 4279
    TLS_RSA_PSK_WITH_AES_256_CBC_SHA = 0x0095  # RFC 4279
    TLS_RSA_WITH_SEED_CBC_SHA = 0x0096  # RFC 4162
    TLS_DH_DSS_WITH_SEED_CBC_SHA = 0x0097  # RFC 4162
    TLS_DH_RSA_WITH_SEED_CBC_SHA = 0x0098  # RFC 4162
    TLS_DHE_DSS_WITH_SEED_CBC_SHA = 0x0099  # RFC 4162
    TLS_DHE_RSA_WITH_SEED_CBC_SHA = 0x009A  # RFC 4162
    TLS_DH_anon_WITH_SEED_CBC_SHA = 0x009B  # RFC 4162
    TLS_RSA_WITH_AES_128_GCM_SHA256 = 0x009C  # RFC 5288
    TLS_RSA_WITH_AES_256_GCM_SHA384 = 0x009D  # RFC 5288
    TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 = 0x009E  # RFC 5288
    TLS_DHE_RSA_WITH_AES_256_GCM_SHA384 = 0x009F  # RFC 5288
    TLS_DH_RSA_WITH_AES_128_GCM_SHA256 = 0x00A0  # RFC 5288
    TLS_DH_RSA_WITH_AES_256_GCM_SHA384 = 0x00A1  # RFC 5288
    TLS_DHE_DSS_WITH_AES_128_GCM_SHA256 = 0x00A2  # RFC 5288
    TLS_DHE_DSS_WITH_AES_256_GCM_SHA384 = 0x00A3  # RFC 5288
    TLS_DH_DSS_WITH_AES_128_GCM_SHA256 = 0x00A4  # RFC 5288
    TLS_DH_DSS_WITH_AES_256_GCM_SHA384 = 0x00A5  # RFC 5288
    TLS_DH_anon_WITH_AES_128_GCM_SHA256 = 0x00A6  # RFC 5288
    TLS_DH_anon_WITH_AES_256_GCM_SHA384 = 0x00A7  # RFC 5288
    TLS_PSK_WITH_AES_128_GCM_SHA256 = 0x00A8  # RFC 5487
    TLS_PSK_WITH_AES_256_GCM_SHA384 = 0x00A9  # RFC 5487
    TLS_DHE_PSK_WITH_AES_128_GCM_SHA256 = 0x00AA  # RFC 5487
    TLS_DHE_PSK_WITH_AES_256_GCM_SHA384 = 0x00AB  # RFC 5487
    TLS_RSA_PSK_WITH_AES_128_GCM_SHA256 = 0x00AC  # RFC 5487
    TLS_RSA_PSK_WITH_AES_256_GCM_SHA384 = 0x00AD  # RFC 5487
    TLS_PSK_WITH_AES_128_CBC_SHA256 = 0x00AE  # RFC 5487
    TLS_PSK_WITH_AES_256_CBC_SHA384 = 0x00AF  # RFC 5487
    TLS_PSK_WITH_NULL_SHA256 = 0x00B0  # RFC 5487
    TLS_PSK_WITH_NULL_SHA384 = 0x00B1  # RFC 5487
    TLS_DHE_PSK_WITH_AES_128_CBC_SHA256 = 0x00B2  # RFC 5487
    TLS_DHE_PSK_WITH_AES_256_CBC_SHA384 = 0x00B3  # RFC 5487
    TLS_DHE_PSK_WITH_NULL_SHA256 = 0x00B4  # RFC 5487
    TLS_DHE_PSK_WITH_NULL_SHA384 = 0x00B5  # RFC 5487
    TLS_RSA_PSK_WITH_AES_128_CBC_SHA256 = 0x00B6  # RFC 5487
    TLS_RSA_PSK_WITH_AES_256_CBC_SHA384 = 0x00B7  # RFC 5487
    TLS_RSA_PSK_WITH_NULL_SHA256 = 0x00B8  # RFC 5487
    TLS_RSA_PSK_WITH_NULL_SHA384 = 0x00B9  # RFC 5487
    TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256 = 0x00BA  # RFC 5932
    TLS_DH_DSS_WITH_CAMELLIA_128_CBC_SHA256 = 0x00BB  # RFC 5932
    TLS_DH_RSA_WITH_CAMELLIA_128_CBC_SHA256 = 0x00BC  # RFC 5932
    TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA256 = 0x00BD  # RFC 5932
    TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256 = 0x00BE  # RFC 5932
    TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA256 = 0x00BF  # RFC 5932
    TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256 = 0x00C0  # RFC 5932
    TLS_DH_DSS_WITH_CAMELLIA_256_CBC_SHA256 = 0x00C1  # RFC 5932
    TLS_DH_RSA_WITH_CAMELLIA_256_CBC_SHA256 = 0x00C2  # RFC 5932
    TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA256 = 0x00C3  # RFC 5932
    TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256 = 0x00C4  # RFC 5932
    TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA256 = 0x00C5  # RFC 5932
    TLS_SM4_GCM_SM3 = 0x00C6  # RFC 8998
    TLS_SM4_CCM_SM3 = 0x00C7  # RFC 8998
    TLS_EMPTY_RENEGOTIATION_INFO_SCSV = 0x00FF  # RFC 5746
    TLS_AES_128_GCM_SHA256 = 0x1301  # RFC 8446
    TLS_AES_256_GCM_SHA384 = 0x1302  # RFC 8446
    TLS_CHACHA20_POLY1305_SHA256 = 0x1303  # RFC 8446
    TLS_AES_128_CCM_SHA256 = 0x1304  # RFC 8446
    TLS_AES_128_CCM_8_SHA256 = 0x1305  # RFC 8446
    TLS_AEGIS_256_SHA512 = 0x1306  # draft-irtf-cfrg-aegis-aead
    TLS_AEGIS_128L_SHA256 = 0x1307  # draft-irtf-cfrg-aegis-aead
    TLS_FALLBACK_SCSV = 0x5600  # RFC 7507
    TLS_ECDH_ECDSA_WITH_NULL_SHA = 0xC001  # RFC 8422
    TLS_ECDH_ECDSA_WITH_RC4_128_SHA = 0xC002  # RFC 8422
    TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA = 0xC003  # RFC 8422
    TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA = 0xC004  # RFC 8422
    TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA = 0xC005  # RFC 8422
    TLS_ECDHE_ECDSA_WITH_NULL_SHA = 0xC006  # RFC 8422
    TLS_ECDHE_ECDSA_WITH_RC4_128_SHA = 0xC007  # RFC 8422
    TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA = 0xC008  # RFC 8422
    TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA = 0xC009  # RFC 8422
    TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA = 0xC00A  # RFC 8422
    TLS_ECDH_RSA_WITH_NULL_SHA = 0xC00B  # RFC 8422
    TLS_ECDH_RSA_WITH_RC4_128_SHA = 0xC00C  # RFC 8422
    TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA = 0xC00D  # RFC 8422
    TLS_ECDH_RSA_WITH_AES_128_CBC_SHA = 0xC00E  # RFC 8422
    TLS_ECDH_RSA_WITH_AES_256_CBC_SHA = 0xC00F  # RFC 8422
    TLS_ECDHE_RSA_WITH_NULL_SHA = 0xC010  # RFC 8422
    TLS_ECDHE_RSA_WITH_RC4_128_SHA = 0xC011  # RFC 8422
    TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA = 0xC012  # RFC 8422
    TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA = 0xC013  # RFC 8422
    TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA = 0xC014  # RFC 8422
    TLS_ECDH_anon_WITH_NULL_SHA = 0xC015  # RFC 8422
    TLS_ECDH_anon_WITH_RC4_128_SHA = 0xC016  # RFC 8422
    TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA = 0xC017  # RFC 8422
    TLS_ECDH_anon_WITH_AES_128_CBC_SHA = 0xC018  # RFC 8422
    TLS_ECDH_anon_WITH_AES_256_CBC_SHA = 0xC019  # RFC 8422
    TLS_SRP_SHA_WITH_3DES_EDE_CBC_SHA = 0xC01A  # RFC 5054
    TLS_SRP_SHA_RSA_WITH_3DES_EDE_CBC_SHA = 0xC01B  # RFC 5054
    TLS_SRP_SHA_DSS_WITH_3DES_EDE_CBC_SHA = 0xC01C  # RFC 5054
    TLS_SRP_SHA_WITH_AES_128_CBC_SHA = 0xC01D  # RFC 5054
    TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA = 0xC01E  # RFC 5054
    TLS_SRP_SHA_DSS_WITH_AES_128_CBC_SHA = 0xC01F  # RFC 5054
    TLS_SRP_SHA_WITH_AES_256_CBC_SHA = 0xC020  # RFC 5054
    TLS_SRP_SHA_RSA_WITH_AES_256_CBC_SHA = 0xC021  # RFC 5054
    TLS_SRP_SHA_DSS_WITH_AES_256_CBC_SHA = 0xC022  # RFC 5054
    TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 = 0xC023  # RFC 5289
    TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384 = 0xC024  # RFC 5289
    TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256 = 0xC025  # RFC 5289
    TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384 = 0xC026  # RFC 5289
    TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256 = 0xC027  # RFC 5289
    TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384 = 0xC028  # RFC 5289
    TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256 = 0xC029  # RFC 5289
    TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384 = 0xC02A  # RFC 5289
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 = 0xC02B  # RFC 5289
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 = 0xC02C  # RFC 5289
    TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256 = 0xC02D  # RFC 5289
    TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384 = 0xC02E  # RFC 5289
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 = 0xC02F  # RFC 5289
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 = 0xC030  # RFC 5289
    TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256 = 0xC031  # RFC 5289
    TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384 = 0xC032  # RFC 5289
    TLS_ECDHE_PSK_WITH_RC4_128_SHA = 0xC033  # RFC 5489
    TLS_ECDHE_PSK_WITH_3DES_EDE_CBC_SHA = 0xC034  # RFC 5489
    TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA = 0xC035  # RFC 5489
    TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA = 0xC036  # RFC 5489
    TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256 = 0xC037  # RFC 5489
    TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384 = 0xC038  # RFC 5489
    TLS_ECDHE_PSK_WITH_NULL_SHA = 0xC039  # RFC 5489
    TLS_ECDHE_PSK_WITH_NULL_SHA256 = 0xC03A  # RFC 5489
    TLS_ECDHE_PSK_WITH_NULL_SHA384 = 0xC03B  # RFC 5489
    TLS_RSA_WITH_ARIA_128_CBC_SHA256 = 0xC03C  # RFC 6209
    TLS_RSA_WITH_ARIA_256_CBC_SHA384 = 0xC03D  # RFC 6209
    TLS_DH_DSS_WITH_ARIA_128_CBC_SHA256 = 0xC03E  # RFC 6209
    TLS_DH_DSS_WITH_ARIA_256_CBC_SHA384 = 0xC03F  # RFC 6209
    TLS_DH_RSA_WITH_ARIA_128_CBC_SHA256 = 0xC040  # RFC 6209
    TLS_DH_RSA_WITH_ARIA_256_CBC_SHA384 = 0xC041  # RFC 6209
    TLS_DHE_DSS_WITH_ARIA_128_CBC_SHA256 = 0xC042  # RFC 6209
    TLS_DHE_DSS_WITH_ARIA_256_CBC_SHA384 = 0xC043  # RFC 6209
    TLS_DHE_RSA_WITH_ARIA_128_CBC_SHA256 = 0xC044  # RFC 6209
    TLS_DHE_RSA_WITH_ARIA_256_CBC_SHA384 = 0xC045  # RFC 6209
    TLS_DH_anon_WITH_ARIA_128_CBC_SHA256 = 0xC046  # RFC 6209
    TLS_DH_anon_WITH_ARIA_256_CBC_SHA384 = 0xC047  # RFC 6209
    TLS_ECDHE_ECDSA_WITH_ARIA_128_CBC_SHA256 = 0xC048  # RFC 6209
    TLS_ECDHE_ECDSA_WITH_ARIA_256_CBC_SHA384 = 0xC049  # RFC 6209
    TLS_ECDH_ECDSA_WITH_ARIA_128_CBC_SHA256 = 0xC04A  # RFC 6209
    TLS_ECDH_ECDSA_WITH_ARIA_256_CBC_SHA384 = 0xC04B  # RFC 6209
    TLS_ECDHE_RSA_WITH_ARIA_128_CBC_SHA256 = 0xC04C  # RFC 6209
    TLS_ECDHE_RSA_WITH_ARIA_256_CBC_SHA384 = 0xC04D  # RFC 6209
    TLS_ECDH_RSA_WITH_ARIA_128_CBC_SHA256 = 0xC04E  # RFC 6209
    TLS_ECDH_RSA_WITH_ARIA_256_CBC_SHA384 = 0xC04F  # RFC 6209
    TLS_RSA_WITH_ARIA_128_GCM_SHA256 = 0xC050  # RFC 6209
    TLS_RSA_WITH_ARIA_256_GCM_SHA384 = 0xC051  # RFC 6209
    TLS_DHE_RSA_WITH_ARIA_128_GCM_SHA256 = 0xC052  # RFC 6209
    TLS_DHE_RSA_WITH_ARIA_256_GCM_SHA384 = 0xC053  # RFC 6209
    TLS_DH_RSA_WITH_ARIA_128_GCM_SHA256 = 0xC054  # RFC 6209
    TLS_DH_RSA_WITH_ARIA_256_GCM_SHA384 = 0xC055  # RFC 6209
    TLS_DHE_DSS_WITH_ARIA_128_GCM_SHA256 = 0xC056  # RFC 6209
    TLS_DHE_DSS_WITH_ARIA_256_GCM_SHA384 = 0xC057  # RFC 6209
    TLS_DH_DSS_WITH_ARIA_128_GCM_SHA256 = 0xC058  # RFC 6209
    TLS_DH_DSS_WITH_ARIA_256_GCM_SHA384 = 0xC059  # RFC 6209
    TLS_DH_anon_WITH_ARIA_128_GCM_SHA256 = 0xC05A  # RFC 6209
    TLS_DH_anon_WITH_ARIA_256_GCM_SHA384 = 0xC05B  # RFC 6209
    TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256 = 0xC05C  # RFC 6209
    TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384 = 0xC05D  # RFC 6209
    TLS_ECDH_ECDSA_WITH_ARIA_128_GCM_SHA256 = 0xC05E  # RFC 6209
    TLS_ECDH_ECDSA_WITH_ARIA_256_GCM_SHA384 = 0xC05F  # RFC 6209
    TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256 = 0xC060  # RFC 6209
    TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384 = 0xC061  # RFC 6209
    TLS_ECDH_RSA_WITH_ARIA_128_GCM_SHA256 = 0xC062  # RFC 6209
    TLS_ECDH_RSA_WITH_ARIA_256_GCM_SHA384 = 0xC063  # RFC 6209
    TLS_PSK_WITH_ARIA_128_CBC_SHA256 = 0xC064  # RFC 6209
    TLS_PSK_WITH_ARIA_256_CBC_SHA384 = 0xC065  # RFC 6209
    TLS_DHE_PSK_WITH_ARIA_128_CBC_SHA256 = 0xC066  # RFC 6209
    TLS_DHE_PSK_WITH_ARIA_256_CBC_SHA384 = 0xC067  # RFC 6209
    TLS_RSA_PSK_WITH_ARIA_128_CBC_SHA256 = 0xC068  # RFC 6209
    TLS_RSA_PSK_WITH_ARIA_256_CBC_SHA384 = 0xC069  # RFC 6209
    TLS_PSK_WITH_ARIA_128_GCM_SHA256 = 0xC06A  # RFC 6209
    TLS_PSK_WITH_ARIA_256_GCM_SHA384 = 0xC06B  # RFC 6209
    TLS_DHE_PSK_WITH_ARIA_128_GCM_SHA256 = 0xC06C  # RFC 6209
    TLS_DHE_PSK_WITH_ARIA_256_GCM_SHA384 = 0xC06D  # RFC 6209
    TLS_RSA_PSK_WITH_ARIA_128_GCM_SHA256 = 0xC06E  # RFC 6209
    TLS_RSA_PSK_WITH_ARIA_256_GCM_SHA384 = 0xC06F  # RFC 6209
    TLS_ECDHE_PSK_WITH_ARIA_128_CBC_SHA256 = 0xC070  # RFC 6209
    TLS_ECDHE_PSK_WITH_ARIA_256_CBC_SHA384 = 0xC071  # RFC 6209
    TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256 = 0xC072  # RFC 6367
    TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384 = 0xC073  # RFC 6367
    TLS_ECDH_ECDSA_WITH_CAMELLIA_128_CBC_SHA256 = 0xC074  # RFC 6367
    TLS_ECDH_ECDSA_WITH_CAMELLIA_256_CBC_SHA384 = 0xC075  # RFC 6367
    TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256 = 0xC076  # RFC 6367
    TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384 = 0xC077  # RFC 6367
    TLS_ECDH_RSA_WITH_CAMELLIA_128_CBC_SHA256 = 0xC078  # RFC 6367
    TLS_ECDH_RSA_WITH_CAMELLIA_256_CBC_SHA384 = 0xC079  # RFC 6367
    TLS_RSA_WITH_CAMELLIA_128_GCM_SHA256 = 0xC07A  # RFC 6367
    TLS_RSA_WITH_CAMELLIA_256_GCM_SHA384 = 0xC07B  # RFC 6367
    TLS_DHE_RSA_WITH_CAMELLIA_128_GCM_SHA256 = 0xC07C  # RFC 6367
    TLS_DHE_RSA_WITH_CAMELLIA_256_GCM_SHA384 = 0xC07D  # RFC 6367
    TLS_DH_RSA_WITH_CAMELLIA_128_GCM_SHA256 = 0xC07E  # RFC 6367
    TLS_DH_RSA_WITH_CAMELLIA_256_GCM_SHA384 = 0xC07F  # RFC 6367
    TLS_DHE_DSS_WITH_CAMELLIA_128_GCM_SHA256 = 0xC080  # RFC 6367
    TLS_DHE_DSS_WITH_CAMELLIA_256_GCM_SHA384 = 0xC081  # RFC 6367
    TLS_DH_DSS_WITH_CAMELLIA_128_GCM_SHA256 = 0xC082  # RFC 6367
    TLS_DH_DSS_WITH_CAMELLIA_256_GCM_SHA384 = 0xC083  # RFC 6367
    TLS_DH_anon_WITH_CAMELLIA_128_GCM_SHA256 = 0xC084  # RFC 6367
    TLS_DH_anon_WITH_CAMELLIA_256_GCM_SHA384 = 0xC085  # RFC 6367
    TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_GCM_SHA256 = 0xC086  # RFC 6367
    TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_GCM_SHA384 = 0xC087  # RFC 6367
    TLS_ECDH_ECDSA_WITH_CAMELLIA_128_GCM_SHA256 = 0xC088  # RFC 6367
    TLS_ECDH_ECDSA_WITH_CAMELLIA_256_GCM_SHA384 = 0xC089  # RFC 6367
    TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256 = 0xC08A  # RFC 6367
    TLS_ECDHE_RSA_WITH_CAMELLIA_256_GCM_SHA384 = 0xC08B  # RFC 6367
    TLS_ECDH_RSA_WITH_CAMELLIA_128_GCM_SHA256 = 0xC08C  # RFC 6367
    TLS_ECDH_RSA_WITH_CAMELLIA_256_GCM_SHA384 = 0xC08D  # RFC 6367
    TLS_PSK_WITH_CAMELLIA_128_GCM_SHA256 = 0xC08E  # RFC 6367
    TLS_PSK_WITH_CAMELLIA_256_GCM_SHA384 = 0xC08F  # RFC 6367
    TLS_DHE_PSK_WITH_CAMELLIA_128_GCM_SHA256 = 0xC090  # RFC 6367
    TLS_DHE_PSK_WITH_CAMELLIA_256_GCM_SHA384 = 0xC091  # RFC 6367
    TLS_RSA_PSK_WITH_CAMELLIA_128_GCM_SHA256 = 0xC092  # RFC 6367
    TLS_RSA_PSK_WITH_CAMELLIA_256_GCM_SHA384 = 0xC093  # RFC 6367
    TLS_PSK_WITH_CAMELLIA_128_CBC_SHA256 = 0xC094  # RFC 6367
    TLS_PSK_WITH_CAMELLIA_256_CBC_SHA384 = 0xC095  # RFC 6367
    TLS_DHE_PSK_WITH_CAMELLIA_128_CBC_SHA256 = 0xC096  # RFC 6367
    TLS_DHE_PSK_WITH_CAMELLIA_256_CBC_SHA384 = 0xC097  # RFC 6367
    TLS_RSA_PSK_WITH_CAMELLIA_128_CBC_SHA256 = 0xC098  # RFC 6367
    TLS_RSA_PSK_WITH_CAMELLIA_256_CBC_SHA384 = 0xC099  # RFC 6367
    TLS_ECDHE_PSK_WITH_CAMELLIA_128_CBC_SHA256 = 0xC09A  # RFC 6367
    TLS_ECDHE_PSK_WITH_CAMELLIA_256_CBC_SHA384 = 0xC09B  # RFC 6367
    TLS_RSA_WITH_AES_128_CCM = 0xC09C  # RFC 6655
    TLS_RSA_WITH_AES_256_CCM = 0xC09D  # RFC 6655
    TLS_DHE_RSA_WITH_AES_128_CCM = 0xC09E  # RFC 6655
    TLS_DHE_RSA_WITH_AES_256_CCM = 0xC09F  # RFC 6655
    TLS_RSA_WITH_AES_128_CCM_8 = 0xC0A0  # RFC 6655
    TLS_RSA_WITH_AES_256_CCM_8 = 0xC0A1  # RFC 6655
    TLS_DHE_RSA_WITH_AES_128_CCM_8 = 0xC0A2  # RFC 6655
    TLS_DHE_RSA_WITH_AES_256_CCM_8 = 0xC0A3  # RFC 6655
    TLS_PSK_WITH_AES_128_CCM = 0xC0A4  # RFC 6655
    TLS_PSK_WITH_AES_256_CCM = 0xC0A5  # RFC 6655
    TLS_DHE_PSK_WITH_AES_128_CCM = 0xC0A6  # RFC 6655
    TLS_DHE_PSK_WITH_AES_256_CCM = 0xC0A7  # RFC 6655
    TLS_PSK_WITH_AES_128_CCM_8 = 0xC0A8  # RFC 6655
    TLS_PSK_WITH_AES_256_CCM_8 = 0xC0A9  # RFC 6655
    TLS_PSK_DHE_WITH_AES_128_CCM_8 = 0xC0AA  # RFC 6655
    TLS_PSK_DHE_WITH_AES_256_CCM_8 = 0xC0AB  # RFC 6655
    TLS_ECDHE_ECDSA_WITH_AES_128_CCM = 0xC0AC  # RFC 7251
    TLS_ECDHE_ECDSA_WITH_AES_256_CCM = 0xC0AD  # RFC 7251
    TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 = 0xC0AE  # RFC 7251
    TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8 = 0xC0AF  # RFC 7251
    TLS_ECCPWD_WITH_AES_128_GCM_SHA256 = 0xC0B0  # RFC 8492
    TLS_ECCPWD_WITH_AES_256_GCM_SHA384 = 0xC0B1  # RFC 8492
    TLS_ECCPWD_WITH_AES_128_CCM_SHA256 = 0xC0B2  # RFC 8492
    TLS_ECCPWD_WITH_AES_256_CCM_SHA384 = 0xC0B3  # RFC 8492
    TLS_SHA256_SHA256 = 0xC0B4  # RFC 9150
    TLS_SHA384_SHA384 = 0xC0B5  # RFC 9150
    TLS_GOSTR341112_256_WITH_KUZNYECHIK_CTR_OMAC = 0xC100  # RFC 9189
    TLS_GOSTR341112_256_WITH_MAGMA_CTR_OMAC = 0xC101  # RFC 9189
    TLS_GOSTR341112_256_WITH_28147_CNT_IMIT = 0xC102  # RFC 9189
    TLS_GOSTR341112_256_WITH_KUZNYECHIK_MGM_L = 0xC103  # RFC 9367
    TLS_GOSTR341112_256_WITH_MAGMA_MGM_L = 0xC104  # RFC 9367
    TLS_GOSTR341112_256_WITH_KUZNYECHIK_MGM_S = 0xC105  # RFC 9367
    TLS_GOSTR341112_256_WITH_MAGMA_MGM_S = 0xC106  # RFC 9367
    TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 = 0xCCA8  # RFC 7905
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 = 0xCCA9  # RFC 7905
    TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256 = 0xCCAA  # RFC 7905
    TLS_PSK_WITH_CHACHA20_POLY1305_SHA256 = 0xCCAB  # RFC 7905
    TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256 = 0xCCAC  # RFC 7905
    TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256 = 0xCCAD  # RFC 7905
    TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256 = 0xCCAE  # RFC 7905
    TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256 = 0xD001  # RFC 8442
    TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384 = 0xD002  # RFC 8442
    TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256 = 0xD003  # RFC 8442
    TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256 = 0xD005  # RFC 8442


class NamedGroup(IntEnum):
    """IANA "TLS Supported Groups" (RFC 8422 §5.1.1, RFC 7919, RFC 8446 §4.2.7). Two bytes."""

    sect163k1 = 1  # deprecated: sect* and the small secp* curves
    sect163r1 = 2
    sect163r2 = 3
    sect193r1 = 4
    sect193r2 = 5
    sect233k1 = 6
    sect233r1 = 7
    sect239k1 = 8
    sect283k1 = 9
    sect283r1 = 10
    sect409k1 = 11
    sect409r1 = 12
    sect571k1 = 13
    sect571r1 = 14
    secp160k1 = 15
    secp160r1 = 16
    secp160r2 = 17
    secp192k1 = 18
    secp192r1 = 19
    secp224k1 = 20
    secp224r1 = 21
    secp256k1 = 22
    secp256r1 = 23
    secp384r1 = 24
    secp521r1 = 25
    brainpoolP256r1 = 26  # RFC 7027
    brainpoolP384r1 = 27
    brainpoolP512r1 = 28
    x25519 = 29
    x448 = 30
    brainpoolP256r1tls13 = 31  # RFC 8734
    brainpoolP384r1tls13 = 32
    brainpoolP512r1tls13 = 33
    GC256A = 34  # RFC 9189
    GC256B = 35
    GC256C = 36
    GC256D = 37
    GC512A = 38
    GC512B = 39
    GC512C = 40
    curveSM2 = 41  # RFC 8998
    ffdhe2048 = 256  # RFC 7919
    ffdhe3072 = 257
    ffdhe4096 = 258
    ffdhe6144 = 259
    ffdhe8192 = 260
    MLKEM512 = 512  # draft-ietf-tls-mlkem
    MLKEM768 = 513
    MLKEM1024 = 514
    SecP256r1MLKEM768 = 0x11EB  # draft-ietf-tls-ecdhe-mlkem
    X25519MLKEM768 = 0x11EC
    SecP384r1MLKEM1024 = 0x11ED
    X25519Kyber768Draft00 = 0x6399  # obsolete pre-standard hybrid, still seen in captures
    SecP256r1Kyber768Draft00 = 0x639A  # obsolete
    arbitrary_explicit_prime_curves = 0xFF01  # RFC 8422, deprecated
    arbitrary_explicit_char2_curves = 0xFF02


class SignatureScheme(IntEnum):
    """IANA "TLS SignatureScheme" (RFC 8446 §4.2.3). Two bytes.

    In TLS 1.2 the same two bytes are a (HashAlgorithm, SignatureAlgorithm) pair
    (RFC 5246 §7.4.1.4.1); the pairs TLS 1.3 left out are in ``LEGACY_HASH_SIGNATURE``.
    """

    rsa_pkcs1_sha1 = 0x0201
    ecdsa_sha1 = 0x0203
    rsa_pkcs1_sha256 = 0x0401
    ecdsa_secp256r1_sha256 = 0x0403
    rsa_pkcs1_sha256_legacy = 0x0420  # draft-davidben-tls13-pkcs1
    rsa_pkcs1_sha384 = 0x0501
    ecdsa_secp384r1_sha384 = 0x0503
    rsa_pkcs1_sha384_legacy = 0x0520
    rsa_pkcs1_sha512 = 0x0601
    ecdsa_secp521r1_sha512 = 0x0603
    rsa_pkcs1_sha512_legacy = 0x0620
    eccsi_sha256 = 0x0704  # draft-wang-tls-raw-public-key-with-ibc
    iso_ibs1 = 0x0705
    iso_ibs2 = 0x0706
    iso_chinese_ibs = 0x0707
    sm2sig_sm3 = 0x0708  # RFC 8998
    gostr34102012_256a = 0x0709  # RFC 9367
    gostr34102012_256b = 0x070A
    gostr34102012_256c = 0x070B
    gostr34102012_256d = 0x070C
    gostr34102012_512a = 0x070D
    gostr34102012_512b = 0x070E
    gostr34102012_512c = 0x070F
    rsa_pss_rsae_sha256 = 0x0804
    rsa_pss_rsae_sha384 = 0x0805
    rsa_pss_rsae_sha512 = 0x0806
    ed25519 = 0x0807
    ed448 = 0x0808
    rsa_pss_pss_sha256 = 0x0809
    rsa_pss_pss_sha384 = 0x080A
    rsa_pss_pss_sha512 = 0x080B
    ecdsa_brainpoolP256r1tls13_sha256 = 0x081A  # RFC 8734
    ecdsa_brainpoolP384r1tls13_sha384 = 0x081B
    ecdsa_brainpoolP512r1tls13_sha512 = 0x081C
    mldsa44 = 0x0904  # draft-ietf-tls-mldsa
    mldsa65 = 0x0905
    mldsa87 = 0x0906


# TLS 1.2 SignatureAndHashAlgorithm pairs (RFC 5246 §7.4.1.4.1: hash byte, then
# signature byte) that have no SignatureScheme name. IANA keeps their code points
# "reserved for backward compatibility". Used only by ``describe``.
LEGACY_HASH_SIGNATURE: dict[int, str] = {
    0x0101: "rsa_md5",
    0x0102: "dsa_md5",
    0x0103: "ecdsa_md5",
    0x0202: "dsa_sha1",
    0x0301: "rsa_sha224",
    0x0302: "dsa_sha224",
    0x0303: "ecdsa_sha224",
    0x0402: "dsa_sha256",
    0x0502: "dsa_sha384",
    0x0602: "dsa_sha512",
    0x0840: "gostr34102012_256",  # RFC 9189: "intrinsic" hash (8), signature 64
    0x0841: "gostr34102012_512",  # RFC 9189: "intrinsic" hash (8), signature 65
}


class ExtensionType(IntEnum):
    """IANA "TLS ExtensionType Values" (RFC 8446 §4.2). Two bytes.

    Two code points were never assigned by IANA but are common on the wire, and are
    kept so captures read well: ``next_protocol_negotiation`` and ``application_settings``.
    """

    server_name = 0  # RFC 6066
    max_fragment_length = 1
    client_certificate_url = 2
    trusted_ca_keys = 3
    truncated_hmac = 4
    status_request = 5
    user_mapping = 6  # RFC 4681
    client_authz = 7  # RFC 5878
    server_authz = 8
    cert_type = 9  # RFC 6091
    supported_groups = 10  # "elliptic_curves" before RFC 7919
    ec_point_formats = 11  # RFC 8422
    srp = 12  # RFC 5054
    signature_algorithms = 13  # RFC 8446
    use_srtp = 14  # RFC 5764
    heartbeat = 15  # RFC 6520
    application_layer_protocol_negotiation = 16  # RFC 7301
    status_request_v2 = 17  # RFC 6961
    signed_certificate_timestamp = 18  # RFC 6962
    client_certificate_type = 19  # RFC 7250
    server_certificate_type = 20
    padding = 21  # RFC 7685
    encrypt_then_mac = 22  # RFC 7366
    extended_master_secret = 23  # RFC 7627
    token_binding = 24  # RFC 8472
    cached_info = 25  # RFC 7924
    tls_lts = 26
    compress_certificate = 27  # RFC 8879
    record_size_limit = 28  # RFC 8449
    pwd_protect = 29  # RFC 8492
    pwd_clear = 30
    password_salt = 31
    ticket_pinning = 32  # RFC 8672
    tls_cert_with_extern_psk = 33  # RFC 8773
    delegated_credential = 34  # RFC 9345
    session_ticket = 35  # RFC 5077
    TLMSP = 36
    TLMSP_proxying = 37
    TLMSP_delegate = 38
    supported_ekt_ciphers = 39  # RFC 8870
    pre_shared_key = 41  # RFC 8446
    early_data = 42
    supported_versions = 43
    cookie = 44
    psk_key_exchange_modes = 45
    certificate_authorities = 47
    oid_filters = 48
    post_handshake_auth = 49
    signature_algorithms_cert = 50
    key_share = 51
    transparency_info = 52  # RFC 9162
    connection_id_deprecated = 53  # "connection_id (deprecated)"
    connection_id = 54  # RFC 9146
    external_id_hash = 55  # RFC 8844
    external_session_id = 56
    quic_transport_parameters = 57  # RFC 9001
    ticket_request = 58  # RFC 9149
    dnssec_chain = 59  # RFC 9102
    sequence_number_encryption_algorithms = 60
    rrc = 61
    tls_flags = 62
    next_protocol_negotiation = 13172  # not IANA: draft-agl-tls-nextprotoneg
    application_settings = 17513  # not IANA: draft-vvv-tls-alps, BoringSSL's code point
    ech_outer_extensions = 0xFD00  # Encrypted Client Hello
    encrypted_client_hello = 0xFE0D
    renegotiation_info = 0xFF01  # RFC 5746


class ClientCertificateType(IntEnum):
    """IANA "TLS ClientCertificateType Identifiers" (RFC 5246 §7.4.4). One byte."""

    rsa_sign = 1
    dss_sign = 2
    rsa_fixed_dh = 3
    dss_fixed_dh = 4
    rsa_ephemeral_dh = 5  # reserved since TLS 1.2
    dss_ephemeral_dh = 6  # reserved since TLS 1.2
    fortezza_dms = 20  # reserved
    ecdsa_sign = 64  # RFC 8422
    rsa_fixed_ecdh = 65
    ecdsa_fixed_ecdh = 66
    gost_sign256 = 67  # RFC 9189
    gost_sign512 = 68


class CertificateStatusType(IntEnum):
    """Certificate status types (RFC 6066 §8, RFC 6961). One byte."""

    ocsp = 1
    ocsp_multi = 2


class KeyUpdateRequest(IntEnum):
    """KeyUpdate.request_update (RFC 8446 §4.6.3). One byte."""

    update_not_requested = 0
    update_requested = 1


class ECCurveType(IntEnum):
    """ECParameters.curve_type in ServerKeyExchange (RFC 8422 §5.4). One byte."""

    explicit_prime = 1  # deprecated
    explicit_char2 = 2  # deprecated
    named_curve = 3


# Registries whose values are one byte on the wire; every other registry here is two.
_ONE_BYTE_REGISTRIES: frozenset[type[IntEnum]] = frozenset(
    {
        ContentType,
        HandshakeType,
        AlertLevel,
        AlertDescription,
        ClientCertificateType,
        CertificateStatusType,
        KeyUpdateRequest,
        ECCurveType,
    }
)

_VERSION_NAMES: dict[int, str] = {
    ProtocolVersion.SSLv2: "SSLv2",
    ProtocolVersion.SSLv3: "SSLv3",
    ProtocolVersion.TLSv1: "TLSv1.0",
    ProtocolVersion.TLSv1_1: "TLSv1.1",
    ProtocolVersion.TLSv1_2: "TLSv1.2",
    ProtocolVersion.TLSv1_3: "TLSv1.3",
}


def is_grease(value: int) -> bool:
    """Tell whether a two-byte value is one of the GREASE values of RFC 8701 §2.

    GREASE values are 0x0A0A, 0x1A1A, ... 0xFAFA: both bytes equal, low nibble 0xA.
    They are reserved in the cipher suite, group, signature scheme, version and
    extension registries, so a peer may send them at any time.

    Args:
        value: a raw two-byte wire value.

    Returns:
        True for the sixteen GREASE values, False otherwise.
    """
    return 0 <= value <= 0xFFFF and value & 0x0F0F == 0x0A0A and value >> 8 == value & 0xFF


def version_name(v: int) -> str:
    """Name a protocol version the way people write it.

    Args:
        v: a raw two-byte version, from a record header, a hello or supported_versions.

    Returns:
        "SSLv2", "SSLv3", "TLSv1.0" ... "TLSv1.3"; anything else (TLS 1.3 drafts such
        as 0x7f1c, GREASE, DTLS, garbage) as four hex digits, e.g. "0x7f1c".
    """
    return _VERSION_NAMES.get(v, f"0x{v:04x}")


def describe(enum_cls: type[IntEnum], value: int) -> str:
    """Name a raw wire value through one of the registries above, never failing.

    Args:
        enum_cls: the registry, e.g. ``CipherSuite`` or ``AlertDescription``.
        value: the raw value as read from the wire.

    Returns:
        The member name if the value is assigned. Otherwise, for ``SignatureScheme``,
        the TLS 1.2 name from ``LEGACY_HASH_SIGNATURE`` if there is one; for other
        two-byte registries "GREASE(0x0a0a)" for GREASE values; and else the value
        in hex, "0x%02x" for one-byte registries and "0x%04x" for two-byte ones.

    Raises:
        ValueError: if ``value`` is negative, which no wire field can be.
    """
    if value < 0:
        raise ValueError(f"wire values are unsigned, got {value}")
    try:
        return enum_cls(value).name
    except ValueError:
        pass
    if enum_cls is SignatureScheme and value in LEGACY_HASH_SIGNATURE:
        return LEGACY_HASH_SIGNATURE[value]
    if enum_cls in _ONE_BYTE_REGISTRIES:
        return f"0x{value:02x}"
    if is_grease(value):
        return f"GREASE(0x{value:04x})"
    return f"0x{value:04x}"


@dataclass(frozen=True)
class SuiteTraits:
    """What a cipher suite's IANA name says about it, for policy checks.

    Attributes:
        name: the IANA name, e.g. "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".
        key_exchange: "ECDHE", "DHE", "ECDH", "DH", "RSA", "PSK", "SRP", "KRB5",
            "ECCPWD", "GOST"; "any" for TLS 1.3 suites, which leave it to the
            key_share and psk extensions; "none" for TLS_NULL_WITH_NULL_NULL and SCSVs.
        authentication: "RSA", "ECDSA", "DSS", "PSK", "SRP", "KRB5", "ECCPWD", "GOST",
            "anon"; "any" for TLS 1.3; "none" for TLS_NULL_WITH_NULL_NULL and SCSVs.
            RSA_PSK suites read "PSK": the PSK is what authenticates the client.
        encryption: the bulk cipher as named, e.g. "AES_128_GCM", "CHACHA20_POLY1305",
            "3DES_EDE_CBC", "RC4_128", "DES40_CBC", "NULL"; "none" for SCSVs.
        mac: "SHA", "SHA256", "SHA384", "MD5" (HMAC), "OMAC"/"IMIT" (GOST), "AEAD"
            when the cipher authenticates itself, "NULL" for TLS_NULL_WITH_NULL_NULL,
            "none" for SCSVs.
        is_null: no encryption at all (NULL ciphers, and the RFC 9150 integrity-only
            TLS 1.3 suites).
        is_anonymous: the server is not authenticated ("anon", and TLS_NULL_WITH_NULL_NULL).
        is_export: an EXPORT suite (40- or 56-bit keys).
        is_rc4: an RC4 cipher (RFC 7465 forbids them).
        is_des: single DES, including 40-bit DES.
        is_3des: triple DES (Sweet32).
        is_md5_mac: HMAC-MD5 record protection.
        forward_secret: the key exchange is ephemeral: DHE, ECDHE, SRP, ECCPWD and every
            TLS 1.3 suite. Anonymous DH and ECDH are ephemeral too, so they count;
            ``is_anonymous`` is what rules them out.
        is_tls13: a TLS 1.3 suite (RFC 8446 §B.4, and RFC 8998, 9150, 9367).
        is_scsv: a signalling value, not a cipher suite (RFC 5746, RFC 7507).
    """

    name: str
    key_exchange: str
    authentication: str
    encryption: str
    mac: str
    is_null: bool = False
    is_anonymous: bool = False
    is_export: bool = False
    is_rc4: bool = False
    is_des: bool = False
    is_3des: bool = False
    is_md5_mac: bool = False
    forward_secret: bool = False
    is_tls13: bool = False
    is_scsv: bool = False


# TLS 1.3 suites: their names carry no key exchange. The GOST ones (RFC 9367) still
# say "_WITH_", so this is a list of code points rather than a rule about names.
_TLS13_SUITES: frozenset[int] = frozenset(
    {
        CipherSuite.TLS_AES_128_GCM_SHA256,
        CipherSuite.TLS_AES_256_GCM_SHA384,
        CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
        CipherSuite.TLS_AES_128_CCM_SHA256,
        CipherSuite.TLS_AES_128_CCM_8_SHA256,
        CipherSuite.TLS_AEGIS_256_SHA512,
        CipherSuite.TLS_AEGIS_128L_SHA256,
        CipherSuite.TLS_SM4_GCM_SM3,
        CipherSuite.TLS_SM4_CCM_SM3,
        CipherSuite.TLS_SHA256_SHA256,
        CipherSuite.TLS_SHA384_SHA384,
        CipherSuite.TLS_GOSTR341112_256_WITH_KUZNYECHIK_MGM_L,
        CipherSuite.TLS_GOSTR341112_256_WITH_MAGMA_MGM_L,
        CipherSuite.TLS_GOSTR341112_256_WITH_KUZNYECHIK_MGM_S,
        CipherSuite.TLS_GOSTR341112_256_WITH_MAGMA_MGM_S,
    }
)

# The part of a TLS 1.2 name before "_WITH_" (minus "_EXPORT") → (key exchange, authentication).
_KEY_EXCHANGE: dict[str, tuple[str, str]] = {
    "NULL": ("none", "none"),
    "RSA": ("RSA", "RSA"),
    "DH_DSS": ("DH", "DSS"),
    "DH_RSA": ("DH", "RSA"),
    "DHE_DSS": ("DHE", "DSS"),
    "DHE_RSA": ("DHE", "RSA"),
    "DH_anon": ("DH", "anon"),
    "KRB5": ("KRB5", "KRB5"),
    "PSK": ("PSK", "PSK"),
    "DHE_PSK": ("DHE", "PSK"),
    "PSK_DHE": ("DHE", "PSK"),  # 0xC0AA/0xC0AB: RFC 6655 spells it this way round
    "RSA_PSK": ("RSA", "PSK"),
    "ECDHE_PSK": ("ECDHE", "PSK"),
    "ECDH_ECDSA": ("ECDH", "ECDSA"),
    "ECDHE_ECDSA": ("ECDHE", "ECDSA"),
    "ECDH_RSA": ("ECDH", "RSA"),
    "ECDHE_RSA": ("ECDHE", "RSA"),
    "ECDH_anon": ("ECDH", "anon"),
    "SRP_SHA": ("SRP", "SRP"),
    "SRP_SHA_RSA": ("SRP", "RSA"),
    "SRP_SHA_DSS": ("SRP", "DSS"),
    "ECCPWD": ("ECCPWD", "ECCPWD"),
    "GOSTR341112_256": ("GOST", "GOST"),  # RFC 9189: VKO with the server's static key
}

_EPHEMERAL_KEY_EXCHANGES = frozenset({"DHE", "ECDHE", "SRP", "ECCPWD", "any"})

# Trailing name tokens that name a MAC or PRF hash rather than part of the cipher.
_HASH_TOKENS = frozenset({"MD5", "SHA", "SHA256", "SHA384", "SHA512", "SM3", "OMAC", "IMIT"})

# Bulk ciphers that authenticate the record themselves, recognised by the end of their name.
_AEAD_SUFFIXES = ("_GCM", "_CCM", "_CCM_8", "_POLY1305", "_MGM_L", "_MGM_S")

_SINGLE_DES = frozenset({"DES_CBC", "DES40_CBC", "DES_CBC_40"})


def _split_cipher(spec: str) -> tuple[str, str]:
    """Split "AES_128_CBC_SHA" into ("AES_128_CBC", "SHA"), naming an AEAD's MAC "AEAD"."""
    cipher, _, last = spec.rpartition("_")
    if last not in _HASH_TOKENS:  # "AES_128_CCM", "KUZNYECHIK_MGM_L": no trailing hash
        cipher = spec
    elif cipher in _HASH_TOKENS:  # RFC 9150 "TLS_SHA256_SHA256": HMAC only, no cipher
        return "NULL", cipher
    if cipher.endswith(_AEAD_SUFFIXES) or cipher.startswith("AEGIS_"):
        return cipher, "AEAD"
    return cipher, last


def _parse_suite_name(code: int, name: str) -> SuiteTraits:
    if name.endswith("_SCSV"):
        return SuiteTraits(name, "none", "none", "none", "none", is_scsv=True)
    body = name[len("TLS_") :]
    if code in _TLS13_SUITES:
        encryption, mac = _split_cipher(body.partition("_WITH_")[2] or body)
        return SuiteTraits(
            name, "any", "any", encryption, mac, is_null=encryption == "NULL", forward_secret=True, is_tls13=True
        )
    prefix, sep, spec = body.partition("_WITH_")
    if not sep:
        raise ValueError(f"cannot parse cipher suite name {name!r}")
    is_export = prefix.endswith("_EXPORT")
    key_exchange, authentication = _KEY_EXCHANGE[prefix.replace("_EXPORT", "")]
    if spec == "NULL_NULL":  # TLS_NULL_WITH_NULL_NULL
        encryption, mac = "NULL", "NULL"
    else:
        encryption, mac = _split_cipher(spec)
    return SuiteTraits(
        name=name,
        key_exchange=key_exchange,
        authentication=authentication,
        encryption=encryption,
        mac=mac,
        is_null=encryption == "NULL",
        is_anonymous=authentication in ("anon", "none"),
        is_export=is_export,
        is_rc4=encryption.startswith("RC4"),
        is_des=encryption in _SINGLE_DES,
        is_3des=encryption == "3DES_EDE_CBC",
        is_md5_mac=mac == "MD5",
        forward_secret=key_exchange in _EPHEMERAL_KEY_EXCHANGES or authentication == "anon",
    )


@functools.lru_cache(maxsize=1024)  # bounded: peers can send any of 65536 values
def suite_traits(code: int) -> SuiteTraits | None:
    """Describe a cipher suite by parsing its IANA name.

    Args:
        code: a raw two-byte cipher suite value.

    Returns:
        The suite's traits, or None for a value that is not an assigned suite
        (reserved, GREASE, private use).
    """
    try:
        suite = CipherSuite(code)
    except ValueError:
        return None
    return _parse_suite_name(suite.value, suite.name)
