"""Client certificates for mutual TLS: PEM or PKCS#12, checked before any traffic.

``load_client_credentials`` reads the certificate (with its intermediates, which are
sent too) and the key, with a password from a file or the environment (never argv),
and turns every local problem into one clear ``UsageError`` line: missing or unreadable
files, a wrong or missing password, a key that does not match the certificate. A
PKCS#12 bundle is re-written as PEM into a private temporary directory (mode 0700),
its key encrypted with a random password held only in memory, and removed by
``close()``. The password itself never appears in any message.
"""

from __future__ import annotations

import os
import secrets
import shutil
import ssl
import tempfile
from dataclasses import dataclass
from typing import Optional

from ..errors import CertificateFileError, UsageError
from ..observations import CertificateFacts

__all__ = ["ClientIdentity", "load_client_credentials"]


@dataclass
class ClientIdentity:
    """A loaded client identity.

    Attributes:
        cert_path: PEM with the leaf first, then its intermediates.
        key_path: PEM private key.
        password: the key's password (None when not encrypted).
        chain: facts of the certificates, leaf first.
    """

    cert_path: str
    key_path: str
    password: Optional[bytes]
    chain: tuple[CertificateFacts, ...]
    _tmpdir: Optional[str] = None

    @property
    def leaf(self) -> CertificateFacts:
        return self.chain[0]

    def context(self, base: Optional[ssl.SSLContext] = None) -> ssl.SSLContext:
        """An SSLContext (``base`` or a new client context) holding this identity."""
        ctx = base or ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_cert_chain(self.cert_path, self.key_path, password=self.password or b"")
        return ctx

    def close(self) -> None:
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None


def _read(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(10 * 1024 * 1024 + 1)
    except FileNotFoundError:
        raise UsageError(f"{what} {path!r} not found") from None
    except IsADirectoryError:
        raise UsageError(f"{what} {path!r} is a directory") from None
    except PermissionError:
        raise UsageError(f"{what} {path!r}: permission denied") from None
    except OSError as exc:
        raise UsageError(f"{what} {path!r}: {exc.strerror or exc}") from None


def _check_pair(cert_path: str, key_path: str, password: Optional[bytes], shown_key: str) -> None:
    """Let OpenSSL load the pair, as the handshake will, and word its complaint."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        # A callable, so that OpenSSL never prompts on a terminal for a missing password.
        ctx.load_cert_chain(cert_path, key_path, password=lambda: password or b"")
    except ssl.SSLError as exc:
        reason = (exc.reason or str(exc)).upper()
        if "KEY_VALUES_MISMATCH" in reason:
            raise UsageError(f"the client key {shown_key!r} does not match the client certificate") from None
        if "BAD_DECRYPT" in reason or "BAD PASSWORD" in reason or "PEM LIB" in reason or "DECRYPT" in reason:
            if password:
                raise UsageError(f"wrong password for the client key {shown_key!r}") from None
            raise UsageError(f"the client key {shown_key!r} is encrypted: give its password with "
                             "--clientpass-file or $TLSMON_CLIENTPASS") from None
        raise UsageError(f"cannot use the client certificate/key: {exc.reason or exc}") from None


def load_client_credentials(cert: str, key: Optional[str], password: Optional[bytes]) -> ClientIdentity:
    """Load and check a client identity.

    Args:
        cert: PEM certificate (optionally followed by intermediates, optionally with the key)
            or a PKCS#12 bundle.
        key: PEM key file; None when the key is in ``cert`` (PEM) or the bundle is PKCS#12.
        password: the key's or bundle's password, from a file or the environment.

    Raises:
        UsageError: one line naming the problem (never the password).
    """
    from ..sources.assemble import chain_facts
    from .certfile import read_certificate_file

    data = _read(cert, "client certificate")
    if key is not None:
        _read(key, "client key")
    if b"-----BEGIN" not in data:
        return _from_pkcs12(cert, data, password)
    try:
        ders = read_certificate_file(cert)
    except CertificateFileError as exc:
        raise UsageError(str(exc)) from None
    key_path = key or cert
    if key is None and b"PRIVATE KEY-----" not in data:
        raise UsageError(f"no private key in {cert!r}: give it with -K/--clientkey")
    _check_pair(cert, key_path, password, key_path)
    return ClientIdentity(cert, key_path, password, chain_facts(ders))


def _from_pkcs12(path: str, data: bytes, password: Optional[bytes]) -> ClientIdentity:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    from ..sources.assemble import chain_facts

    try:
        key, leaf, extra = pkcs12.load_key_and_certificates(data, password or None)
    except ValueError:
        try:
            key, leaf, extra = pkcs12.load_key_and_certificates(data, b"") if not password else (None, None, [])
        except ValueError:
            key, leaf, extra = None, None, []
        if key is None:
            if password:
                raise UsageError(f"wrong password for {path!r}, or not a PKCS#12 bundle") from None
            raise UsageError(f"{path!r} is not PEM, or a PKCS#12 bundle that needs a password "
                             "(--clientpass-file or $TLSMON_CLIENTPASS)") from None
    if key is None or leaf is None:
        raise UsageError(f"{path!r} holds no private key and certificate")
    tmpdir = tempfile.mkdtemp(prefix="tlsmon-client-")  # mode 0700
    inner = secrets.token_hex(16).encode()
    try:
        certs = [leaf, *(extra or [])]
        cert_path = os.path.join(tmpdir, "client.pem")
        key_path = os.path.join(tmpdir, "client.key")
        with open(cert_path, "wb") as f:
            f.write(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs))
        with open(os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.BestAvailableEncryption(inner)))
        _check_pair(cert_path, key_path, inner, path)
        ders = tuple(c.public_bytes(serialization.Encoding.DER) for c in certs)
        return ClientIdentity(cert_path, key_path, inner, chain_facts(ders), tmpdir)
    except BaseException:
        shutil.rmtree(tmpdir, ignore_errors=True)
        raise
