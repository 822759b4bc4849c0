"""Codec throughput: parse a recorded TLS 1.2 server flight, many times, on one core.

The flight is recorded live: a loopback Python ``ssl`` server (TLS 1.2 only, leaf + 2
intermediates) answers a ClientHello built by tlsmon's codec, and the bytes it sends are kept
up to the end of the record that carries ServerHelloDone. Timing then runs on those bytes alone.
"""

from __future__ import annotations

import gc
import os
import socket
import statistics
import time
from dataclasses import dataclass
from typing import Callable, Iterator, Optional

from loopback import OneShotTls12Server
from pki import Chain

from tlsmon.codec.connection import ClientHandshake
from tlsmon.codec.events import MessageEvent, ServerFlightComplete
from tlsmon.codec.hello import TLS12, HelloOptions, build_client_hello_message
from tlsmon.codec.messages import Certificate, HandshakeMessage, build_handshake, parse_handshake
from tlsmon.codec.records import NEED_DATA, HandshakeReassembler, RecordReader, build_record

__all__ = [
    "RecordedFlight",
    "record_tls12_flight",
    "parse_flight",
    "Timing",
    "measure",
    "iter_timings",
    "pinned_to_one_core",
]

_SERVER_HELLO_DONE = 14
_HANDSHAKE = 22
HELLO_OPTIONS = HelloOptions(versions=(TLS12,), server_name="localhost")


@dataclass(frozen=True)
class RecordedFlight:
    """The server's first flight as it came off the wire.

    Attributes:
        data: the raw bytes, records and all, up to the end of the ServerHelloDone record.
        records: how many TLS records that is.
        message_types: the handshake message types, in order.
        certificates: how many certificates the Certificate message carries.
        cipher_suite: what the server chose.
    """

    data: bytes
    records: int
    message_types: tuple[int, ...]
    certificates: int
    cipher_suite: int


def parse_flight(flight: bytes) -> list[HandshakeMessage]:
    """RecordReader -> HandshakeReassembler -> parse_handshake for every message (the timed work).

    Certificates stay DER inside the ``Certificate`` dataclass; nothing is x509-parsed.
    """
    reader = RecordReader(allow_sslv2=False)
    reassembler = HandshakeReassembler()
    reader.receive_data(flight)
    messages: list[HandshakeMessage] = []
    while True:
        rec = reader.next_record()
        if rec is NEED_DATA:
            return messages
        if rec.content_type != _HANDSHAKE:
            raise ValueError(f"unexpected record type {rec.content_type}")
        reassembler.receive_fragment(rec.fragment)
        while True:
            item = reassembler.next_message()
            if item is NEED_DATA:
                break
            msg_type, body, _raw = item
            messages.append(parse_handshake(msg_type, body, tls13=False, version=TLS12))


def client_handshake_flight(hs: ClientHandshake, flight: bytes) -> int:
    """Feed ``flight`` to a fresh ``ClientHandshake`` and drain its events; returns how many."""
    hs.receive_data(flight)
    n = 0
    while True:
        event = hs.next_event()
        if event is NEED_DATA:
            raise RuntimeError("ClientHandshake wants more data than the recorded flight")
        n += 1
        if isinstance(event, ServerFlightComplete):
            return n


def new_client_handshake() -> ClientHandshake:
    """What a probe builds before it sends anything: state, randoms and the ClientHello bytes."""
    hs = ClientHandshake(HELLO_OPTIONS, os.urandom)
    hs.data_to_send()
    return hs


def record_tls12_flight(chain: Chain, timeout_s: float = 10.0) -> RecordedFlight:
    """Connect to a one-shot TLS 1.2 server and keep what it sends up to ServerHelloDone.

    The ClientHello comes from the codec: ``HelloOptions`` -> ``build_client_hello_message``
    -> ``build_handshake`` -> ``build_record``.
    """
    hello = build_client_hello_message(HELLO_OPTIONS, os.urandom(32), os.urandom(32))
    client_hello = build_record(_HANDSHAKE, build_handshake(hello), 0x0301)
    reader = RecordReader(allow_sslv2=False)
    reassembler = HandshakeReassembler()
    received = bytearray()
    types: list[int] = []
    records = 0
    with OneShotTls12Server(chain, timeout_s) as server, socket.create_connection(
        ("127.0.0.1", server.port), timeout=timeout_s
    ) as sock:
        sock.sendall(client_hello)
        while _SERVER_HELLO_DONE not in types:
            data = sock.recv(65536)
            if not data:
                raise RuntimeError(f"server closed after {len(received)} bytes, messages {types}")
            received += data
            reader.receive_data(data)
            while (rec := reader.next_record()) is not NEED_DATA:
                records += 1
                reassembler.receive_fragment(rec.fragment)
                while (item := reassembler.next_message()) is not NEED_DATA:
                    types.append(item[0])
        flight = bytes(received[: reader.stream_offset])
    messages = parse_flight(flight)
    certs = [m for m in messages if isinstance(m, Certificate)]
    if len(certs) != 1 or len(certs[0].entries) != len(chain.ders):
        raise RuntimeError(f"expected one Certificate with {len(chain.ders)} certificates, got {messages!r:.200}")
    if certs[0].certificates != chain.ders:
        raise RuntimeError("the recorded chain is not the one the server was given")
    _check_client_handshake_reads(flight, len(types))
    server_hello = messages[0]
    return RecordedFlight(flight, records, tuple(types), len(certs[0].entries),
                          getattr(server_hello, "cipher_suite", -1))


def _check_client_handshake_reads(flight: bytes, server_messages: int) -> None:
    hs = new_client_handshake()
    hs.receive_data(flight)
    events = []
    while not events or not isinstance(events[-1], ServerFlightComplete):
        event = hs.next_event()
        if event is NEED_DATA:
            raise RuntimeError(f"ClientHandshake did not complete the flight: {events}")
        events.append(event)
    if sum(isinstance(e, MessageEvent) for e in events) != 1 + server_messages:  # our ClientHello + the flight
        raise RuntimeError(f"unexpected events from ClientHandshake: {events}")


@dataclass(frozen=True)
class Timing:
    """Repeated timings of one operation.

    Attributes:
        per_rep_s: seconds per operation, one value per repetition.
        loops: operations per repetition.
    """

    per_rep_s: tuple[float, ...]
    loops: int

    @property
    def best_per_s(self) -> float:
        return 1.0 / min(self.per_rep_s)

    @property
    def median_per_s(self) -> float:
        return 1.0 / statistics.median(self.per_rep_s)

    @property
    def best_us(self) -> float:
        return min(self.per_rep_s) * 1e6

    @property
    def median_us(self) -> float:
        return statistics.median(self.per_rep_s) * 1e6


def _calibrate(run: Callable[[int], float], min_time_s: float) -> int:
    """Like timeit's autorange: 1, 2, 5, 10, ... loops until one run takes ``min_time_s``."""
    loops = 1
    while True:
        for factor in (1, 2, 5):
            n = loops * factor
            if run(n) >= min_time_s:
                return n
        loops *= 10


def measure(run: Callable[[int], float], repeats: int, min_time_s: float) -> Timing:
    """``run(n)`` performs n operations and returns the seconds they took (setup excluded).

    The garbage collector is off while timing, as in ``timeit``.
    """
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        loops = _calibrate(run, min_time_s)
        per_rep = tuple(run(loops) / loops for _ in range(repeats))
    finally:
        if gc_was_enabled:
            gc.enable()
    return Timing(per_rep, loops)


def time_parse_flight(flight: bytes) -> Callable[[int], float]:
    def run(n: int) -> float:
        clock = time.perf_counter
        t0 = clock()
        for _ in range(n):
            parse_flight(flight)
        return clock() - t0

    return run


def time_client_handshake(flight: bytes) -> Callable[[int], float]:
    """Feed + drain only: the fresh objects (and their ClientHellos) are built before the clock starts."""

    def run(n: int) -> float:
        fresh = [new_client_handshake() for _ in range(n)]
        clock = time.perf_counter
        t0 = clock()
        for hs in fresh:
            client_handshake_flight(hs, flight)
        return clock() - t0

    return run


def time_client_handshake_with_hello(flight: bytes) -> Callable[[int], float]:
    """Construction (ClientHello built, randoms drawn) + feed + drain, per flight."""

    def run(n: int) -> float:
        clock = time.perf_counter
        t0 = clock()
        for _ in range(n):
            client_handshake_flight(new_client_handshake(), flight)
        return clock() - t0

    return run


def time_client_handshake_construction() -> Callable[[int], float]:
    def run(n: int) -> float:
        clock = time.perf_counter
        t0 = clock()
        for _ in range(n):
            new_client_handshake()
        return clock() - t0

    return run


class pinned_to_one_core:  # noqa: N801 - used as a context manager, reads like a function
    """Pin this process to one CPU for the duration (Linux); a no-op where unsupported."""

    def __init__(self) -> None:
        self.cpu: Optional[int] = None
        self._saved: Optional[set[int]] = None

    def __enter__(self) -> pinned_to_one_core:
        if hasattr(os, "sched_setaffinity"):
            self._saved = set(os.sched_getaffinity(0))
            self.cpu = max(self._saved)
            os.sched_setaffinity(0, {self.cpu})
        return self

    def __exit__(self, *exc: object) -> None:
        if self._saved is not None:
            os.sched_setaffinity(0, self._saved)


def iter_timings(flight: bytes, repeats: int, min_time_s: float) -> Iterator[tuple[str, Timing]]:
    """The four codec timings, in the order they are reported."""
    yield "parse_flight", measure(time_parse_flight(flight), repeats, min_time_s)
    yield "client_handshake_feed", measure(time_client_handshake(flight), repeats, min_time_s)
    yield "client_handshake_with_hello", measure(time_client_handshake_with_hello(flight), repeats, min_time_s)
    yield "client_handshake_construction", measure(time_client_handshake_construction(), repeats, min_time_s)
