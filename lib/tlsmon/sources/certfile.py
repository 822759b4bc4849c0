"""Read certificates from a file: PEM, DER, PKCS#7 (PEM or DER) or PKCS#12.

The one source of certificates that is not a TLS peer. Every failure is a one-line
``CertificateFileError``; nothing else escapes.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import stat
from os import PathLike
from typing import Optional, Union

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12

from ..errors import CertificateFileError

__all__ = ["MAX_FILE_SIZE", "read_certificate_file"]

MAX_FILE_SIZE = 10 * 1024 * 1024  # certificate files are kilobytes; refuse anything this big

# RFC 7468 §2: -----BEGIN label----- base64 -----END label-----, anywhere in the text
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 #]+)-----(.*?)-----END \1-----", re.DOTALL)
_CERTIFICATE_LABELS = {b"CERTIFICATE", b"X509 CERTIFICATE", b"TRUSTED CERTIFICATE"}
_PKCS7_LABELS = {b"PKCS7", b"PKCS #7 SIGNED DATA", b"CMS"}

PathArg = Union[str, PathLike[str]]


def read_certificate_file(path: PathArg, password: Optional[bytes] = None) -> tuple[bytes, ...]:
    """The DER certificates in a file, in file order.

    Accepted: PEM with one or more CERTIFICATE blocks (private keys and text around the
    blocks are ignored), PEM PKCS#7, a single DER certificate, DER PKCS#7, and PKCS#12
    (its certificate matching the key first, then the other certificates).

    Args:
        path: the file.
        password: for PKCS#12; None tries no password and then the empty one.

    Returns:
        At least one DER certificate.

    Raises:
        CertificateFileError: missing, unreadable, too large, or no certificate found;
            ``cannot read 'x.pem': no certificate found``.
    """
    shown = os.fsdecode(path)
    data = _read_bounded(shown, path)
    if b"-----BEGIN " in data:
        certs = _from_pem(shown, data)
    else:
        certs = _from_binary(shown, data, password)
    if not certs:
        raise _error(shown, "no certificate found")
    return certs


def _error(shown: str, reason: str) -> CertificateFileError:
    return CertificateFileError(f"cannot read '{shown}': {reason}")


def _read_bounded(shown: str, path: PathArg) -> bytes:
    try:
        with open(path, "rb") as f:
            info = os.fstat(f.fileno())
            if stat.S_ISDIR(info.st_mode):
                raise _error(shown, "is a directory")
            if info.st_size > MAX_FILE_SIZE:
                raise _error(shown, f"larger than {MAX_FILE_SIZE // (1024 * 1024)} MiB")
            data = f.read(MAX_FILE_SIZE + 1)  # a FIFO or a growing file: st_size is no bound
    except FileNotFoundError:
        raise _error(shown, "not found") from None
    except PermissionError:
        raise _error(shown, "permission denied") from None
    except IsADirectoryError:
        raise _error(shown, "is a directory") from None
    except OSError as exc:
        raise _error(shown, exc.strerror or type(exc).__name__) from None
    if len(data) > MAX_FILE_SIZE:
        raise _error(shown, f"larger than {MAX_FILE_SIZE // (1024 * 1024)} MiB")
    if not data.strip():
        raise _error(shown, "no certificate found (empty file)")
    return data


def _from_pem(shown: str, data: bytes) -> tuple[bytes, ...]:
    certs: list[bytes] = []
    for number, match in enumerate(_PEM_BLOCK.finditer(data), 1):
        label = match.group(1)
        if label not in _CERTIFICATE_LABELS and label not in _PKCS7_LABELS:
            continue  # private keys, parameters, CRLs ...
        try:
            der = base64.b64decode(b"".join(match.group(2).split()), validate=True)
        except (binascii.Error, ValueError):
            raise _error(shown, f"PEM block {number} ({label.decode()}) is not valid base64") from None
        if label in _PKCS7_LABELS:
            certs.extend(_pkcs7_der(shown, der))
            continue
        if label == b"TRUSTED CERTIFICATE":
            der = der[: _der_length(der)]  # OpenSSL appends its trust settings after the certificate
        try:
            x509.load_der_x509_certificate(der)
        except ValueError:
            raise _error(shown, f"PEM block {number} ({label.decode()}) is not a valid certificate") from None
        certs.append(der)
    return tuple(certs)


def _from_binary(shown: str, data: bytes, password: Optional[bytes]) -> tuple[bytes, ...]:
    try:
        x509.load_der_x509_certificate(data)
        return (data,)
    except ValueError:
        pass
    if _looks_like_pkcs12(data):
        return _pkcs12(shown, data, password)
    try:
        return _pkcs7_der(shown, data)
    except CertificateFileError:
        pass
    return ()


def _pkcs7_der(shown: str, der: bytes) -> tuple[bytes, ...]:
    try:
        loaded = pkcs7.load_der_pkcs7_certificates(der)
    except ValueError:
        # also cryptography < 39's answer to a PKCS#7 without certificates
        raise _error(shown, "not a PKCS#7 bundle with certificates") from None
    return tuple(c.public_bytes(serialization.Encoding.DER) for c in loaded)


def _pkcs12(shown: str, data: bytes, password: Optional[bytes]) -> tuple[bytes, ...]:
    # OpenSSL tells a missing password from an empty one; users cannot, so try both
    attempts = [password] if password is not None else [None, b""]
    for attempt in attempts:
        try:
            _key, cert, extra = pkcs12.load_key_and_certificates(data, attempt)
        except ValueError:
            continue
        except UnsupportedAlgorithm as exc:  # e.g. RC2-40 without OpenSSL's legacy provider
            raise _error(shown, f"unsupported PKCS#12 encryption ({exc})") from None
        chain = ([cert] if cert is not None else []) + list(extra)
        return tuple(c.public_bytes(serialization.Encoding.DER) for c in chain)
    raise _error(shown, "wrong password or not PKCS#12")


def _der_header(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, header length, content length) of the DER element at ``pos``; (-1, 0, 0) if malformed."""
    if pos + 2 > len(data):
        return -1, 0, 0
    tag, first = data[pos], data[pos + 1]
    if first < 0x80:
        return tag, 2, first
    count = first & 0x7F
    if count == 0 or count > 4 or pos + 2 + count > len(data):
        return -1, 0, 0
    return tag, 2 + count, int.from_bytes(data[pos + 2 : pos + 2 + count], "big")


def _der_length(data: bytes) -> int:
    """Length of the first DER element in ``data`` (all of it when malformed)."""
    tag, header, length = _der_header(data, 0)
    return header + length if tag >= 0 else len(data)


def _looks_like_pkcs12(data: bytes) -> bool:
    """RFC 7292 §4: PFX ::= SEQUENCE { version INTEGER {v3(3)}, authSafe ContentInfo, ... }."""
    tag, header, _length = _der_header(data, 0)
    return tag == 0x30 and data[header : header + 3] == b"\x02\x01\x03"
