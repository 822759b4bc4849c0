"""Capture connections as numbered steps (``tlsmon ladder``) and as JSON (``tlsmon ladder --json``).

The text reads like a capture in Network Monitor: one numbered line per run of records
in one direction, ``C->S``/``S->C``, with the frames and the time since the connection's
first frame; messages read with a key log in braces. Then one line on how it ended and
what was or was not seen of the client certificate, saying why. No I/O here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from ..codec.constants import AlertDescription, CipherSuite, NamedGroup, SignatureScheme, describe, version_name
from ..observations import (
    CaptureStep,
    ClientCertificateStatus,
    ConnectionObservation,
    Endpoint,
    Outcome,
    RequestStatus,
)
from .ladder import certificate_dict

__all__ = ["connection_lines", "connection_dict", "step_line", "request_line", "JSON_SCHEMA_VERSION"]

JSON_SCHEMA_VERSION = 1

# Messages whose detail is shown on the step line; the others' details are in the summary.
_INLINE = frozenset(("ClientHello", "HelloRetryRequest", "CertificateRequest", "Alert", "Application Data"))

_REASONS = {
    "not_requested": "no client certificate request (full handshake)",
    "resumed": "no client certificate request: a resumed (abbreviated) handshake has none",
    "no_server_flight": "no client certificate request: the handshake ended before the server's flight",
    "tls13_encrypted": "client certificate request unseen: TLS 1.3 encrypts it (--keylog reads it)",
    "renegotiation_encrypted": "no client certificate request in the first handshake; an encrypted renegotiation "
    "followed, which may have asked for one",
    "incomplete_capture": "client certificate request unseen: the capture misses that part of the handshake",
}


def _hostport(e: Endpoint) -> str:
    return f"[{e.host}]:{e.port}" if ":" in e.host else f"{e.host}:{e.port}"


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _frames(step: CaptureStep) -> str:
    if step.last_frame != step.frame:
        return f"frames {step.frame}-{step.last_frame}"
    return f"frame {step.frame}"


def step_line(step: CaptureStep) -> str:
    """``S->C ServerHello, Certificate, CertificateRequest (CAs: CN=Client CA,O=Example), ServerHelloDone``."""
    parts = []
    for name, detail, decrypted, htype in zip(step.messages, step.details, step.decrypted, step.handshake_types):
        shown = f"{{{name}}}" if decrypted else name
        if name not in _INLINE and not (htype == 11 and step.direction == "C->S"):
            detail = ""  # the ServerHello's and the chain's details go to the summary lines
        parts.append(f"{shown} ({detail})" if detail else shown)
    return f"{step.direction} " + ", ".join(parts)


def request_line(obs: ConnectionObservation) -> str:
    """What was seen of the CertificateRequest and of the client's answer, and why."""
    req = obs.certificate_request
    if obs.request_status is RequestStatus.SEEN and req is not None:
        cas = "; ".join(req.ca_names) if req.ca_names else "none (any CA)"
        when = {"renegotiation": " by renegotiation", "post_handshake": " after the handshake"}.get(req.when, "")
        text = f"client certificate requested{when} (CAs: {cas})"
    else:
        text = _REASONS.get(obs.request_reason, f"client certificate request {obs.request_status.value}")
    client = obs.client_certificate_status
    if client is ClientCertificateStatus.EMPTY:
        text += "; the client sent an empty Certificate"
    elif client is ClientCertificateStatus.SENT and obs.client_certificates:
        text += f"; the client sent {obs.client_certificates[0].subject}"
    elif client is ClientCertificateStatus.NONE and obs.request_status is RequestStatus.SEEN:
        text += "; no Certificate from the client"
    if obs.post_handshake_auth:
        text += "; the client offered post-handshake authentication"
    return text


def _summary(obs: ConnectionObservation) -> str:
    if obs.outcome is Outcome.COMPLETED:
        bits = [version_name(obs.version) if obs.version is not None else "version not seen"]
        if obs.cipher_suite is not None:
            bits.append(describe(CipherSuite, obs.cipher_suite))
        if obs.group is not None:
            bits.append(describe(NamedGroup, obs.group))
        if obs.alpn:
            bits.append(f"ALPN={obs.alpn}")
        if obs.resumed:
            bits.append("resumed")
        return "completed: " + " ".join(bits)
    return f"{obs.outcome.value}: {obs.error or 'no details'}"


def connection_lines(obs: ConnectionObservation) -> list[str]:
    """The connection's header, its numbered steps and what they add up to."""
    head = f"#{obs.number} {_hostport(obs.client)} -> {_hostport(obs.server)}"
    if obs.sni:
        head += f" SNI={obs.sni}"
    head += f", frames {obs.first_frame}-{obs.last_frame}, {obs.started_at:%Y-%m-%d %H:%M:%S} UTC, " \
            f"{obs.duration_s:.3f} s"
    lines = [head]
    if obs.started_before_capture:
        lines.append("   (the capture began after this connection did)")
    for i, step in enumerate(obs.steps, 1):
        lines.append(f"  {i}) {step_line(step)}  [{_frames(step)}, +{step.time:.4f} s]")
    if obs.steps_truncated:
        lines.append("  ... (more records not listed)")
    lines.append(f"  => {_summary(obs)}")
    if obs.certificates:
        chain = ", ".join(f"{c.subject or '(empty subject)'} (expires {c.not_after:%Y-%m-%d})"
                          for c in obs.certificates)
        lines.append(f"     server certificate{'s' if len(obs.certificates) > 1 else ''}: {chain}")
    lines.append(f"     {request_line(obs)}")
    if obs.renegotiation:
        lines.append("     renegotiation: handshake records after the peers' Finished")
    for gap in obs.gaps:
        size = f"{gap.length} bytes" if gap.length else "the start"
        lines.append(f"     capture gap: {size} of {gap.direction} missing at frame {gap.frame} ({gap.reason})")
    return lines


def _alert_dict(a: Any) -> dict[str, Any]:
    level: Optional[str] = None
    if a.level is not None:
        level = "fatal" if a.level == 2 else "warning" if a.level == 1 else str(a.level)
    return {
        "direction": a.direction,
        "level": level,
        "description": describe(AlertDescription, a.description) if a.description is not None else None,
        "code": a.description,
        "encrypted": a.description is None,
        "phase": a.phase,
        "after": a.after,
        "frame": a.frame,
        "time": round(a.time, 6),
    }


_SUITES: dict[tuple[int, ...], list[str]] = {}
_CERTS: dict[int, tuple[Any, dict[str, Any]]] = {}


def _suite_names(suites: tuple[int, ...]) -> list[str]:
    """Clients send the same lists over and over: name each list once."""
    got = _SUITES.get(suites)
    if got is None:
        got = [describe(CipherSuite, s) for s in suites]
        if len(_SUITES) >= 1024:
            _SUITES.clear()
        _SUITES[suites] = got
    return list(got)


def _certificate(c: Any) -> dict[str, Any]:
    """``certificate_dict``, once per certificate object (the engine shares them across connections)."""
    got = _CERTS.get(id(c))
    if got is None or got[0] is not c:
        if len(_CERTS) >= 1024:
            _CERTS.clear()
        got = _CERTS[id(c)] = (c, certificate_dict(c))
    return got[1]


def connection_dict(obs: ConnectionObservation) -> dict[str, Any]:
    """The documented ``tlsmon ladder --json`` object of one connection."""
    req = obs.certificate_request
    request: Any = None
    if obs.request_status is RequestStatus.UNSEEN:
        request = "unseen"
    elif obs.request_status is RequestStatus.SEEN and req is not None:
        request = {
            "ca_names": list(req.ca_names),
            "signature_algorithms": [describe(SignatureScheme, a) for a in req.signature_algorithms],
            "certificate_types": list(req.certificate_types),
            "when": req.when,
        }
    client_cert: Optional[str] = None
    status = obs.client_certificate_status
    if status is ClientCertificateStatus.EMPTY:
        client_cert = "empty"
    elif status is ClientCertificateStatus.UNSEEN:
        client_cert = "unseen"
    elif status is ClientCertificateStatus.SENT:
        client_cert = obs.client_certificates[0].subject if obs.client_certificates else "unreadable"
    return {
        "schema": JSON_SCHEMA_VERSION,
        "number": obs.number,
        "client": _hostport(obs.client),
        "server": _hostport(obs.server),
        "sni": obs.sni,
        "version": version_name(obs.version) if obs.version is not None else None,
        "cipher_suite": describe(CipherSuite, obs.cipher_suite) if obs.cipher_suite is not None else None,
        "group": describe(NamedGroup, obs.group) if obs.group is not None else None,
        "alpn": obs.alpn,
        "offered_versions": [version_name(v) for v in obs.offered_versions],
        "offered_cipher_suites": _suite_names(obs.offered_cipher_suites),
        "post_handshake_auth": obs.post_handshake_auth,
        "resumed": obs.resumed,
        "hello_retry_request": obs.hello_retry,
        "outcome": obs.outcome.value,
        "error": obs.error,
        "first_frame": obs.first_frame,
        "last_frame": obs.last_frame,
        "started_at": _iso(obs.started_at),
        "ended_at": _iso(obs.ended_at),
        "duration": round(obs.duration_s, 6),
        "certificate_request": request,
        "certificate_request_reason": obs.request_reason,
        "client_certificate": client_cert,
        "client_certificates": [_certificate(c) for c in obs.client_certificates],
        "alerts": [_alert_dict(a) for a in obs.alerts],
        "renegotiation": obs.renegotiation,
        "certificates": [_certificate(c) for c in obs.certificates],
        "decrypted": obs.decrypted,
        "started_before_capture": obs.started_before_capture,
        "gaps": [{"direction": g.direction, "length": g.length, "frame": g.frame, "reason": g.reason}
                 for g in obs.gaps],
        "steps": [
            {
                "frame": s.frame,
                "last_frame": s.last_frame,
                "time": s.time,
                "direction": s.direction,
                "messages": list(s.messages),
                "details": list(s.details),
                "decrypted": list(s.decrypted),
            }
            for s in obs.steps
        ],
        "steps_truncated": obs.steps_truncated,
    }
