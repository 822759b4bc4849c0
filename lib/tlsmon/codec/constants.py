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
from enum import IntEnum
from typing import Any, Union

from ..frozen import frozen

# CipherSuite, NamedGroup, SignatureScheme, ExtensionType, HandshakeType, AlertDescription and
# ClientCertificateType come from __getattr__ (built lazily).
__all__ = [  # noqa: F822
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



# Handshake message types (RFC 8446 §4; IANA TLS HandshakeType). One byte.
# (The IntEnum ``HandshakeType`` is built from this table on first use: see ``__getattr__``.)
_HANDSHAKE_TYPE_NAMES: dict[int, str] = {
    0: "hello_request",
    1: "client_hello",
    2: "server_hello",
    3: "hello_verify_request",  # DTLS, RFC 6347
    4: "new_session_ticket",
    5: "end_of_early_data",
    6: "hello_retry_request",  # draft TLS 1.3 only; RFC 8446 sends a ServerHello
    8: "encrypted_extensions",
    9: "request_connection_id",  # RFC 9147
    10: "new_connection_id",  # RFC 9147
    11: "certificate",
    12: "server_key_exchange",
    13: "certificate_request",
    14: "server_hello_done",
    15: "certificate_verify",
    16: "client_key_exchange",
    17: "client_certificate_request",  # RFC 9261
    20: "finished",
    21: "certificate_url",  # RFC 6066
    22: "certificate_status",  # RFC 6066
    23: "supplemental_data",  # RFC 4680
    24: "key_update",
    25: "compressed_certificate",  # RFC 8879
    26: "ekt_key",  # RFC 8870
    254: "message_hash",  # RFC 8446 §4.4.1, never on the wire
}


class AlertLevel(IntEnum):
    """Alert levels (RFC 5246 §7.2). One byte."""

    warning = 1
    fatal = 2



# Alert descriptions (RFC 8446 §6; IANA TLS Alerts). One byte.
# (The IntEnum ``AlertDescription`` is built from this table on first use: see ``__getattr__``.)
_ALERT_DESCRIPTION_NAMES: dict[int, str] = {
    0: "close_notify",
    10: "unexpected_message",
    20: "bad_record_mac",
    21: "decryption_failed",  # RFC 5246: reserved, SSLv3/TLS 1.0 only
    22: "record_overflow",
    30: "decompression_failure",  # reserved since TLS 1.3
    40: "handshake_failure",
    41: "no_certificate",  # SSLv3 only
    42: "bad_certificate",
    43: "unsupported_certificate",
    44: "certificate_revoked",
    45: "certificate_expired",
    46: "certificate_unknown",
    47: "illegal_parameter",
    48: "unknown_ca",
    49: "access_denied",
    50: "decode_error",
    51: "decrypt_error",
    52: "too_many_cids_requested",  # RFC 9147
    60: "export_restriction",  # reserved since TLS 1.1
    70: "protocol_version",
    71: "insufficient_security",
    80: "internal_error",
    86: "inappropriate_fallback",  # RFC 7507
    90: "user_canceled",
    100: "no_renegotiation",  # reserved since TLS 1.3
    109: "missing_extension",
    110: "unsupported_extension",
    111: "certificate_unobtainable",  # RFC 6066, reserved since TLS 1.3
    112: "unrecognized_name",
    113: "bad_certificate_status_response",
    114: "bad_certificate_hash_value",  # RFC 6066, reserved since TLS 1.3
    115: "unknown_psk_identity",
    116: "certificate_required",
    117: "general_error",  # RFC 8446bis
    120: "no_application_protocol",  # RFC 7301
    121: "ech_required",  # Encrypted Client Hello
}


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



# Every assigned code point of the IANA "TLS Cipher Suites" registry. Two bytes.
#
#     Reserved ranges and the GREASE values (RFC 8701) are not members; ``describe``
#     names them as hex or ``GREASE(0x....)``. The comment names the defining document.
# (The IntEnum ``CipherSuite`` is built from this table on first use: see ``__getattr__``.)
_CIPHER_SUITE_NAMES: dict[int, str] = {
    0x0000: "TLS_NULL_WITH_NULL_NULL",  # RFC 5246
    0x0001: "TLS_RSA_WITH_NULL_MD5",  # RFC 5246
    0x0002: "TLS_RSA_WITH_NULL_SHA",  # RFC 5246
    0x0003: "TLS_RSA_EXPORT_WITH_RC4_40_MD5",  # RFC 4346
    0x0004: "TLS_RSA_WITH_RC4_128_MD5",  # RFC 5246
    0x0005: "TLS_RSA_WITH_RC4_128_SHA",  # RFC 5246
    0x0006: "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5",  # RFC 4346
    0x0007: "TLS_RSA_WITH_IDEA_CBC_SHA",  # RFC 5469
    0x0008: "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA",  # RFC 4346
    0x0009: "TLS_RSA_WITH_DES_CBC_SHA",  # RFC 5469
    0x000A: "TLS_RSA_WITH_3DES_EDE_CBC_SHA",  # RFC 5246
    0x000B: "TLS_DH_DSS_EXPORT_WITH_DES40_CBC_SHA",  # RFC 4346
    0x000C: "TLS_DH_DSS_WITH_DES_CBC_SHA",  # RFC 5469
    0x000D: "TLS_DH_DSS_WITH_3DES_EDE_CBC_SHA",  # RFC 5246
    0x000E: "TLS_DH_RSA_EXPORT_WITH_DES40_CBC_SHA",  # RFC 4346
    0x000F: "TLS_DH_RSA_WITH_DES_CBC_SHA",  # RFC 5469
    0x0010: "TLS_DH_RSA_WITH_3DES_EDE_CBC_SHA",  # RFC 5246
    0x0011: "TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA",  # RFC 4346
    0x0012: "TLS_DHE_DSS_WITH_DES_CBC_SHA",  # RFC 5469
    0x0013: "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA",  # RFC 5246
    0x0014: "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA",  # RFC 4346
    0x0015: "TLS_DHE_RSA_WITH_DES_CBC_SHA",  # RFC 5469
    0x0016: "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA",  # RFC 5246
    0x0017: "TLS_DH_anon_EXPORT_WITH_RC4_40_MD5",  # RFC 4346
    0x0018: "TLS_DH_anon_WITH_RC4_128_MD5",  # RFC 5246
    0x0019: "TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA",  # RFC 4346
    0x001A: "TLS_DH_anon_WITH_DES_CBC_SHA",  # RFC 5469
    0x001B: "TLS_DH_anon_WITH_3DES_EDE_CBC_SHA",  # RFC 5246
    0x001E: "TLS_KRB5_WITH_DES_CBC_SHA",  # RFC 2712
    0x001F: "TLS_KRB5_WITH_3DES_EDE_CBC_SHA",  # RFC 2712
    0x0020: "TLS_KRB5_WITH_RC4_128_SHA",  # RFC 2712
    0x0021: "TLS_KRB5_WITH_IDEA_CBC_SHA",  # RFC 2712
    0x0022: "TLS_KRB5_WITH_DES_CBC_MD5",  # RFC 2712
    0x0023: "TLS_KRB5_WITH_3DES_EDE_CBC_MD5",  # RFC 2712
    0x0024: "TLS_KRB5_WITH_RC4_128_MD5",  # RFC 2712
    0x0025: "TLS_KRB5_WITH_IDEA_CBC_MD5",  # RFC 2712
    0x0026: "TLS_KRB5_EXPORT_WITH_DES_CBC_40_SHA",  # RFC 2712
    0x0027: "TLS_KRB5_EXPORT_WITH_RC2_CBC_40_SHA",  # RFC 2712
    0x0028: "TLS_KRB5_EXPORT_WITH_RC4_40_SHA",  # RFC 2712
    0x0029: "TLS_KRB5_EXPORT_WITH_DES_CBC_40_MD5",  # RFC 2712
    0x002A: "TLS_KRB5_EXPORT_WITH_RC2_CBC_40_MD5",  # RFC 2712
    0x002B: "TLS_KRB5_EXPORT_WITH_RC4_40_MD5",  # RFC 2712
    0x002C: "TLS_PSK_WITH_NULL_SHA",  # RFC 4785
    0x002D: "TLS_DHE_PSK_WITH_NULL_SHA",  # RFC 4785
    0x002E: "TLS_RSA_PSK_WITH_NULL_SHA",  # RFC 4785
    0x002F: "TLS_RSA_WITH_AES_128_CBC_SHA",  # RFC 5246
    0x0030: "TLS_DH_DSS_WITH_AES_128_CBC_SHA",  # RFC 5246
    0x0031: "TLS_DH_RSA_WITH_AES_128_CBC_SHA",  # RFC 5246
    0x0032: "TLS_DHE_DSS_WITH_AES_128_CBC_SHA",  # RFC 5246
    0x0033: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",  # RFC 5246
    0x0034: "TLS_DH_anon_WITH_AES_128_CBC_SHA",  # RFC 5246
    0x0035: "TLS_RSA_WITH_AES_256_CBC_SHA",  # RFC 5246
    0x0036: "TLS_DH_DSS_WITH_AES_256_CBC_SHA",  # RFC 5246
    0x0037: "TLS_DH_RSA_WITH_AES_256_CBC_SHA",  # RFC 5246
    0x0038: "TLS_DHE_DSS_WITH_AES_256_CBC_SHA",  # RFC 5246
    0x0039: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",  # RFC 5246
    0x003A: "TLS_DH_anon_WITH_AES_256_CBC_SHA",  # RFC 5246
    0x003B: "TLS_RSA_WITH_NULL_SHA256",  # RFC 5246
    0x003C: "TLS_RSA_WITH_AES_128_CBC_SHA256",  # RFC 5246
    0x003D: "TLS_RSA_WITH_AES_256_CBC_SHA256",  # RFC 5246
    0x003E: "TLS_DH_DSS_WITH_AES_128_CBC_SHA256",  # RFC 5246
    0x003F: "TLS_DH_RSA_WITH_AES_128_CBC_SHA256",  # RFC 5246
    0x0040: "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256",  # RFC 5246
    0x0041: "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA",  # RFC 5932
    0x0042: "TLS_DH_DSS_WITH_CAMELLIA_128_CBC_SHA",  # RFC 5932
    0x0043: "TLS_DH_RSA_WITH_CAMELLIA_128_CBC_SHA",  # RFC 5932
    0x0044: "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA",  # RFC 5932
    0x0045: "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA",  # RFC 5932
    0x0046: "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA",  # RFC 5932
    0x0067: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",  # RFC 5246
    0x0068: "TLS_DH_DSS_WITH_AES_256_CBC_SHA256",  # RFC 5246
    0x0069: "TLS_DH_RSA_WITH_AES_256_CBC_SHA256",  # RFC 5246
    0x006A: "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256",  # RFC 5246
    0x006B: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",  # RFC 5246
    0x006C: "TLS_DH_anon_WITH_AES_128_CBC_SHA256",  # RFC 5246
    0x006D: "TLS_DH_anon_WITH_AES_256_CBC_SHA256",  # RFC 5246
    0x0084: "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA",  # RFC 5932
    0x0085: "TLS_DH_DSS_WITH_CAMELLIA_256_CBC_SHA",  # RFC 5932
    0x0086: "TLS_DH_RSA_WITH_CAMELLIA_256_CBC_SHA",  # RFC 5932
    0x0087: "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA",  # RFC 5932
    0x0088: "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA",  # RFC 5932
    0x0089: "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA",  # RFC 5932
    0x008A: "TLS_PSK_WITH_RC4_128_SHA",  # RFC 4279
    0x008B: "TLS_PSK_WITH_3DES_EDE_CBC_SHA",  # RFC 4279
    0x008C: "TLS_PSK_WITH_AES_128_CBC_SHA",  # RFC 4279
    0x008D: "TLS_PSK_WITH_AES_256_CBC_SHA",  # RFC 4279
    0x008E: "TLS_DHE_PSK_WITH_RC4_128_SHA",  # RFC 4279
    0x008F: "TLS_DHE_PSK_WITH_3DES_EDE_CBC_SHA",  # RFC 4279
    0x0090: "TLS_DHE_PSK_WITH_AES_128_CBC_SHA",  # RFC 4279
    0x0091: "TLS_DHE_PSK_WITH_AES_256_CBC_SHA",  # RFC 4279
    0x0092: "TLS_RSA_PSK_WITH_RC4_128_SHA",  # RFC 4279
    0x0093: "TLS_RSA_PSK_WITH_3DES_EDE_CBC_SHA",  # RFC 4279
    0x0094: "TLS_RSA_PSK_WITH_AES_128_CBC_SHA",  # RFC 4279
    0x0095: "TLS_RSA_PSK_WITH_AES_256_CBC_SHA",  # RFC 4279
    0x0096: "TLS_RSA_WITH_SEED_CBC_SHA",  # RFC 4162
    0x0097: "TLS_DH_DSS_WITH_SEED_CBC_SHA",  # RFC 4162
    0x0098: "TLS_DH_RSA_WITH_SEED_CBC_SHA",  # RFC 4162
    0x0099: "TLS_DHE_DSS_WITH_SEED_CBC_SHA",  # RFC 4162
    0x009A: "TLS_DHE_RSA_WITH_SEED_CBC_SHA",  # RFC 4162
    0x009B: "TLS_DH_anon_WITH_SEED_CBC_SHA",  # RFC 4162
    0x009C: "TLS_RSA_WITH_AES_128_GCM_SHA256",  # RFC 5288
    0x009D: "TLS_RSA_WITH_AES_256_GCM_SHA384",  # RFC 5288
    0x009E: "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",  # RFC 5288
    0x009F: "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",  # RFC 5288
    0x00A0: "TLS_DH_RSA_WITH_AES_128_GCM_SHA256",  # RFC 5288
    0x00A1: "TLS_DH_RSA_WITH_AES_256_GCM_SHA384",  # RFC 5288
    0x00A2: "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256",  # RFC 5288
    0x00A3: "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384",  # RFC 5288
    0x00A4: "TLS_DH_DSS_WITH_AES_128_GCM_SHA256",  # RFC 5288
    0x00A5: "TLS_DH_DSS_WITH_AES_256_GCM_SHA384",  # RFC 5288
    0x00A6: "TLS_DH_anon_WITH_AES_128_GCM_SHA256",  # RFC 5288
    0x00A7: "TLS_DH_anon_WITH_AES_256_GCM_SHA384",  # RFC 5288
    0x00A8: "TLS_PSK_WITH_AES_128_GCM_SHA256",  # RFC 5487
    0x00A9: "TLS_PSK_WITH_AES_256_GCM_SHA384",  # RFC 5487
    0x00AA: "TLS_DHE_PSK_WITH_AES_128_GCM_SHA256",  # RFC 5487
    0x00AB: "TLS_DHE_PSK_WITH_AES_256_GCM_SHA384",  # RFC 5487
    0x00AC: "TLS_RSA_PSK_WITH_AES_128_GCM_SHA256",  # RFC 5487
    0x00AD: "TLS_RSA_PSK_WITH_AES_256_GCM_SHA384",  # RFC 5487
    0x00AE: "TLS_PSK_WITH_AES_128_CBC_SHA256",  # RFC 5487
    0x00AF: "TLS_PSK_WITH_AES_256_CBC_SHA384",  # RFC 5487
    0x00B0: "TLS_PSK_WITH_NULL_SHA256",  # RFC 5487
    0x00B1: "TLS_PSK_WITH_NULL_SHA384",  # RFC 5487
    0x00B2: "TLS_DHE_PSK_WITH_AES_128_CBC_SHA256",  # RFC 5487
    0x00B3: "TLS_DHE_PSK_WITH_AES_256_CBC_SHA384",  # RFC 5487
    0x00B4: "TLS_DHE_PSK_WITH_NULL_SHA256",  # RFC 5487
    0x00B5: "TLS_DHE_PSK_WITH_NULL_SHA384",  # RFC 5487
    0x00B6: "TLS_RSA_PSK_WITH_AES_128_CBC_SHA256",  # RFC 5487
    0x00B7: "TLS_RSA_PSK_WITH_AES_256_CBC_SHA384",  # RFC 5487
    0x00B8: "TLS_RSA_PSK_WITH_NULL_SHA256",  # RFC 5487
    0x00B9: "TLS_RSA_PSK_WITH_NULL_SHA384",  # RFC 5487
    0x00BA: "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256",  # RFC 5932
    0x00BB: "TLS_DH_DSS_WITH_CAMELLIA_128_CBC_SHA256",  # RFC 5932
    0x00BC: "TLS_DH_RSA_WITH_CAMELLIA_128_CBC_SHA256",  # RFC 5932
    0x00BD: "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA256",  # RFC 5932
    0x00BE: "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256",  # RFC 5932
    0x00BF: "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA256",  # RFC 5932
    0x00C0: "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256",  # RFC 5932
    0x00C1: "TLS_DH_DSS_WITH_CAMELLIA_256_CBC_SHA256",  # RFC 5932
    0x00C2: "TLS_DH_RSA_WITH_CAMELLIA_256_CBC_SHA256",  # RFC 5932
    0x00C3: "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA256",  # RFC 5932
    0x00C4: "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256",  # RFC 5932
    0x00C5: "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA256",  # RFC 5932
    0x00C6: "TLS_SM4_GCM_SM3",  # RFC 8998
    0x00C7: "TLS_SM4_CCM_SM3",  # RFC 8998
    0x00FF: "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",  # RFC 5746
    0x1301: "TLS_AES_128_GCM_SHA256",  # RFC 8446
    0x1302: "TLS_AES_256_GCM_SHA384",  # RFC 8446
    0x1303: "TLS_CHACHA20_POLY1305_SHA256",  # RFC 8446
    0x1304: "TLS_AES_128_CCM_SHA256",  # RFC 8446
    0x1305: "TLS_AES_128_CCM_8_SHA256",  # RFC 8446
    0x1306: "TLS_AEGIS_256_SHA512",  # draft-irtf-cfrg-aegis-aead
    0x1307: "TLS_AEGIS_128L_SHA256",  # draft-irtf-cfrg-aegis-aead
    0x5600: "TLS_FALLBACK_SCSV",  # RFC 7507
    0xC001: "TLS_ECDH_ECDSA_WITH_NULL_SHA",  # RFC 8422
    0xC002: "TLS_ECDH_ECDSA_WITH_RC4_128_SHA",  # RFC 8422
    0xC003: "TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA",  # RFC 8422
    0xC004: "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA",  # RFC 8422
    0xC005: "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA",  # RFC 8422
    0xC006: "TLS_ECDHE_ECDSA_WITH_NULL_SHA",  # RFC 8422
    0xC007: "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",  # RFC 8422
    0xC008: "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA",  # RFC 8422
    0xC009: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",  # RFC 8422
    0xC00A: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",  # RFC 8422
    0xC00B: "TLS_ECDH_RSA_WITH_NULL_SHA",  # RFC 8422
    0xC00C: "TLS_ECDH_RSA_WITH_RC4_128_SHA",  # RFC 8422
    0xC00D: "TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA",  # RFC 8422
    0xC00E: "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA",  # RFC 8422
    0xC00F: "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA",  # RFC 8422
    0xC010: "TLS_ECDHE_RSA_WITH_NULL_SHA",  # RFC 8422
    0xC011: "TLS_ECDHE_RSA_WITH_RC4_128_SHA",  # RFC 8422
    0xC012: "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",  # RFC 8422
    0xC013: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",  # RFC 8422
    0xC014: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",  # RFC 8422
    0xC015: "TLS_ECDH_anon_WITH_NULL_SHA",  # RFC 8422
    0xC016: "TLS_ECDH_anon_WITH_RC4_128_SHA",  # RFC 8422
    0xC017: "TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA",  # RFC 8422
    0xC018: "TLS_ECDH_anon_WITH_AES_128_CBC_SHA",  # RFC 8422
    0xC019: "TLS_ECDH_anon_WITH_AES_256_CBC_SHA",  # RFC 8422
    0xC01A: "TLS_SRP_SHA_WITH_3DES_EDE_CBC_SHA",  # RFC 5054
    0xC01B: "TLS_SRP_SHA_RSA_WITH_3DES_EDE_CBC_SHA",  # RFC 5054
    0xC01C: "TLS_SRP_SHA_DSS_WITH_3DES_EDE_CBC_SHA",  # RFC 5054
    0xC01D: "TLS_SRP_SHA_WITH_AES_128_CBC_SHA",  # RFC 5054
    0xC01E: "TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA",  # RFC 5054
    0xC01F: "TLS_SRP_SHA_DSS_WITH_AES_128_CBC_SHA",  # RFC 5054
    0xC020: "TLS_SRP_SHA_WITH_AES_256_CBC_SHA",  # RFC 5054
    0xC021: "TLS_SRP_SHA_RSA_WITH_AES_256_CBC_SHA",  # RFC 5054
    0xC022: "TLS_SRP_SHA_DSS_WITH_AES_256_CBC_SHA",  # RFC 5054
    0xC023: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",  # RFC 5289
    0xC024: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",  # RFC 5289
    0xC025: "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256",  # RFC 5289
    0xC026: "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384",  # RFC 5289
    0xC027: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",  # RFC 5289
    0xC028: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",  # RFC 5289
    0xC029: "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256",  # RFC 5289
    0xC02A: "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384",  # RFC 5289
    0xC02B: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",  # RFC 5289
    0xC02C: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",  # RFC 5289
    0xC02D: "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256",  # RFC 5289
    0xC02E: "TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384",  # RFC 5289
    0xC02F: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",  # RFC 5289
    0xC030: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",  # RFC 5289
    0xC031: "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256",  # RFC 5289
    0xC032: "TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384",  # RFC 5289
    0xC033: "TLS_ECDHE_PSK_WITH_RC4_128_SHA",  # RFC 5489
    0xC034: "TLS_ECDHE_PSK_WITH_3DES_EDE_CBC_SHA",  # RFC 5489
    0xC035: "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA",  # RFC 5489
    0xC036: "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA",  # RFC 5489
    0xC037: "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256",  # RFC 5489
    0xC038: "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384",  # RFC 5489
    0xC039: "TLS_ECDHE_PSK_WITH_NULL_SHA",  # RFC 5489
    0xC03A: "TLS_ECDHE_PSK_WITH_NULL_SHA256",  # RFC 5489
    0xC03B: "TLS_ECDHE_PSK_WITH_NULL_SHA384",  # RFC 5489
    0xC03C: "TLS_RSA_WITH_ARIA_128_CBC_SHA256",  # RFC 6209
    0xC03D: "TLS_RSA_WITH_ARIA_256_CBC_SHA384",  # RFC 6209
    0xC03E: "TLS_DH_DSS_WITH_ARIA_128_CBC_SHA256",  # RFC 6209
    0xC03F: "TLS_DH_DSS_WITH_ARIA_256_CBC_SHA384",  # RFC 6209
    0xC040: "TLS_DH_RSA_WITH_ARIA_128_CBC_SHA256",  # RFC 6209
    0xC041: "TLS_DH_RSA_WITH_ARIA_256_CBC_SHA384",  # RFC 6209
    0xC042: "TLS_DHE_DSS_WITH_ARIA_128_CBC_SHA256",  # RFC 6209
    0xC043: "TLS_DHE_DSS_WITH_ARIA_256_CBC_SHA384",  # RFC 6209
    0xC044: "TLS_DHE_RSA_WITH_ARIA_128_CBC_SHA256",  # RFC 6209
    0xC045: "TLS_DHE_RSA_WITH_ARIA_256_CBC_SHA384",  # RFC 6209
    0xC046: "TLS_DH_anon_WITH_ARIA_128_CBC_SHA256",  # RFC 6209
    0xC047: "TLS_DH_anon_WITH_ARIA_256_CBC_SHA384",  # RFC 6209
    0xC048: "TLS_ECDHE_ECDSA_WITH_ARIA_128_CBC_SHA256",  # RFC 6209
    0xC049: "TLS_ECDHE_ECDSA_WITH_ARIA_256_CBC_SHA384",  # RFC 6209
    0xC04A: "TLS_ECDH_ECDSA_WITH_ARIA_128_CBC_SHA256",  # RFC 6209
    0xC04B: "TLS_ECDH_ECDSA_WITH_ARIA_256_CBC_SHA384",  # RFC 6209
    0xC04C: "TLS_ECDHE_RSA_WITH_ARIA_128_CBC_SHA256",  # RFC 6209
    0xC04D: "TLS_ECDHE_RSA_WITH_ARIA_256_CBC_SHA384",  # RFC 6209
    0xC04E: "TLS_ECDH_RSA_WITH_ARIA_128_CBC_SHA256",  # RFC 6209
    0xC04F: "TLS_ECDH_RSA_WITH_ARIA_256_CBC_SHA384",  # RFC 6209
    0xC050: "TLS_RSA_WITH_ARIA_128_GCM_SHA256",  # RFC 6209
    0xC051: "TLS_RSA_WITH_ARIA_256_GCM_SHA384",  # RFC 6209
    0xC052: "TLS_DHE_RSA_WITH_ARIA_128_GCM_SHA256",  # RFC 6209
    0xC053: "TLS_DHE_RSA_WITH_ARIA_256_GCM_SHA384",  # RFC 6209
    0xC054: "TLS_DH_RSA_WITH_ARIA_128_GCM_SHA256",  # RFC 6209
    0xC055: "TLS_DH_RSA_WITH_ARIA_256_GCM_SHA384",  # RFC 6209
    0xC056: "TLS_DHE_DSS_WITH_ARIA_128_GCM_SHA256",  # RFC 6209
    0xC057: "TLS_DHE_DSS_WITH_ARIA_256_GCM_SHA384",  # RFC 6209
    0xC058: "TLS_DH_DSS_WITH_ARIA_128_GCM_SHA256",  # RFC 6209
    0xC059: "TLS_DH_DSS_WITH_ARIA_256_GCM_SHA384",  # RFC 6209
    0xC05A: "TLS_DH_anon_WITH_ARIA_128_GCM_SHA256",  # RFC 6209
    0xC05B: "TLS_DH_anon_WITH_ARIA_256_GCM_SHA384",  # RFC 6209
    0xC05C: "TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256",  # RFC 6209
    0xC05D: "TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384",  # RFC 6209
    0xC05E: "TLS_ECDH_ECDSA_WITH_ARIA_128_GCM_SHA256",  # RFC 6209
    0xC05F: "TLS_ECDH_ECDSA_WITH_ARIA_256_GCM_SHA384",  # RFC 6209
    0xC060: "TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256",  # RFC 6209
    0xC061: "TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384",  # RFC 6209
    0xC062: "TLS_ECDH_RSA_WITH_ARIA_128_GCM_SHA256",  # RFC 6209
    0xC063: "TLS_ECDH_RSA_WITH_ARIA_256_GCM_SHA384",  # RFC 6209
    0xC064: "TLS_PSK_WITH_ARIA_128_CBC_SHA256",  # RFC 6209
    0xC065: "TLS_PSK_WITH_ARIA_256_CBC_SHA384",  # RFC 6209
    0xC066: "TLS_DHE_PSK_WITH_ARIA_128_CBC_SHA256",  # RFC 6209
    0xC067: "TLS_DHE_PSK_WITH_ARIA_256_CBC_SHA384",  # RFC 6209
    0xC068: "TLS_RSA_PSK_WITH_ARIA_128_CBC_SHA256",  # RFC 6209
    0xC069: "TLS_RSA_PSK_WITH_ARIA_256_CBC_SHA384",  # RFC 6209
    0xC06A: "TLS_PSK_WITH_ARIA_128_GCM_SHA256",  # RFC 6209
    0xC06B: "TLS_PSK_WITH_ARIA_256_GCM_SHA384",  # RFC 6209
    0xC06C: "TLS_DHE_PSK_WITH_ARIA_128_GCM_SHA256",  # RFC 6209
    0xC06D: "TLS_DHE_PSK_WITH_ARIA_256_GCM_SHA384",  # RFC 6209
    0xC06E: "TLS_RSA_PSK_WITH_ARIA_128_GCM_SHA256",  # RFC 6209
    0xC06F: "TLS_RSA_PSK_WITH_ARIA_256_GCM_SHA384",  # RFC 6209
    0xC070: "TLS_ECDHE_PSK_WITH_ARIA_128_CBC_SHA256",  # RFC 6209
    0xC071: "TLS_ECDHE_PSK_WITH_ARIA_256_CBC_SHA384",  # RFC 6209
    0xC072: "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256",  # RFC 6367
    0xC073: "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384",  # RFC 6367
    0xC074: "TLS_ECDH_ECDSA_WITH_CAMELLIA_128_CBC_SHA256",  # RFC 6367
    0xC075: "TLS_ECDH_ECDSA_WITH_CAMELLIA_256_CBC_SHA384",  # RFC 6367
    0xC076: "TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256",  # RFC 6367
    0xC077: "TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384",  # RFC 6367
    0xC078: "TLS_ECDH_RSA_WITH_CAMELLIA_128_CBC_SHA256",  # RFC 6367
    0xC079: "TLS_ECDH_RSA_WITH_CAMELLIA_256_CBC_SHA384",  # RFC 6367
    0xC07A: "TLS_RSA_WITH_CAMELLIA_128_GCM_SHA256",  # RFC 6367
    0xC07B: "TLS_RSA_WITH_CAMELLIA_256_GCM_SHA384",  # RFC 6367
    0xC07C: "TLS_DHE_RSA_WITH_CAMELLIA_128_GCM_SHA256",  # RFC 6367
    0xC07D: "TLS_DHE_RSA_WITH_CAMELLIA_256_GCM_SHA384",  # RFC 6367
    0xC07E: "TLS_DH_RSA_WITH_CAMELLIA_128_GCM_SHA256",  # RFC 6367
    0xC07F: "TLS_DH_RSA_WITH_CAMELLIA_256_GCM_SHA384",  # RFC 6367
    0xC080: "TLS_DHE_DSS_WITH_CAMELLIA_128_GCM_SHA256",  # RFC 6367
    0xC081: "TLS_DHE_DSS_WITH_CAMELLIA_256_GCM_SHA384",  # RFC 6367
    0xC082: "TLS_DH_DSS_WITH_CAMELLIA_128_GCM_SHA256",  # RFC 6367
    0xC083: "TLS_DH_DSS_WITH_CAMELLIA_256_GCM_SHA384",  # RFC 6367
    0xC084: "TLS_DH_anon_WITH_CAMELLIA_128_GCM_SHA256",  # RFC 6367
    0xC085: "TLS_DH_anon_WITH_CAMELLIA_256_GCM_SHA384",  # RFC 6367
    0xC086: "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_GCM_SHA256",  # RFC 6367
    0xC087: "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_GCM_SHA384",  # RFC 6367
    0xC088: "TLS_ECDH_ECDSA_WITH_CAMELLIA_128_GCM_SHA256",  # RFC 6367
    0xC089: "TLS_ECDH_ECDSA_WITH_CAMELLIA_256_GCM_SHA384",  # RFC 6367
    0xC08A: "TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256",  # RFC 6367
    0xC08B: "TLS_ECDHE_RSA_WITH_CAMELLIA_256_GCM_SHA384",  # RFC 6367
    0xC08C: "TLS_ECDH_RSA_WITH_CAMELLIA_128_GCM_SHA256",  # RFC 6367
    0xC08D: "TLS_ECDH_RSA_WITH_CAMELLIA_256_GCM_SHA384",  # RFC 6367
    0xC08E: "TLS_PSK_WITH_CAMELLIA_128_GCM_SHA256",  # RFC 6367
    0xC08F: "TLS_PSK_WITH_CAMELLIA_256_GCM_SHA384",  # RFC 6367
    0xC090: "TLS_DHE_PSK_WITH_CAMELLIA_128_GCM_SHA256",  # RFC 6367
    0xC091: "TLS_DHE_PSK_WITH_CAMELLIA_256_GCM_SHA384",  # RFC 6367
    0xC092: "TLS_RSA_PSK_WITH_CAMELLIA_128_GCM_SHA256",  # RFC 6367
    0xC093: "TLS_RSA_PSK_WITH_CAMELLIA_256_GCM_SHA384",  # RFC 6367
    0xC094: "TLS_PSK_WITH_CAMELLIA_128_CBC_SHA256",  # RFC 6367
    0xC095: "TLS_PSK_WITH_CAMELLIA_256_CBC_SHA384",  # RFC 6367
    0xC096: "TLS_DHE_PSK_WITH_CAMELLIA_128_CBC_SHA256",  # RFC 6367
    0xC097: "TLS_DHE_PSK_WITH_CAMELLIA_256_CBC_SHA384",  # RFC 6367
    0xC098: "TLS_RSA_PSK_WITH_CAMELLIA_128_CBC_SHA256",  # RFC 6367
    0xC099: "TLS_RSA_PSK_WITH_CAMELLIA_256_CBC_SHA384",  # RFC 6367
    0xC09A: "TLS_ECDHE_PSK_WITH_CAMELLIA_128_CBC_SHA256",  # RFC 6367
    0xC09B: "TLS_ECDHE_PSK_WITH_CAMELLIA_256_CBC_SHA384",  # RFC 6367
    0xC09C: "TLS_RSA_WITH_AES_128_CCM",  # RFC 6655
    0xC09D: "TLS_RSA_WITH_AES_256_CCM",  # RFC 6655
    0xC09E: "TLS_DHE_RSA_WITH_AES_128_CCM",  # RFC 6655
    0xC09F: "TLS_DHE_RSA_WITH_AES_256_CCM",  # RFC 6655
    0xC0A0: "TLS_RSA_WITH_AES_128_CCM_8",  # RFC 6655
    0xC0A1: "TLS_RSA_WITH_AES_256_CCM_8",  # RFC 6655
    0xC0A2: "TLS_DHE_RSA_WITH_AES_128_CCM_8",  # RFC 6655
    0xC0A3: "TLS_DHE_RSA_WITH_AES_256_CCM_8",  # RFC 6655
    0xC0A4: "TLS_PSK_WITH_AES_128_CCM",  # RFC 6655
    0xC0A5: "TLS_PSK_WITH_AES_256_CCM",  # RFC 6655
    0xC0A6: "TLS_DHE_PSK_WITH_AES_128_CCM",  # RFC 6655
    0xC0A7: "TLS_DHE_PSK_WITH_AES_256_CCM",  # RFC 6655
    0xC0A8: "TLS_PSK_WITH_AES_128_CCM_8",  # RFC 6655
    0xC0A9: "TLS_PSK_WITH_AES_256_CCM_8",  # RFC 6655
    0xC0AA: "TLS_PSK_DHE_WITH_AES_128_CCM_8",  # RFC 6655
    0xC0AB: "TLS_PSK_DHE_WITH_AES_256_CCM_8",  # RFC 6655
    0xC0AC: "TLS_ECDHE_ECDSA_WITH_AES_128_CCM",  # RFC 7251
    0xC0AD: "TLS_ECDHE_ECDSA_WITH_AES_256_CCM",  # RFC 7251
    0xC0AE: "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",  # RFC 7251
    0xC0AF: "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8",  # RFC 7251
    0xC0B0: "TLS_ECCPWD_WITH_AES_128_GCM_SHA256",  # RFC 8492
    0xC0B1: "TLS_ECCPWD_WITH_AES_256_GCM_SHA384",  # RFC 8492
    0xC0B2: "TLS_ECCPWD_WITH_AES_128_CCM_SHA256",  # RFC 8492
    0xC0B3: "TLS_ECCPWD_WITH_AES_256_CCM_SHA384",  # RFC 8492
    0xC0B4: "TLS_SHA256_SHA256",  # RFC 9150
    0xC0B5: "TLS_SHA384_SHA384",  # RFC 9150
    0xC100: "TLS_GOSTR341112_256_WITH_KUZNYECHIK_CTR_OMAC",  # RFC 9189
    0xC101: "TLS_GOSTR341112_256_WITH_MAGMA_CTR_OMAC",  # RFC 9189
    0xC102: "TLS_GOSTR341112_256_WITH_28147_CNT_IMIT",  # RFC 9189
    0xC103: "TLS_GOSTR341112_256_WITH_KUZNYECHIK_MGM_L",  # RFC 9367
    0xC104: "TLS_GOSTR341112_256_WITH_MAGMA_MGM_L",  # RFC 9367
    0xC105: "TLS_GOSTR341112_256_WITH_KUZNYECHIK_MGM_S",  # RFC 9367
    0xC106: "TLS_GOSTR341112_256_WITH_MAGMA_MGM_S",  # RFC 9367
    0xCCA8: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",  # RFC 7905
    0xCCA9: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",  # RFC 7905
    0xCCAA: "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",  # RFC 7905
    0xCCAB: "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256",  # RFC 7905
    0xCCAC: "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256",  # RFC 7905
    0xCCAD: "TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256",  # RFC 7905
    0xCCAE: "TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256",  # RFC 7905
    0xD001: "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256",  # RFC 8442
    0xD002: "TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384",  # RFC 8442
    0xD003: "TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256",  # RFC 8442
    0xD005: "TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256",  # RFC 8442
}



# IANA "TLS Supported Groups" (RFC 8422 §5.1.1, RFC 7919, RFC 8446 §4.2.7). Two bytes.
# (The IntEnum ``NamedGroup`` is built from this table on first use: see ``__getattr__``.)
_NAMED_GROUP_NAMES: dict[int, str] = {
    1: "sect163k1",  # deprecated: sect* and the small secp* curves
    2: "sect163r1",
    3: "sect163r2",
    4: "sect193r1",
    5: "sect193r2",
    6: "sect233k1",
    7: "sect233r1",
    8: "sect239k1",
    9: "sect283k1",
    10: "sect283r1",
    11: "sect409k1",
    12: "sect409r1",
    13: "sect571k1",
    14: "sect571r1",
    15: "secp160k1",
    16: "secp160r1",
    17: "secp160r2",
    18: "secp192k1",
    19: "secp192r1",
    20: "secp224k1",
    21: "secp224r1",
    22: "secp256k1",
    23: "secp256r1",
    24: "secp384r1",
    25: "secp521r1",
    26: "brainpoolP256r1",  # RFC 7027
    27: "brainpoolP384r1",
    28: "brainpoolP512r1",
    29: "x25519",
    30: "x448",
    31: "brainpoolP256r1tls13",  # RFC 8734
    32: "brainpoolP384r1tls13",
    33: "brainpoolP512r1tls13",
    34: "GC256A",  # RFC 9189
    35: "GC256B",
    36: "GC256C",
    37: "GC256D",
    38: "GC512A",
    39: "GC512B",
    40: "GC512C",
    41: "curveSM2",  # RFC 8998
    256: "ffdhe2048",  # RFC 7919
    257: "ffdhe3072",
    258: "ffdhe4096",
    259: "ffdhe6144",
    260: "ffdhe8192",
    512: "MLKEM512",  # draft-ietf-tls-mlkem
    513: "MLKEM768",
    514: "MLKEM1024",
    0x11EB: "SecP256r1MLKEM768",  # draft-ietf-tls-ecdhe-mlkem
    0x11EC: "X25519MLKEM768",
    0x11ED: "SecP384r1MLKEM1024",
    0x6399: "X25519Kyber768Draft00",  # obsolete pre-standard hybrid, still seen in captures
    0x639A: "SecP256r1Kyber768Draft00",  # obsolete
    0xFF01: "arbitrary_explicit_prime_curves",  # RFC 8422, deprecated
    0xFF02: "arbitrary_explicit_char2_curves",
}



# IANA "TLS SignatureScheme" (RFC 8446 §4.2.3). Two bytes.
#
#     In TLS 1.2 the same two bytes are a (HashAlgorithm, SignatureAlgorithm) pair
#     (RFC 5246 §7.4.1.4.1); the pairs TLS 1.3 left out are in ``LEGACY_HASH_SIGNATURE``.
# (The IntEnum ``SignatureScheme`` is built from this table on first use: see ``__getattr__``.)
_SIGNATURE_SCHEME_NAMES: dict[int, str] = {
    0x0201: "rsa_pkcs1_sha1",
    0x0203: "ecdsa_sha1",
    0x0401: "rsa_pkcs1_sha256",
    0x0403: "ecdsa_secp256r1_sha256",
    0x0420: "rsa_pkcs1_sha256_legacy",  # draft-davidben-tls13-pkcs1
    0x0501: "rsa_pkcs1_sha384",
    0x0503: "ecdsa_secp384r1_sha384",
    0x0520: "rsa_pkcs1_sha384_legacy",
    0x0601: "rsa_pkcs1_sha512",
    0x0603: "ecdsa_secp521r1_sha512",
    0x0620: "rsa_pkcs1_sha512_legacy",
    0x0704: "eccsi_sha256",  # draft-wang-tls-raw-public-key-with-ibc
    0x0705: "iso_ibs1",
    0x0706: "iso_ibs2",
    0x0707: "iso_chinese_ibs",
    0x0708: "sm2sig_sm3",  # RFC 8998
    0x0709: "gostr34102012_256a",  # RFC 9367
    0x070A: "gostr34102012_256b",
    0x070B: "gostr34102012_256c",
    0x070C: "gostr34102012_256d",
    0x070D: "gostr34102012_512a",
    0x070E: "gostr34102012_512b",
    0x070F: "gostr34102012_512c",
    0x0804: "rsa_pss_rsae_sha256",
    0x0805: "rsa_pss_rsae_sha384",
    0x0806: "rsa_pss_rsae_sha512",
    0x0807: "ed25519",
    0x0808: "ed448",
    0x0809: "rsa_pss_pss_sha256",
    0x080A: "rsa_pss_pss_sha384",
    0x080B: "rsa_pss_pss_sha512",
    0x081A: "ecdsa_brainpoolP256r1tls13_sha256",  # RFC 8734
    0x081B: "ecdsa_brainpoolP384r1tls13_sha384",
    0x081C: "ecdsa_brainpoolP512r1tls13_sha512",
    0x0904: "mldsa44",  # draft-ietf-tls-mldsa
    0x0905: "mldsa65",
    0x0906: "mldsa87",
}


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



# IANA "TLS ExtensionType Values" (RFC 8446 §4.2). Two bytes.
#
#     Two code points were never assigned by IANA but are common on the wire, and are
#     kept so captures read well: ``next_protocol_negotiation`` and ``application_settings``.
# (The IntEnum ``ExtensionType`` is built from this table on first use: see ``__getattr__``.)
_EXTENSION_TYPE_NAMES: dict[int, str] = {
    0: "server_name",  # RFC 6066
    1: "max_fragment_length",
    2: "client_certificate_url",
    3: "trusted_ca_keys",
    4: "truncated_hmac",
    5: "status_request",
    6: "user_mapping",  # RFC 4681
    7: "client_authz",  # RFC 5878
    8: "server_authz",
    9: "cert_type",  # RFC 6091
    10: "supported_groups",  # "elliptic_curves" before RFC 7919
    11: "ec_point_formats",  # RFC 8422
    12: "srp",  # RFC 5054
    13: "signature_algorithms",  # RFC 8446
    14: "use_srtp",  # RFC 5764
    15: "heartbeat",  # RFC 6520
    16: "application_layer_protocol_negotiation",  # RFC 7301
    17: "status_request_v2",  # RFC 6961
    18: "signed_certificate_timestamp",  # RFC 6962
    19: "client_certificate_type",  # RFC 7250
    20: "server_certificate_type",
    21: "padding",  # RFC 7685
    22: "encrypt_then_mac",  # RFC 7366
    23: "extended_master_secret",  # RFC 7627
    24: "token_binding",  # RFC 8472
    25: "cached_info",  # RFC 7924
    26: "tls_lts",
    27: "compress_certificate",  # RFC 8879
    28: "record_size_limit",  # RFC 8449
    29: "pwd_protect",  # RFC 8492
    30: "pwd_clear",
    31: "password_salt",
    32: "ticket_pinning",  # RFC 8672
    33: "tls_cert_with_extern_psk",  # RFC 8773
    34: "delegated_credential",  # RFC 9345
    35: "session_ticket",  # RFC 5077
    36: "TLMSP",
    37: "TLMSP_proxying",
    38: "TLMSP_delegate",
    39: "supported_ekt_ciphers",  # RFC 8870
    41: "pre_shared_key",  # RFC 8446
    42: "early_data",
    43: "supported_versions",
    44: "cookie",
    45: "psk_key_exchange_modes",
    47: "certificate_authorities",
    48: "oid_filters",
    49: "post_handshake_auth",
    50: "signature_algorithms_cert",
    51: "key_share",
    52: "transparency_info",  # RFC 9162
    53: "connection_id_deprecated",  # "connection_id (deprecated)"
    54: "connection_id",  # RFC 9146
    55: "external_id_hash",  # RFC 8844
    56: "external_session_id",
    57: "quic_transport_parameters",  # RFC 9001
    58: "ticket_request",  # RFC 9149
    59: "dnssec_chain",  # RFC 9102
    60: "sequence_number_encryption_algorithms",
    61: "rrc",
    62: "tls_flags",
    13172: "next_protocol_negotiation",  # not IANA: draft-agl-tls-nextprotoneg
    17513: "application_settings",  # not IANA: draft-vvv-tls-alps, BoringSSL's code point
    0xFD00: "ech_outer_extensions",  # Encrypted Client Hello
    0xFE0D: "encrypted_client_hello",
    0xFF01: "renegotiation_info",  # RFC 5746
}



# IANA "TLS ClientCertificateType Identifiers" (RFC 5246 §7.4.4). One byte.
# (The IntEnum ``ClientCertificateType`` is built from this table on first use: see ``__getattr__``.)
_CLIENT_CERTIFICATE_TYPE_NAMES: dict[int, str] = {
    1: "rsa_sign",
    2: "dss_sign",
    3: "rsa_fixed_dh",
    4: "dss_fixed_dh",
    5: "rsa_ephemeral_dh",  # reserved since TLS 1.2
    6: "dss_ephemeral_dh",  # reserved since TLS 1.2
    20: "fortezza_dms",  # reserved
    64: "ecdsa_sign",  # RFC 8422
    65: "rsa_fixed_ecdh",
    66: "ecdsa_fixed_ecdh",
    67: "gost_sign256",  # RFC 9189
    68: "gost_sign512",
}


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
_ONE_BYTE_NAMES = frozenset(
    {
        "ContentType",
        "HandshakeType",
        "AlertLevel",
        "AlertDescription",
        "ClientCertificateType",
        "CertificateStatusType",
        "KeyUpdateRequest",
        "ECCurveType",
    }
)


# The large registries are plain tables; their IntEnums are built on first use (building
# ~500 enum members costs ~10 ms at import, and most runs only need a name or two).
_LAZY_TABLES: dict[str, dict[int, str]] = {
    "CipherSuite": _CIPHER_SUITE_NAMES,
    "NamedGroup": _NAMED_GROUP_NAMES,
    "SignatureScheme": _SIGNATURE_SCHEME_NAMES,
    "ExtensionType": _EXTENSION_TYPE_NAMES,
    "HandshakeType": _HANDSHAKE_TYPE_NAMES,
    "AlertDescription": _ALERT_DESCRIPTION_NAMES,
    "ClientCertificateType": _CLIENT_CERTIFICATE_TYPE_NAMES,
}


def __getattr__(name: str) -> Any:
    """Build ``CipherSuite``, ``NamedGroup``, ``SignatureScheme`` or ``ExtensionType`` on first use."""
    table = _LAZY_TABLES.get(name)
    if table is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    cls = IntEnum(name, [(n, v) for v, n in table.items()], module=__name__)  # type: ignore[misc]
    globals()[name] = cls
    return cls


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


def describe(enum_cls: Union[type[IntEnum], str], value: int) -> str:
    """Name a raw wire value through one of the registries above, never failing.

    Args:
        enum_cls: the registry, e.g. ``CipherSuite`` or ``AlertDescription``, or its name
            (``"CipherSuite"``): naming it by string does not build the large enums.
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
    registry = enum_cls if isinstance(enum_cls, str) else enum_cls.__name__
    table = _LAZY_TABLES.get(registry)
    if table is not None:
        name = table.get(value)
        if name is not None:
            return name
    else:
        cls = enum_cls if not isinstance(enum_cls, str) else globals()[enum_cls]
        try:
            return str(cls(value).name)
        except ValueError:
            pass
    if registry == "SignatureScheme" and value in LEGACY_HASH_SIGNATURE:
        return LEGACY_HASH_SIGNATURE[value]
    if registry in _ONE_BYTE_NAMES:
        return f"0x{value:02x}"
    if is_grease(value):
        return f"GREASE(0x{value:04x})"
    return f"0x{value:04x}"


@frozen
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
_TLS13_SUITE_NAMES = frozenset(
    {
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_AES_128_CCM_SHA256",
        "TLS_AES_128_CCM_8_SHA256",
        "TLS_AEGIS_256_SHA512",
        "TLS_AEGIS_128L_SHA256",
        "TLS_SM4_GCM_SM3",
        "TLS_SM4_CCM_SM3",
        "TLS_SHA256_SHA256",
        "TLS_SHA384_SHA384",
        "TLS_GOSTR341112_256_WITH_KUZNYECHIK_MGM_L",
        "TLS_GOSTR341112_256_WITH_MAGMA_MGM_L",
        "TLS_GOSTR341112_256_WITH_KUZNYECHIK_MGM_S",
        "TLS_GOSTR341112_256_WITH_MAGMA_MGM_S",
    }
)
_TLS13_SUITES: frozenset[int] = frozenset(v for v, n in _CIPHER_SUITE_NAMES.items() if n in _TLS13_SUITE_NAMES)

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
    name = _CIPHER_SUITE_NAMES.get(code)
    if name is None:
        return None
    return _parse_suite_name(code, name)
