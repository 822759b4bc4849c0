"""A handshake observation as numbered steps and as a stable JSON object.

The text form reads like a capture in Network Monitor: one numbered line per
record, ``C->S``/``S->C``, encrypted messages in braces. The JSON form is the
documented machine interface of ``tlsmon probe --json``. No I/O here.
"""

from __future__ import annotations

from typing import Any, Optional

from ..codec.constants import describe, version_name
from ..observations import CertificateFacts, HandshakeObservation, Outcome, Step

__all__ = ["step_text", "ladder_lines", "outcome_line", "to_dict", "certificate_dict", "JSON_SCHEMA_VERSION"]

JSON_SCHEMA_VERSION = 1


def _iso(dt: Any) -> Optional[str]:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ") if dt is not None else None


def step_text(step: Step) -> str:
    """``S->C ServerHello TLSv1.3 TLS_AES_128_GCM_SHA256 x25519, {EncryptedExtensions}``."""
    parts = []
    for name, detail in zip(step.messages, step.details or ("",) * len(step.messages)):
        shown = f"{{{name}}}" if step.encrypted and name != "ChangeCipherSpec" else name
        parts.append(f"{shown} {detail}".rstrip())
    return f"{step.direction} " + ", ".join(parts)


def outcome_line(obs: HandshakeObservation) -> str:
    """One line: what happened, fit for a terminal or a status line."""
    if obs.outcome is Outcome.COMPLETED:
        bits = [version_name(obs.version) if obs.version else "?"]
        if obs.cipher_suite is not None:
            bits.append(describe("CipherSuite", obs.cipher_suite))
        if obs.group is not None:
            bits.append(describe("NamedGroup", obs.group))
        req = "client certificate requested" if obs.certificate_request else "no client certificate request"
        return f"handshake OK with {obs.server}: {' '.join(bits)}, {req}"
    return f"{obs.outcome.value} ({obs.phase}): {obs.error or 'no details'}"


def ladder_lines(obs: HandshakeObservation, *, times: bool = False) -> list[str]:
    """The handshake as numbered steps, then the outcome."""
    lines = []
    for i, step in enumerate(obs.steps, 1):
        when = f"[{step.time * 1000:7.1f} ms] " if times and step.time is not None else ""
        lines.append(f"{i}) {when}{step_text(step)}")
    lines.append(f"=> {outcome_line(obs)}")
    return lines


def certificate_dict(c: CertificateFacts) -> dict[str, Any]:
    return {
        "subject": c.subject,
        "issuer": c.issuer,
        "serial": c.serial,
        "not_before": _iso(c.not_before),
        "not_after": _iso(c.not_after),
        "sha256": c.sha256,
        "sha1": c.sha1,
        "signature_algorithm": c.signature_algorithm,
        "key_type": c.key_type,
        "key_bits": c.key_bits,
        "dns_names": list(c.dns_names),
        "ip_addresses": list(c.ip_addresses),
    }


def _r(v: Optional[float]) -> Optional[float]:
    return round(v, 6) if v is not None else None


def to_dict(obs: HandshakeObservation) -> dict[str, Any]:
    """The observation as the documented ``tlsmon probe --json`` object."""
    req = obs.certificate_request
    alert = obs.alert
    t = obs.timings
    return {
        "schema": JSON_SCHEMA_VERSION,
        "target": {"host": obs.server.host, "port": obs.server.port, "address": obs.server.address},
        "started_at": _iso(obs.started_at),
        "outcome": obs.outcome.value,
        "phase": obs.phase,
        "error": obs.error,
        "offered_versions": [version_name(v) for v in obs.offered_versions],
        "version": version_name(obs.version) if obs.version is not None else None,
        "cipher_suite": describe("CipherSuite", obs.cipher_suite) if obs.cipher_suite is not None else None,
        "group": describe("NamedGroup", obs.group) if obs.group is not None else None,
        "alpn": obs.alpn,
        "sni": obs.sni,
        "hello_retry_request": obs.hello_retry,
        "secure_renegotiation": obs.secure_renegotiation,
        "extended_master_secret": obs.extended_master_secret,
        "ocsp_stapled": obs.ocsp_response is not None,
        "certificates": [certificate_dict(c) for c in obs.certificates],
        "certificate_request": None
        if req is None
        else {
            "ca_names": list(req.ca_names),
            "signature_algorithms": [describe("SignatureScheme", a) for a in req.signature_algorithms],
            "certificate_types": list(req.certificate_types),
        },
        "alert": None
        if alert is None
        else {
            "level": "fatal" if alert.level == 2 else "warning" if alert.level == 1 else str(alert.level),
            "description": describe("AlertDescription", alert.description),
            "code": alert.description,
            "phase": alert.phase,
            "after": alert.after,
        },
        "timings": {
            "dns": _r(t.dns),
            "connect": _r(t.connect),
            "first_byte": _r(t.first_byte),
            "server_hello": _r(t.server_hello),
            "flight_complete": _r(t.flight_complete),
            "total": _r(t.total),
        },
        "steps": [
            {
                "direction": s.direction,
                "messages": list(s.messages),
                "details": list(s.details),
                "encrypted": s.encrypted,
                "time": _r(s.time),
            }
            for s in obs.steps
        ],
    }
