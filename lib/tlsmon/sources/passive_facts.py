"""A finished capture connection -> its frozen ``ConnectionObservation``.

Reads what ``passive.CaptureEngine`` collected for one connection (the observer's
state, the tagged ladder entries, alerts, gaps) and decides the outcome and the
"why not seen" answers. Runs once per connection, off the per-packet path. No I/O here.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Optional

from ..codec import extensions as ext
from ..codec.events import CLIENT, SERVER
from ..errors import DecodeError
from ..observations import (
    CaptureAlert,
    CaptureStep,
    CertificateFacts,
    CertificateRequestFacts,
    ClientCertificateStatus,
    ConnectionObservation,
    Endpoint,
    Outcome,
    RequestStatus,
)
from .assemble import alert_name, request_facts

if TYPE_CHECKING:
    from .passive import CaptureEngine
    from .passive_records import _Conn

__all__ = ["observation"]

TLS13 = 0x0304
ET_PRE_SHARED_KEY = 41  # RFC 8446 §4.2.11
_WHO = {CLIENT: "client", SERVER: "server"}


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc)


_SERVERS: dict[tuple[str, int], Endpoint] = {}


def _endpoint(ip: str, port: int, server: bool = False) -> Endpoint:
    """Endpoints are immutable: a server's is made once, not once per connection."""
    if not server:
        return Endpoint(ip, port, ip)
    got = _SERVERS.get((ip, port))
    if got is None:
        got = Endpoint(ip, port, ip)
        if len(_SERVERS) >= 1024:
            _SERVERS.clear()
        _SERVERS[(ip, port)] = got
    return got


_REQUESTS: dict[tuple[Any, str], CertificateRequestFacts] = {}


def _request_facts(msg: Any, when: str) -> CertificateRequestFacts:
    """A server sends the same CertificateRequest on every connection: read its CA names once."""
    key = (msg, when)
    got = _REQUESTS.get(key)
    if got is None:
        got = request_facts(msg, when=when)
        if len(_REQUESTS) >= 256:
            _REQUESTS.clear()
        _REQUESTS[key] = got
    return got


def _chain(engine: CaptureEngine, ders: Optional[tuple[bytes, ...]]) -> tuple[tuple[CertificateFacts, ...], str]:
    if not ders:
        return (), ""
    try:
        return tuple(engine.facts(der) for der in ders), ""
    except DecodeError as exc:
        return (), str(exc)


def _alert_text(alert: CaptureAlert) -> str:
    who = _WHO.get(alert.direction, "peer")
    after = f" after {alert.after}" if alert.after else ""
    if alert.description is None:
        return f"{who} sent an encrypted alert{after}"
    level = "fatal" if alert.level == 2 else "warning"
    return f"{who} sent {level} alert {alert_name(alert.description)}{after}"


def _outcome(conn: _Conn, engine: CaptureEngine, end: bool) -> tuple[Outcome, Optional[str]]:
    client, server = conn.client, conn.server
    done = client.done and server.done
    for alert in conn.alerts:
        if alert.level == 2 and (alert.phase == "handshake" or not conn.server_app):
            return Outcome.ALERT, _alert_text(alert)
        if alert.description is None and alert.phase == "handshake":
            return Outcome.ALERT, _alert_text(alert)
    if conn.not_tls:
        return Outcome.NOT_TLS, "the server answered the ClientHello with bytes that are not TLS"
    if conn.error and not done:
        return Outcome.PROTOCOL_ERROR, conn.error
    if done:
        return Outcome.COMPLETED, None
    after = f" after {conn.last_name}" if conn.last_name else ""
    if conn.rst:
        return Outcome.RESET, f"reset by the {_WHO.get(conn.rst, 'peer')}{after}"
    if conn.mid_stream:
        return Outcome.INCOMPLETE, "the capture began after the connection did"
    if conn.gaps:
        gap = conn.gaps[0]
        size = f"{gap.length} bytes" if gap.length else "bytes"
        return Outcome.INCOMPLETE, f"the capture misses {size} of {gap.direction} at frame {gap.frame} ({gap.reason})"
    fins = [(h.fin_ts, h.direction) for h in (client, server) if h.fin_ts is not None]
    if fins:
        fin_ts, who = min(fins, key=lambda f: f[0] or 0.0)
        assert fin_ts is not None
        idle = fin_ts - conn.last_data_ts
        if idle >= engine.handshake_timeout_s:
            return Outcome.TIMEOUT, (f"no progress for {idle:.1f} s{after}, then the {_WHO.get(who or '', 'peer')} "
                                     f"closed the connection")
        return Outcome.CLOSED, f"closed by the {_WHO.get(who or '', 'peer')}{after}, without an alert"
    idle = max(engine.last_ts, conn.last_ts) - conn.last_data_ts
    if idle >= engine.handshake_timeout_s:
        return Outcome.TIMEOUT, f"no progress for {idle:.1f} s{after}"
    return Outcome.INCOMPLETE, f"the capture ends during the handshake{after}"


def _request(conn: _Conn, tls13: bool, resumed: bool,
             outcome: Outcome) -> tuple[RequestStatus, str, Optional[CertificateRequestFacts]]:
    observer = conn.observer
    requests = observer.requests if observer is not None else []
    for r in requests:
        if r.when == "initial":
            return RequestStatus.SEEN, "initial", _request_facts(r.message, "initial")
    if requests:
        r = requests[0]
        return RequestStatus.SEEN, r.when, _request_facts(r.message, r.when)
    if observer is None or observer.client_hello is None or conn.mid_stream:
        return RequestStatus.UNSEEN, "incomplete_capture", None
    if observer.server_hello is None:
        if conn.gaps:
            return RequestStatus.UNSEEN, "incomplete_capture", None
        return RequestStatus.NOT_SENT, "no_server_flight", None
    if tls13:
        if conn.keyed and conn.server.done and not observer.undecrypted:
            return RequestStatus.NOT_SENT, "not_requested", None
        return RequestStatus.UNSEEN, "tls13_encrypted" if not conn.keyed else "incomplete_capture", None
    if resumed:
        return RequestStatus.NOT_SENT, "resumed", None
    if conn.reneg and (not conn.keyed or observer.undecrypted):
        return RequestStatus.UNSEEN, "renegotiation_encrypted", None
    if conn.shd:
        return RequestStatus.NOT_SENT, "not_requested", None
    if conn.gaps or outcome in (Outcome.INCOMPLETE, Outcome.TIMEOUT):
        return RequestStatus.UNSEEN, "incomplete_capture", None
    return RequestStatus.NOT_SENT, "no_server_flight", None


def _steps(conn: _Conn, client_subject: Optional[str]) -> tuple[CaptureStep, ...]:
    """Entries grouped into steps: a new step where the direction, or data vs handshake, changes."""
    steps: list[CaptureStep] = []
    t0 = conn.first_ts
    names: list[str] = []
    details: list[str] = []
    decrypted: list[bool] = []
    types: list[Optional[int]] = []
    first: Any = None
    last: Any = None
    for e in conn.entries:
        if first is not None and (e[2] != first[2] or e[7] != first[7]):
            steps.append(CaptureStep(first[2], tuple(names), tuple(details), tuple(decrypted), tuple(types),
                                     first[0], last[9], round(first[1] - t0, 6)))
            names, details, decrypted, types, first = [], [], [], [], None
        if first is None:
            first = e
        last = e
        detail = e[4]
        if e[7] == 1:  # application data: one entry stands for a run of records
            detail = f"{e[8]} records" if e[8] > 1 else ""
        elif e[6] == 11 and client_subject and e[2] == CLIENT and detail != "empty":
            detail = client_subject
        names.append(e[3])
        details.append(detail)
        decrypted.append(bool(e[5]))
        types.append(e[6])
    if first is not None:
        steps.append(CaptureStep(first[2], tuple(names), tuple(details), tuple(decrypted), tuple(types),
                                 first[0], last[9], round(first[1] - t0, 6)))
    return tuple(steps)


def observation(conn: _Conn, engine: CaptureEngine, end: bool) -> ConnectionObservation:
    """The observation of one connection that has ended (``end``: by expiry or the end of the capture)."""
    observer = conn.observer
    client, server = conn.client, conn.server
    key = conn.key
    ends = {conn.a: (key[0], key[1]), conn.b: (key[2], key[3])}
    sh = observer.server_hello if observer is not None else None
    version = observer.version if observer is not None else None
    tls13 = version == TLS13
    resumed = conn.abbreviated
    if tls13 and sh is not None and ext.find(sh.extensions, ET_PRE_SHARED_KEY) is not None:
        resumed = True
    outcome, error = _outcome(conn, engine, end)
    status, reason, request = _request(conn, tls13, resumed, outcome)
    chain, chain_error = _chain(engine, conn.server_chain)
    client_chain, client_error = _chain(engine, conn.client_chain)
    if conn.client_chain is not None:
        cstatus = ClientCertificateStatus.SENT if conn.client_chain else ClientCertificateStatus.EMPTY
    elif status is RequestStatus.UNSEEN or (tls13 and not conn.keyed):
        cstatus = ClientCertificateStatus.UNSEEN
    else:
        cstatus = ClientCertificateStatus.NONE
    if error is None and (chain_error or client_error):
        error = f"certificate: {chain_error or client_error}"
    hello = {k: v for k, v in (conn.hello or {}).items() if k != "detail"}
    return ConnectionObservation(
        number=conn.number,
        client=_endpoint(*ends[client]),
        server=_endpoint(*ends[server], server=True),
        first_frame=conn.first_frame,
        last_frame=conn.last_frame,
        started_at=_utc(conn.first_ts),
        ended_at=_utc(conn.last_ts),
        outcome=outcome,
        error=error,
        version=version,
        cipher_suite=observer.cipher_suite if observer is not None else None,
        group=observer.group if observer is not None else None,
        alpn=conn.alpn,
        resumed=resumed,
        hello_retry=observer is not None and observer.hello_retry is not None,
        certificates=chain,
        certificate_request=request,
        request_status=status,
        request_reason=reason,
        client_certificate_status=cstatus,
        client_certificates=client_chain,
        alerts=tuple(conn.alerts),
        renegotiation=conn.reneg,
        decrypted=conn.keyed,
        started_before_capture=conn.mid_stream,
        gaps=tuple(conn.gaps),
        steps=_steps(conn, client_chain[0].subject if client_chain else None),
        steps_truncated=conn.steps_truncated,
        **hello,
    )
