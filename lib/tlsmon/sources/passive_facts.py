"""A finished capture connection -> its frozen ``ConnectionObservation``.

Reads what ``passive.CaptureEngine`` collected for one connection (the observer's
state, the ladder's steps, alerts, gaps) and decides the outcome and the
"why not seen" answers. Runs once per connection, off the per-packet path. No I/O here.
"""

from __future__ import annotations

import dataclasses
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
    from .passive_records import Entry, _Conn

__all__ = ["observation"]

TLS13 = 0x0304
ET_PRE_SHARED_KEY = 41  # RFC 8446 §4.2.11
_WHO = {CLIENT: "client", SERVER: "server"}


_fromtimestamp = datetime.fromtimestamp
_UTC = timezone.utc


_SERVERS: dict[tuple[str, int], Endpoint] = {}


def _server(ip: str, port: int) -> Endpoint:
    """Endpoints are immutable: a server's is made once, not once per connection."""
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
        facts = engine.facts
        return tuple([facts(der) for der in ders]), ""
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
    done = conn.a.done and conn.b.done  # the client's and the server's Finished
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
    fins = [(h.fin_ts, h.direction) for h in (conn.client, conn.server) if h.fin_ts is not None]
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


_new_step = tuple.__new__  # CaptureStep(...) without its Python-level __new__: the same tuple
StepContent = tuple[tuple[str, ...], tuple[str, ...], tuple[bool, ...], tuple[Optional[int], ...]]
# Steps read the same on many connections: their names, details... made once, shared.
_CONTENTS: dict[Any, StepContent] = {}


def _content(key: Any, entries: list[Entry], run: int) -> StepContent:
    """Names, details, decrypted flags and handshake types of a step, by ``key`` (see ``_steps``).

    ``run``: the number of records of a run of application data (whose one entry stands for
    them all), 0 for other steps.
    """
    got = _CONTENTS.get(key)
    if got is None:
        if run:
            entry = entries[0]
            got = ((entry[0],), (f"{run} records" if run > 1 else "",), (entry[2],), (entry[3],))
        else:
            names, details, decrypted, types = zip(*entries)
            got = (names, details, decrypted, types)
        if len(_CONTENTS) >= 4096:
            _CONTENTS.clear()
        _CONTENTS[key] = got
    return got


def _steps(conn: _Conn, client_subject: Optional[str]) -> tuple[CaptureStep, ...]:
    """The ladder's steps, as ``RecordWalker`` grouped them (passive_records.py)."""
    t0 = conn.first_ts
    get = _CONTENTS.get
    out = []
    for direction, kind, frame, ts, entries, records, last_frame in conn.steps:
        if kind:
            key: Any = (entries[0], records)
            names, details, decrypted, types = get(key) or _content(key, entries, records)
        else:
            key = tuple(entries)
            names, details, decrypted, types = get(key) or _content(key, entries, 0)
            if client_subject and direction == CLIENT and 11 in types:  # the client's Certificate: its subject
                details = tuple(client_subject if t == 11 and x != "empty" else x for x, t in zip(details, types))
        out.append(_new_step(CaptureStep, (direction, names, details, decrypted, types, frame, last_frame,
                                           round(ts - t0, 6))))
    return tuple(out)


_NO_HELLO: dict[str, Any] = {}


def observation(conn: _Conn, engine: CaptureEngine, end: bool) -> ConnectionObservation:
    """The observation of one connection that has ended (``end``: by expiry or the end of the capture)."""
    observer = conn.observer
    key = conn.key
    if conn.a.direction == CLIENT:  # conn.a is conn.client
        client, server = Endpoint(key[0], key[1], key[0]), _server(key[2], key[3])
    else:
        client, server = Endpoint(key[2], key[3], key[2]), _server(key[0], key[1])
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
    hello = conn.hello or _NO_HELLO
    values = (
        conn.number, client, server, conn.first_frame, conn.last_frame,
        _fromtimestamp(conn.first_ts, _UTC), _fromtimestamp(conn.last_ts, _UTC), outcome, error,
        *[hello.get(name, default) for name, default in _HELLO_FIELDS],
        version,
        observer.cipher_suite if observer is not None else None,
        observer.group if observer is not None else None,
        conn.alpn, resumed, observer is not None and observer.hello_retry is not None,
        chain, request, status, reason, cstatus, client_chain, tuple(conn.alerts), conn.reneg, conn.keyed,
        conn.mid_stream, tuple(conn.gaps),
        _steps(conn, client_chain[0].subject if client_chain else None),
        conn.steps_truncated,
    )
    if _POSITIONAL:  # the fields in this order: positional arguments cost less than 33 keywords
        return ConnectionObservation(*values)
    return ConnectionObservation(**dict(zip(_FIELDS, values)))  # pragma: no cover


# ConnectionObservation's fields in the order ``observation`` lists them; the five read from
# the ClientHello's facts (``_Conn.hello``) with their defaults when it did not offer them.
_FIELDS = ("number", "client", "server", "first_frame", "last_frame", "started_at", "ended_at", "outcome", "error",
           "sni", "offered_versions", "offered_cipher_suites", "post_handshake_auth", "alpn_offered",
           "version", "cipher_suite", "group", "alpn", "resumed", "hello_retry", "certificates",
           "certificate_request", "request_status", "request_reason", "client_certificate_status",
           "client_certificates", "alerts", "renegotiation", "decrypted", "started_before_capture", "gaps", "steps",
           "steps_truncated")
_HELLO_FIELDS = tuple((name, {f.name: f.default for f in dataclasses.fields(ConnectionObservation)}[name])
                      for name in _FIELDS[9:14])
_POSITIONAL = tuple(f.name for f in dataclasses.fields(ConnectionObservation)) == _FIELDS
