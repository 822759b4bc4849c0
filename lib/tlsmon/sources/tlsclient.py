"""One handshake, two readers: the platform TLS library drives, the codec watches.

Python's ``ssl`` (OpenSSL) runs the handshake over memory BIOs, so its verdict (trust,
protocol, the server's alerts) is the one real clients get. Every byte that crosses
the socket also goes to a ``PassiveObserver``, which sees the chain exactly as sent, the
CertificateRequest with its CA names and the alerts; for TLS 1.3 it decrypts with the
secrets OpenSSL writes to a key log in a private temporary directory (removed at once).
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import tempfile
import time
from datetime import datetime, timezone
from typing import Callable, Optional

from ..codec.events import AlertEvent, Event, MessageEvent
from ..codec.messages import Finished, ServerHelloDone
from ..codec.observer import PassiveObserver
from ..errors import CodecError, DecodeError, LimitExceeded, ProbeError
from ..frozen import frozen
from ..observations import Endpoint, HandshakeObservation, Outcome, Timings
from . import assemble, net
from .net import Failure, ProbeTarget

__all__ = ["TlsClientOptions", "ClientCredentials", "PlatformVerdict", "TlsResult", "connect_tls"]

_VERSIONS = {
    0x0301: ssl.TLSVersion.TLSv1,
    0x0302: ssl.TLSVersion.TLSv1_1,
    0x0303: ssl.TLSVersion.TLSv1_2,
    0x0304: ssl.TLSVersion.TLSv1_3,
}


@frozen
class ClientCredentials:
    """A client certificate for mutual TLS (PEM files; the password never on argv)."""

    cert_path: str
    key_path: Optional[str] = None
    password: Optional[bytes] = None


@frozen
class TlsClientOptions:
    """How the platform library should connect.

    Attributes:
        server_name: SNI and the name the caller will check (hostname is checked by the
            caller, not by OpenSSL, so that trust and name are reported separately).
        rootcert: trust anchors (a PEM file or a hashed directory); None: system store.
        verify: verify the chain (the verdict is reported, the handshake goes on only if it passes).
        min_version, max_version: raw versions (0x0303 ...), None for the library default.
        alpn: ALPN protocols to offer.
        post_handshake_auth: offer TLS 1.3 post-handshake authentication.
        client: client certificate and key.
        starttls: protocol to upgrade first (smtp, imap, ...), None for implicit TLS.
        read_after_s: after a TLS 1.3 handshake in which a client certificate was requested,
            read this long for the server's verdict (certificate_required comes only after our
            Finished; a server that accepts sends a NewSessionTicket at once).
        request: bytes to send once the handshake is done (an HTTP request with
            ``Connection: close``); the answer is read until the server closes, up to
            ``max_response`` bytes or the deadline. A renegotiation (TLS <= 1.2) or a
            post-handshake CertificateRequest (TLS 1.3) it provokes is handled by OpenSSL
            and seen by the observer.
        ignore_time: verify the chain as if now were within every validity period, and at
            OpenSSL security level 0 (no key-size or digest policy): the caller checks dates,
            keys and signatures itself, element by element, so that an expired certificate
            or an RSA-1024 key does not hide other verification errors or read as "untrusted".
    """

    server_name: Optional[str] = None
    rootcert: Optional[str] = None
    verify: bool = True
    min_version: Optional[int] = None
    max_version: Optional[int] = None
    alpn: tuple[str, ...] = ()
    post_handshake_auth: bool = False
    client: Optional[ClientCredentials] = None
    starttls: Optional[str] = None
    read_after_s: float = 0.0
    ignore_time: bool = False
    request: Optional[bytes] = None
    max_response: int = 64 * 1024


# OpenSSL's X509_V_FLAG_NO_CHECK_TIME (x509_vfy.h); Python passes verify_flags through.
_X509_V_FLAG_NO_CHECK_TIME = 0x200000


@frozen
class PlatformVerdict:
    """What OpenSSL concluded.

    Attributes:
        handshake_ok: the handshake completed (and, if asked, the chain verified).
        verified: chain verification passed (None: not reached or not asked).
        verify_code, verify_message: OpenSSL's X509 verification result on failure.
        ssl_error: OpenSSL's reason when the handshake failed otherwise.
        version, cipher: as OpenSSL names them, when the handshake completed.
        response: what the server answered to ``request`` (at most ``max_response`` bytes).
        after_error: OpenSSL's reason when the connection failed after the handshake
            (e.g. an alert during a renegotiation or after post-handshake authentication).
    """

    handshake_ok: bool
    verified: Optional[bool] = None
    verify_code: Optional[int] = None
    verify_message: Optional[str] = None
    ssl_error: Optional[str] = None
    version: Optional[str] = None
    cipher: Optional[str] = None
    response: Optional[bytes] = None
    after_error: Optional[str] = None


@frozen
class TlsResult:
    observation: HandshakeObservation
    verdict: PlatformVerdict


def _context(opts: TlsClientOptions) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    if opts.verify:
        ctx.verify_mode = ssl.CERT_REQUIRED
        if opts.rootcert is None:
            ctx.load_default_certs()
        elif os.path.isdir(opts.rootcert):
            ctx.load_verify_locations(capath=opts.rootcert)
        else:
            ctx.load_verify_locations(cafile=opts.rootcert)
        if opts.ignore_time:
            ctx.verify_flags = ssl.VerifyFlags(int(ctx.verify_flags) | _X509_V_FLAG_NO_CHECK_TIME)
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    else:
        ctx.verify_mode = ssl.CERT_NONE
    if opts.min_version is not None:
        ctx.minimum_version = _VERSIONS[opts.min_version]
    if opts.max_version is not None:
        ctx.maximum_version = _VERSIONS[opts.max_version]
    if opts.alpn:
        ctx.set_alpn_protocols(list(opts.alpn))
    if opts.post_handshake_auth:
        ctx.post_handshake_auth = True
    if opts.client is not None:
        password = opts.client.password
        # A callable: OpenSSL must never prompt on a terminal for a missing password.
        ctx.load_cert_chain(opts.client.cert_path, opts.client.key_path, password=lambda: password or b"")
    return ctx


class _Keylog:
    """OpenSSL's key log in a private directory, read incrementally and removed on close."""

    def __init__(self, ctx: ssl.SSLContext) -> None:
        self.dir = tempfile.mkdtemp(prefix="tlsmon-keys-")  # mode 0700
        self.path = os.path.join(self.dir, "keylog")
        self._offset = 0
        ctx.keylog_filename = self.path

    def read_new(self) -> str:
        try:
            with open(self.path, encoding="ascii", errors="replace") as f:
                f.seek(self._offset)
                text = f.read()
        except FileNotFoundError:
            return ""
        self._offset += len(text)
        return text

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _flight_complete(events: list[Event], version_13: bool) -> bool:
    for e in events:
        if isinstance(e, MessageEvent) and e.direction == "S->C":
            if isinstance(e.message, ServerHelloDone) or (version_13 and isinstance(e.message, Finished)):
                return True
    return False


def connect_tls(
    target: ProbeTarget,
    opts: TlsClientOptions,
    *,
    timeout_s: float = 10.0,
    clock: Callable[[], float] = time.monotonic,
    now: Optional[datetime] = None,
    deadline: Optional[float] = None,
) -> TlsResult:
    """Connect, upgrade with STARTTLS if asked, and run one platform TLS handshake, observed.

    Raises:
        ssl.SSLError, OSError: only for local configuration problems (unreadable client
            key, bad trust store); everything the server does is reported in the result.
    """
    started_at = now or datetime.now(timezone.utc)
    ctx = _context(opts)  # local errors (bad key, bad CA file) raise here, before any traffic and the clock
    start = clock()
    end = deadline if deadline is not None else start + timeout_s
    keylog = _Keylog(ctx)
    observer = PassiveObserver(wait_for_keys=True)
    times: list[float] = []
    events: list[Event] = []
    marks: dict[str, Optional[float]] = {"dns": None, "connect": None, "first_byte": None, "handshake": None}
    outcome, phase, error = Outcome.COMPLETED, "complete", None
    verdict = PlatformVerdict(handshake_ok=False)
    address: Optional[str] = None
    sock: Optional[socket.socket] = None

    def collect() -> None:
        for e in observer.events():
            events.append(e)
            times.append(clock() - start)

    try:
        addrs = net.resolve(target.host, target.port, target.family, end, clock)
        marks["dns"] = clock() - start
        sock = net.connect(addrs, end, clock)
        address = sock.getpeername()[0]
        marks["connect"] = clock() - start
        if opts.starttls:
            from .starttls import negotiate

            try:
                negotiate(sock, opts.starttls, opts.server_name or target.host, end, clock)
            except ProbeError as exc:
                outcome_kind = {"timeout": Outcome.TIMEOUT, "reset": Outcome.RESET}.get(exc.kind, Outcome.NOT_TLS)
                raise Failure(outcome_kind, "starttls", str(exc)) from None
        verdict = _drive(sock, ctx, opts, observer, keylog, end, clock, start, marks, collect)
    except Failure as f:
        outcome, phase, error = f.outcome, f.phase, f.message
    except CodecError as exc:
        seen_server = any(getattr(e, "direction", "") == "S->C" for e in events) or observer.server_hello is not None
        if isinstance(exc, DecodeError) and not isinstance(exc, LimitExceeded) and not seen_server:
            outcome, phase, error = Outcome.NOT_TLS, "server_hello", f"the server did not answer in TLS ({exc.reason})"
        else:
            outcome, phase, error = Outcome.PROTOCOL_ERROR, observer.state, f"malformed TLS from the server: {exc}"
    finally:
        keylog.remove()
        if sock is not None:
            sock.close()
    try:
        observer.finish()
        collect()
    except CodecError:
        pass  # what was read before stays; the outcome already says what failed
    tls13 = observer.version == 0x0304
    state = assemble.HandshakeState(
        observer.version, observer.cipher_suite, observer.group, observer.server_hello,
        observer.hello_retry is not None, observer.state,
        flight_complete=verdict.handshake_ok or _flight_complete(events, tls13) or verdict.verified is False,
        connected=False,  # how the server ended the connection afterwards is judged from the verdict
    )
    server_alert = any(isinstance(e, AlertEvent) and e.direction == "S->C" for e in events)
    if outcome is Outcome.COMPLETED and not verdict.handshake_ok and not server_alert and verdict.verified is not False:
        # OpenSSL gave up on its own: the server's bytes were not TLS, or not acceptable TLS.
        seen_server = any(getattr(e, "direction", "") == "S->C" for e in events)
        outcome = Outcome.PROTOCOL_ERROR if seen_server else Outcome.NOT_TLS
        phase, error = observer.state, f"TLS handshake failed: {verdict.ssl_error}"
    total = clock() - start
    server_hello_t = next((t for e, t in zip(events, times) if isinstance(e, MessageEvent)
                           and e.direction == "S->C"), None)
    # flight_complete: when the platform library finished (or abandoned) the handshake.
    timings = Timings(marks["dns"], marks["connect"], marks["first_byte"], server_hello_t, marks.get("handshake"),
                      total)
    obs = assemble.observation(
        Endpoint(target.host, target.port, address), opts.server_name, (), started_at, outcome, phase, error,
        state, events, times, timings,
    )
    return TlsResult(obs, verdict)


def _drive(
    sock: socket.socket,
    ctx: ssl.SSLContext,
    opts: TlsClientOptions,
    observer: PassiveObserver,
    keylog: _Keylog,
    end: float,
    clock: Callable[[], float],
    start: float,
    marks: dict[str, Optional[float]],
    collect: Callable[[], None],
) -> PlatformVerdict:
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname=opts.server_name)

    def flush() -> None:
        data = outgoing.read()
        if data:
            observer.add_keylog(keylog.read_new())  # secrets OpenSSL derived while writing these bytes
            observer.client_bytes(data)
            try:
                sock.sendall(data)
            except OSError:
                pass  # the peer went away; the next read tells how

    def pull(waiting_for: str, until: Optional[float] = None) -> bool:
        remaining = min(end, until if until is not None else end) - clock()
        if remaining <= 0:
            raise Failure(Outcome.TIMEOUT, observer.state, f"timed out waiting for {waiting_for}")
        sock.settimeout(remaining)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            raise Failure(Outcome.TIMEOUT, observer.state, f"timed out waiting for {waiting_for}") from None
        except ConnectionResetError:
            raise Failure(Outcome.RESET, observer.state, f"connection reset while waiting for {waiting_for}") from None
        if data and marks["first_byte"] is None:
            marks["first_byte"] = clock() - start
        if data:
            observer.server_bytes(data)
            collect()  # stamp what these bytes completed (e.g. the ServerHello) with their arrival time
            incoming.write(data)
        else:
            observer.close("S->C")
            incoming.write_eof()
        return bool(data)

    verdict: Optional[PlatformVerdict] = None
    while verdict is None:
        try:
            obj.do_handshake()
            verdict = PlatformVerdict(True, True if opts.verify else None, version=obj.version(),
                                      cipher=(obj.cipher() or ("",))[0])
        except ssl.SSLWantReadError:
            flush()
            observer.add_keylog(keylog.read_new())
            collect()
            pull("the server's handshake messages", None)
        except ssl.SSLCertVerificationError as exc:
            verdict = PlatformVerdict(False, False, exc.verify_code, exc.verify_message)
        except ssl.SSLError as exc:
            verdict = PlatformVerdict(False, None, ssl_error=exc.reason or str(exc))
        finally:
            observer.add_keylog(keylog.read_new())
    marks["handshake"] = clock() - start  # done, or abandoned: either way the handshake's duration
    flush()
    collect()
    if verdict.handshake_ok and opts.request is not None:
        verdict = _converse(obj, verdict, opts, flush, pull, observer, keylog, collect, end, clock)
    elif verdict.handshake_ok and opts.read_after_s > 0 and observer.version == 0x0304 and observer.requests:
        until = min(end, clock() + opts.read_after_s)
        verdict = _read_after(obj, verdict, flush, pull, observer, keylog, collect, until, clock)
    return verdict


def _converse(obj: ssl.SSLObject, verdict: PlatformVerdict, opts: TlsClientOptions, flush: Callable[[], None],
              pull: Callable[[str, Optional[float]], bool], observer: PassiveObserver, keylog: _Keylog,
              collect: Callable[[], None], end: float, clock: Callable[[], float]) -> PlatformVerdict:
    """Send ``opts.request`` and read the answer until EOF, the size bound or the deadline."""
    assert opts.request is not None
    response = bytearray()
    after_error: Optional[str] = None
    try:
        obj.write(opts.request)
        while len(response) < opts.max_response:
            try:
                chunk = obj.read(16384)
                if not chunk:
                    break
                response += chunk
            except ssl.SSLWantReadError:
                flush()
                observer.add_keylog(keylog.read_new())
                collect()
                if not pull("the server's answer to our request", None):
                    continue  # EOF: let OpenSSL report how the stream ended
            except ssl.SSLWantWriteError:
                flush()
    except ssl.SSLZeroReturnError:
        pass  # close_notify: the answer is complete
    except ssl.SSLEOFError:
        pass  # closed without close_notify after answering: common, and the answer is what matters
    except ssl.SSLError as exc:
        after_error = exc.reason or str(exc)
    except Failure as f:
        if f.outcome is not Outcome.TIMEOUT or not response:
            after_error = f.message
    finally:
        flush()
        observer.add_keylog(keylog.read_new())
        collect()
    return PlatformVerdict(verdict.handshake_ok, verdict.verified, verdict.verify_code, verdict.verify_message,
                           verdict.ssl_error, verdict.version, verdict.cipher, bytes(response), after_error)


def _read_after(obj: ssl.SSLObject, verdict: PlatformVerdict, flush: Callable[[], None],
                pull: Callable[[str, Optional[float]], bool], observer: PassiveObserver, keylog: _Keylog,
                collect: Callable[[], None], until: float, clock: Callable[[], float]) -> PlatformVerdict:
    """Read briefly after the handshake: a TLS 1.3 server rejects a missing certificate only now."""
    while clock() < until:
        try:
            obj.read(16384)
            return verdict
        except ssl.SSLWantReadError:
            flush()
            observer.add_keylog(keylog.read_new())
            collect()
            try:
                if not pull("the server's answer after the handshake", until):
                    break
            except Failure as f:
                if f.outcome is Outcome.TIMEOUT:
                    break
                raise
        except ssl.SSLZeroReturnError:
            break
        except ssl.SSLError as exc:
            observer.add_keylog(keylog.read_new())
            return PlatformVerdict(False, verdict.verified, ssl_error=exc.reason or str(exc),
                                   version=verdict.version, cipher=verdict.cipher)
    return verdict
