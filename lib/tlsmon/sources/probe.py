"""Active probe: socket + deadline + codec -> ``HandshakeObservation``.

All I/O of a probe lives here: name resolution (bounded by the same deadline as
everything else), the TCP connection, and the reads and writes that feed the
sans-I/O ``ClientHandshake``. Failures become observations with an ``Outcome``
and the phase they happened in; they are data, not exceptions.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Callable, Optional

from ..codec.connection import ClientHandshake
from ..codec.events import (
    AlertEvent,
    ApplicationDataEvent,
    ChangeCipherSpecEvent,
    ConnectionClosed,
    MessageEvent,
    ServerFlightComplete,
)
from ..codec.hello import TLS13, HelloOptions
from ..codec.messages import ServerHello
from ..codec.records import NeedData
from ..errors import CodecError, DecodeError, LimitExceeded, ProbeError
from ..observations import Endpoint, HandshakeObservation, Outcome, Timings
from . import assemble, net
from .net import Failure, ProbeTarget

__all__ = ["ProbeTarget", "probe"]



@dataclass
class _Run:
    """Mutable bookkeeping of one probe; frozen into the observation at the end."""

    start: float
    clock: Callable[[], float]
    address: Optional[str] = None
    dns: Optional[float] = None
    connect: Optional[float] = None
    first_byte: Optional[float] = None
    server_hello: Optional[float] = None
    flight: Optional[float] = None
    events: list = field(default_factory=list)
    event_times: list = field(default_factory=list)
    received_any_record: bool = False

    def mark(self) -> float:
        return self.clock() - self.start


def probe(
    target: ProbeTarget,
    hello: HelloOptions,
    *,
    timeout_s: float = 10.0,
    clock: Callable[[], float] = time.monotonic,
    rng: Callable[[int], bytes] = os.urandom,
    now: Optional[datetime] = None,
    deadline: Optional[float] = None,
    complete: bool = False,
    settle_s: float = 1.0,
    stop_after_server_hello: bool = False,
    starttls: Optional[str] = None,
) -> HandshakeObservation:
    """Connect to ``target``, send our ClientHello and read the server's flight.

    Args:
        target: host, port and address family.
        hello: what the ClientHello offers (SNI included).
        timeout_s: bound for the whole probe, name resolution included.
        clock: monotonic clock (seconds).
        rng: randomness for the ClientHello and key shares.
        now: the wall-clock start to record (UTC); defaults to the current time.
        deadline: an absolute ``clock()`` deadline that overrides ``timeout_s``.
        complete: for TLS 1.3, finish the handshake without a client certificate (an empty
            Certificate if one was requested) and wait up to ``settle_s`` for the server's
            verdict, e.g. certificate_required(116). TLS <= 1.2 flights are only read.
        settle_s: how long to wait for that verdict.
        stop_after_server_hello: hang up as soon as the ServerHello is read (a HelloRetryRequest
            is answered first): enough to learn the version and suite the server picks, and
            what scans need. The observation is then COMPLETED without the rest of the flight.
        starttls: protocol to upgrade first (``smtp``, ``imap``, ... as in ``starttls.negotiate``).

    Returns:
        The observation; failures are described in it, never raised.
    """
    started_at = now or datetime.now(timezone.utc)
    run = _Run(start=clock(), clock=clock)
    end = deadline if deadline is not None else run.start + timeout_s
    hs: Optional[ClientHandshake] = None
    stopped = False
    outcome, phase, error = Outcome.COMPLETED, "complete", None
    sock: Optional[socket.socket] = None
    try:
        addrs = net.resolve(target.host, target.port, target.family, end, clock)
        run.dns = run.mark()
        sock = net.connect(addrs, end, clock)
        run.address = sock.getpeername()[0]
        run.connect = run.mark()
        if starttls:
            _starttls(sock, starttls, hello.server_name or target.host, end, clock)
        hs = ClientHandshake(hello, rng, complete=complete)
        stopped = _exchange(sock, hs, run, end, settle_s if complete else 0.0, stop_after_server_hello)
    except Failure as f:
        outcome, phase, error = f.outcome, f.phase, f.message
    finally:
        if sock is not None:
            sock.close()
    total = run.mark()
    timings = Timings(run.dns, run.connect, run.first_byte, run.server_hello, run.flight, total)
    endpoint = Endpoint(target.host, target.port, run.address)
    state = assemble.HandshakeState.of_client(hs) if hs is not None else None
    if stopped and state is not None:
        state = replace(state, flight_complete=True)  # all that was asked for was read: not a truncated flight
    return assemble.observation(
        endpoint, hello.server_name, hello.versions, started_at, outcome, phase, error, state, run.events,
        run.event_times, timings,
    )


def _phase(hs: ClientHandshake) -> str:
    return hs.phase


def _starttls(sock: socket.socket, protocol: str, host: str, end: float, clock: Callable[[], float]) -> None:
    from .starttls import negotiate

    try:
        negotiate(sock, protocol, host, end, clock)
    except ProbeError as exc:
        outcome = {"timeout": Outcome.TIMEOUT, "reset": Outcome.RESET}.get(exc.kind, Outcome.NOT_TLS)
        raise Failure(outcome, "starttls", str(exc)) from None


def _exchange(sock: socket.socket, hs: ClientHandshake, run: _Run, end: float, settle_s: float = 0.0,
              stop_after_server_hello: bool = False) -> bool:
    """Drive the handshake until the server flight is complete, an alert, EOF or the deadline.

    With ``settle_s`` > 0 and TLS 1.3, the handshake has been completed by the codec (empty
    Certificate if one was requested, then Finished): keep reading up to ``settle_s`` seconds
    for the server's verdict (NewSessionTicket, data, an alert such as certificate_required).
    With ``stop_after_server_hello``, return True as soon as a ServerHello (not a
    HelloRetryRequest) is read; False in every other case.
    """
    settling = False
    while True:
        out = hs.data_to_send()
        if out:
            try:
                sock.sendall(out)
            except (ConnectionResetError, BrokenPipeError):
                raise Failure(Outcome.RESET, _phase(hs), f"connection reset while sending {hs.last_sent}") from None
            except OSError as exc:
                raise Failure(Outcome.RESET, _phase(hs), f"send failed: {exc.strerror or exc}") from None
        try:
            event = hs.next_event()
        except DecodeError as exc:
            if not run.received_any_record and not isinstance(exc, LimitExceeded):
                reason = f"the server did not answer in TLS ({exc.reason})"
                raise Failure(Outcome.NOT_TLS, _phase(hs), reason) from None
            raise Failure(Outcome.PROTOCOL_ERROR, _phase(hs), f"malformed TLS from the server: {exc}") from None
        except CodecError as exc:
            raise Failure(Outcome.PROTOCOL_ERROR, _phase(hs), str(exc)) from None
        if isinstance(event, NeedData):
            if not settling:
                _receive(sock, hs, run, end)
                continue
            try:
                _receive(sock, hs, run, end)
            except Failure as f:
                if f.outcome is Outcome.TIMEOUT:
                    return False  # the server said nothing more within the settle time: no verdict is a verdict
                raise
            continue
        run.events.append(event)
        run.event_times.append(run.mark())
        if isinstance(event, MessageEvent) and event.direction == "S->C":
            run.received_any_record = True
            if run.server_hello is None:
                run.server_hello = run.mark()
            if stop_after_server_hello and isinstance(event.message, ServerHello) \
                    and not event.message.is_hello_retry_request:
                return True
            if settling:
                return False  # a ticket or a post-handshake request: the server accepted our Finished
        elif isinstance(event, (AlertEvent, ChangeCipherSpecEvent)):
            run.received_any_record = True
        elif isinstance(event, ApplicationDataEvent) and settling:
            return False
        if isinstance(event, ServerFlightComplete):
            run.flight = run.mark()
            if settle_s <= 0 or hs.version != TLS13:
                return False
            settling = True
            end = min(end, run.clock() + settle_s)
        if isinstance(event, AlertEvent) and event.alert.level == 2:
            return False
        if isinstance(event, ConnectionClosed):
            return False


def _receive(sock: socket.socket, hs: ClientHandshake, run: _Run, end: float) -> None:
    remaining = end - run.clock()
    waiting_for = hs.phase
    if remaining <= 0:
        raise Failure(Outcome.TIMEOUT, waiting_for, f"timed out waiting for {_awaited(hs)}")
    sock.settimeout(remaining)
    try:
        data = sock.recv(65536)
    except socket.timeout:
        raise Failure(Outcome.TIMEOUT, waiting_for, f"timed out waiting for {_awaited(hs)}") from None
    except ConnectionResetError:
        raise Failure(Outcome.RESET, waiting_for, f"connection reset while waiting for {_awaited(hs)}") from None
    except OSError as exc:
        raise Failure(Outcome.RESET, waiting_for, f"receive failed: {exc.strerror or exc}") from None
    if data and run.first_byte is None:
        run.first_byte = run.mark()
    hs.receive_data(data)


_AWAITED = {
    "server_hello": "ServerHello",
    "server_hello_after_retry": "ServerHello after HelloRetryRequest",
    "certificate": "Certificate",
    "server_key_exchange": "ServerKeyExchange or ServerHelloDone",
    "server_hello_done": "ServerHelloDone",
    "encrypted_extensions": "EncryptedExtensions",
    "certificate_request_or_certificate": "Certificate",
    "certificate_after_request": "Certificate",
    "certificate_verify": "CertificateVerify",
    "finished": "Finished",
    "connected": "the server's answer to our Finished",
}


def _awaited(hs: ClientHandshake) -> str:
    what = _AWAITED.get(hs.phase, hs.phase)
    partial = " (partial data received)" if hs.has_partial_data else ""
    return f"{what}{partial}"
