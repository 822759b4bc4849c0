"""Revocation status of a certificate by OCSP (RFC 6960) or CRL (RFC 5280), fetched over HTTP.

``check_ocsp`` and ``check_crl`` do the network I/O; ``ocsp_response_facts`` and
``crl_facts`` are the pure halves that verify what came back (and also serve stapled
OCSP responses). Whatever goes wrong after the request is sent (network, HTTP, an
unverifiable or stale answer) is data: ``status="error"`` with a one-line ``reason``,
which evaluations rate WARNING, never CRITICAL. Only a check that cannot even be
attempted raises ``RevocationError``.

``requests`` is imported inside the functions that use it: it costs ~35 ms at import and
only runs when revocation is checked. Names are resolved here, under the deadline and in
the requested address family, and the request goes to the chosen address with the
original ``Host`` header (and, for https, the original SNI and certificate name), so that
-4/-6 hold for this connection without touching any global state.
"""

from __future__ import annotations

import socket
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, Optional
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import CRLEntryExtensionOID, ExtendedKeyUsageOID, ExtensionOID

from ..errors import RevocationError
from ..frozen import frozen
from ..x509facts import certificate_facts
from .web import FetchError, fetch

__all__ = [
    "MAX_OCSP_RESPONSE_SIZE",
    "MAX_CRL_SIZE",
    "RevocationFacts",
    "check_ocsp",
    "check_crl",
    "ocsp_response_facts",
    "crl_facts",
]

MAX_OCSP_RESPONSE_SIZE = 1024 * 1024
MAX_CRL_SIZE = 20 * 1024 * 1024
MAX_REDIRECTS = 3  # followed for CRL downloads (GET) only
CLOCK_SKEW = timedelta(minutes=5)  # as OpenSSL's OCSP_check_validity allows

Method = Literal["ocsp", "crl"]
Status = Literal["good", "revoked", "unknown", "error"]


@frozen
class RevocationFacts:
    """The revocation status of one certificate, as one responder or CRL gave it.

    Attributes:
        method: ``ocsp`` or ``crl``.
        status: ``good``, ``revoked``, ``unknown`` (OCSP only) or ``error`` (could not tell).
        url: where the answer came from (as asked; redirects are not recorded).
        reason: the revocation reason (RFC 5280 ReasonFlags name, e.g. ``keyCompromise``)
            when revoked, or the one-line error text when ``status`` is ``error``.
        revoked_at: revocation time, UTC.
        this_update, next_update: validity of the answer, UTC.
        responder: RFC 4514 name of the OCSP signer or of the CRL issuer.
    """

    method: Method
    status: Status
    url: str
    reason: Optional[str] = None
    revoked_at: Optional[datetime] = None
    this_update: Optional[datetime] = None
    next_update: Optional[datetime] = None
    responder: Optional[str] = None


# -- the checks -----------------------------------------------------------------------------------


def check_ocsp(
    leaf_der: bytes,
    issuer_der: bytes,
    *,
    url: Optional[str] = None,
    timeout_s: float,
    family: int = socket.AF_UNSPEC,
    now: datetime,
    ca_file: Optional[str] = None,
) -> RevocationFacts:
    """Ask the OCSP responder about ``leaf_der`` (POST, SHA-1 CertID, no nonce) and verify the answer.

    Args:
        leaf_der, issuer_der: the certificate and the certificate that issued it.
        url: the responder; default the leaf's first http(s) OCSP URL.
        timeout_s: for the whole exchange (name resolution, connect, response).
        family: ``socket.AF_UNSPEC``, ``AF_INET`` (-4) or ``AF_INET6`` (-6).
        now: timezone-aware time to judge the answer's validity by.
        ca_file: CA bundle for https URLs (default: the one requests uses).

    Returns:
        The status; failures after the request is sent are ``status="error"``.

    Raises:
        RevocationError: unreadable certificates, an issuer that did not issue the leaf,
            or no OCSP URL.
    """
    leaf, issuer = _load_pair(leaf_der, issuer_der)
    if url is None:
        url = _first_http_url(certificate_facts(leaf_der).ocsp_urls, "OCSP")
    request = ocsp.OCSPRequestBuilder().add_certificate(leaf, issuer, hashes.SHA1()).build()
    try:
        body = fetch(
            url,
            request.public_bytes(serialization.Encoding.DER),
            timeout_s=timeout_s,
            family=family,
            limit=MAX_OCSP_RESPONSE_SIZE,
            ca_file=ca_file,
        )
    except FetchError as exc:
        return RevocationFacts("ocsp", "error", url, reason=str(exc))
    return ocsp_response_facts(body, leaf_der, issuer_der, url=url, now=now)


def check_crl(
    leaf_der: bytes,
    issuer_der: bytes,
    *,
    url: Optional[str] = None,
    timeout_s: float,
    family: int = socket.AF_UNSPEC,
    now: datetime,
    ca_file: Optional[str] = None,
) -> RevocationFacts:
    """Download the CRL (DER or PEM), verify it with the issuer's key and look ``leaf_der`` up.

    Args and Raises as for ``check_ocsp``; ``url`` defaults to the leaf's first http(s)
    CRL distribution point.
    """
    leaf, issuer = _load_pair(leaf_der, issuer_der)
    if url is None:
        url = _first_http_url(certificate_facts(leaf_der).crl_urls, "CRL")
    try:
        body = fetch(url, None, timeout_s=timeout_s, family=family, limit=MAX_CRL_SIZE, ca_file=ca_file)
    except FetchError as exc:
        return RevocationFacts("crl", "error", url, reason=str(exc))
    return crl_facts(body, leaf_der, issuer_der, url=url, now=now)


# -- verifying answers (pure) ---------------------------------------------------------------------


def ocsp_response_facts(
    response_der: bytes, leaf_der: bytes, issuer_der: bytes, *, url: str, now: datetime
) -> RevocationFacts:
    """Verify an OCSP response (fetched or stapled) for ``leaf_der`` and report its status.

    The response must be successful, signed by the issuer or by a responder certificate it
    carries that the issuer signed with the OCSPSigning EKU, hold a SingleResponse for this
    CertID, and be current at ``now`` (5 minutes' clock skew allowed).

    Raises:
        RevocationError: unreadable certificates, or an issuer that did not issue the leaf.
    """
    leaf, issuer = _load_pair(leaf_der, issuer_der)
    try:
        resp = ocsp.load_der_ocsp_response(response_der)
    except ValueError:
        return RevocationFacts("ocsp", "error", url, reason="malformed OCSP response")
    if resp.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
        status = resp.response_status.name.lower().replace("_", " ")
        return RevocationFacts("ocsp", "error", url, reason=f"OCSP responder answered '{status}'")
    signer, problem = _ocsp_signer(resp, issuer, now)
    if signer is None:
        return RevocationFacts("ocsp", "error", url, reason=problem, responder=_responder_id(resp))
    responder = signer.subject.rfc4514_string()
    try:
        algorithm = resp.signature_hash_algorithm
    except UnsupportedAlgorithm:
        algorithm = None
    if not _signature_valid(signer.public_key(), resp.signature, resp.tbs_response_bytes, algorithm):
        return RevocationFacts(
            "ocsp", "error", url, reason="OCSP response signature does not verify", responder=responder
        )
    single = _matching_single(resp, leaf, issuer)
    if single is None:
        serials = ", ".join(sorted({format(s.serial_number, "X") for s in resp.responses})) or "none"
        reason = f"OCSP response is for serial {serials}, not {leaf.serial_number:X}"
        return RevocationFacts("ocsp", "error", url, reason=reason, responder=responder)
    this_update, next_update = _when(single, "this_update"), _when(single, "next_update")
    stale = _stale("OCSP response", this_update, next_update, now)
    if stale:
        return RevocationFacts("ocsp", "error", url, stale, None, this_update, next_update, responder)
    if single.certificate_status is ocsp.OCSPCertStatus.GOOD:
        return RevocationFacts("ocsp", "good", url, None, None, this_update, next_update, responder)
    if single.certificate_status is ocsp.OCSPCertStatus.UNKNOWN:
        return RevocationFacts("ocsp", "unknown", url, None, None, this_update, next_update, responder)
    reason_flag = single.revocation_reason
    return RevocationFacts(
        "ocsp",
        "revoked",
        url,
        reason=reason_flag.value if reason_flag is not None else None,
        revoked_at=_when(single, "revocation_time"),
        this_update=this_update,
        next_update=next_update,
        responder=responder,
    )


def crl_facts(crl_data: bytes, leaf_der: bytes, issuer_der: bytes, *, url: str, now: datetime) -> RevocationFacts:
    """Verify a CRL (DER or PEM) with the issuer's key and look ``leaf_der`` up in it.

    Indirect and delta CRLs are not supported (status ``error``).

    Raises:
        RevocationError: unreadable certificates, or an issuer that did not issue the leaf.
    """
    leaf, issuer = _load_pair(leaf_der, issuer_der)
    try:
        if crl_data.lstrip().startswith(b"-----BEGIN"):
            crl = x509.load_pem_x509_crl(crl_data)
        else:
            crl = x509.load_der_x509_crl(crl_data)
        delta = any(ext.oid == ExtensionOID.DELTA_CRL_INDICATOR for ext in crl.extensions)
    except ValueError:
        return RevocationFacts("crl", "error", url, reason="malformed CRL")
    responder = crl.issuer.rfc4514_string()
    if crl.issuer != issuer.subject:
        mismatch = f"CRL is issued by {responder}, not by the certificate's issuer"
        return RevocationFacts("crl", "error", url, reason=mismatch, responder=responder)
    try:
        signed = crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
    except (TypeError, ValueError, UnsupportedAlgorithm):
        signed = False
    if not signed:
        return RevocationFacts("crl", "error", url, reason="CRL signature does not verify", responder=responder)
    if delta:
        return RevocationFacts("crl", "error", url, reason="delta CRLs are not supported", responder=responder)
    this_update, next_update = _when(crl, "last_update"), _when(crl, "next_update")
    problem = _stale("CRL", this_update, next_update, now)
    if problem:
        return RevocationFacts("crl", "error", url, problem, None, this_update, next_update, responder)
    entry = crl.get_revoked_certificate_by_serial_number(leaf.serial_number)
    try:
        reason_ext = _extension(entry.extensions, CRLEntryExtensionOID.CRL_REASON) if entry is not None else None
    except ValueError:
        return RevocationFacts("crl", "error", url, "malformed CRL entry", None, this_update, next_update, responder)
    reason: Optional[str] = reason_ext.reason.value if reason_ext is not None else None
    if entry is None or reason == x509.ReasonFlags.remove_from_crl.value:
        return RevocationFacts("crl", "good", url, None, None, this_update, next_update, responder)
    revoked_at = _when(entry, "revocation_date")
    return RevocationFacts("crl", "revoked", url, reason, revoked_at, this_update, next_update, responder)


# -- helpers for verification ---------------------------------------------------------------------


def _load_pair(leaf_der: bytes, issuer_der: bytes) -> tuple[x509.Certificate, x509.Certificate]:
    try:
        leaf = x509.load_der_x509_certificate(leaf_der)
        issuer = x509.load_der_x509_certificate(issuer_der)
    except ValueError as exc:
        raise RevocationError(f"cannot read the certificates to check: {exc}") from None
    if leaf.issuer != issuer.subject:
        raise RevocationError(f"{issuer.subject.rfc4514_string()} is not the issuer of {leaf.subject.rfc4514_string()}")
    return leaf, issuer


def _first_http_url(urls: tuple[str, ...], kind: str) -> str:
    for url in urls:
        if urlsplit(url).scheme.lower() in ("http", "https"):
            return url
    if urls:
        raise RevocationError(f"the certificate has no http {kind} URL (only {urls[0]})")
    raise RevocationError(f"the certificate has no {kind} URL")


def _when(obj: Any, name: str) -> Optional[datetime]:
    """``obj.<name>_utc`` where cryptography has it (42+), else the naive ``obj.<name>`` as UTC."""
    if hasattr(type(obj), name + "_utc"):
        value: Optional[datetime] = getattr(obj, name + "_utc")
    else:
        value = getattr(obj, name)
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
    return value


def _stale(what: str, this_update: Optional[datetime], next_update: Optional[datetime], now: datetime) -> Optional[str]:
    if this_update is not None and this_update > now + CLOCK_SKEW:
        return f"{what} not yet valid (thisUpdate {this_update:%Y-%m-%d %H:%M:%S} UTC)"
    if next_update is not None and next_update < now - CLOCK_SKEW:
        return f"{what} expired (nextUpdate {next_update:%Y-%m-%d %H:%M:%S} UTC)"
    return None


def _extension(extensions: x509.Extensions, oid: x509.ObjectIdentifier) -> Any:
    try:
        return extensions.get_extension_for_oid(oid).value
    except x509.ExtensionNotFound:
        return None


def _signature_valid(key: object, signature: bytes, data: bytes, algorithm: Optional[hashes.HashAlgorithm]) -> bool:
    """PKCS#1 v1.5, ECDSA, EdDSA or DSA; RSA-PSS is not supported (reads as invalid)."""
    try:
        if isinstance(key, rsa.RSAPublicKey) and algorithm is not None:
            key.verify(signature, data, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey) and algorithm is not None:
            key.verify(signature, data, ec.ECDSA(algorithm))
        elif isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
            key.verify(signature, data)
        elif isinstance(key, dsa.DSAPublicKey) and algorithm is not None:
            key.verify(signature, data, algorithm)
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return True


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    verify = getattr(cert, "verify_directly_issued_by", None)  # cryptography 40+, knows RSA-PSS
    if verify is not None:
        try:
            verify(issuer)
        except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
            return False
        return True
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return False
    return _signature_valid(issuer.public_key(), cert.signature, cert.tbs_certificate_bytes, algorithm)


def _key_hash(cert: x509.Certificate) -> bytes:
    """RFC 6960 §4.2.1 ResponderID byKey: SHA-1 of the subjectPublicKey bits."""
    try:
        return x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return b""


def _responder_id(resp: ocsp.OCSPResponse) -> str:
    if resp.responder_name is not None:
        return resp.responder_name.rfc4514_string()
    return f"key hash {(resp.responder_key_hash or b'').hex()}"


def _ocsp_signer(
    resp: ocsp.OCSPResponse, issuer: x509.Certificate, now: datetime
) -> tuple[Optional[x509.Certificate], str]:
    """RFC 6960 §4.2.2.2: the issuer itself, or a responder it delegated to; else (None, why)."""

    def is_responder(cert: x509.Certificate) -> bool:
        if resp.responder_name is not None:
            return cert.subject == resp.responder_name
        return bool(resp.responder_key_hash) and _key_hash(cert) == resp.responder_key_hash

    if is_responder(issuer):
        return issuer, ""
    for cert in resp.certificates:
        if not is_responder(cert):
            continue
        if not _issued_by(cert, issuer):
            return None, "OCSP responder certificate is not issued by the certificate's issuer"
        try:
            eku = _extension(cert.extensions, ExtensionOID.EXTENDED_KEY_USAGE)
        except ValueError:
            eku = None
        if eku is None or ExtendedKeyUsageOID.OCSP_SIGNING not in eku:
            return None, "OCSP responder certificate lacks the OCSPSigning extended key usage"
        not_before, not_after = _when(cert, "not_valid_before"), _when(cert, "not_valid_after")
        if (not_before is not None and now < not_before) or (not_after is not None and now > not_after):
            return None, "OCSP responder certificate is not valid now"
        return cert, ""
    return None, f"OCSP response signed by an unauthorised responder ({_responder_id(resp)})"


def _matching_single(resp: ocsp.OCSPResponse, leaf: x509.Certificate, issuer: x509.Certificate) -> Any:
    """The SingleResponse whose CertID (serial, issuer name and key hashes) is the leaf's."""
    for single in resp.responses:
        if single.serial_number != leaf.serial_number:
            continue
        try:
            expected = ocsp.OCSPRequestBuilder().add_certificate(leaf, issuer, single.hash_algorithm).build()
        except (ValueError, TypeError, UnsupportedAlgorithm):
            continue  # a hash the builder does not offer
        if (single.issuer_name_hash, single.issuer_key_hash) == (expected.issuer_name_hash, expected.issuer_key_hash):
            return single
    return None


# -- HTTP -----------------------------------------------------------------------------------------
