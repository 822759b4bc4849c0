"""What a connection reports to its driver: typed events, no I/O.

``direction`` is ``"C->S"`` (client to server) or ``"S->C"``; ``record`` numbers the
records of that direction from 1, so a driver can group messages as they were sent.
"""

from __future__ import annotations

from typing import Union

from ..frozen import frozen
from .messages import Alert, HandshakeMessage

__all__ = [
    "CLIENT",
    "SERVER",
    "MessageEvent",
    "ChangeCipherSpecEvent",
    "AlertEvent",
    "ApplicationDataEvent",
    "EncryptedRecordEvent",
    "ServerFlightComplete",
    "ConnectionClosed",
    "Event",
]

CLIENT = "C->S"
SERVER = "S->C"


@frozen
class MessageEvent:
    """A handshake message sent or received.

    Attributes:
        direction: CLIENT or SERVER.
        message: the parsed message.
        encrypted: it travelled inside protected records.
        record: the record number (per direction) that completed the message.
        length: the message's size on the wire, header included.
    """

    direction: str
    message: HandshakeMessage
    encrypted: bool
    record: int
    length: int = 0


@frozen
class ChangeCipherSpecEvent:
    direction: str
    record: int


@frozen
class AlertEvent:
    """An alert; ``phase`` is the receiver's state when it came (what it was waiting for)."""

    direction: str
    alert: Alert
    encrypted: bool
    record: int
    phase: str = ""


@frozen
class ApplicationDataEvent:
    """Protected application data we could not (or need not) read; ``length`` is the record size."""

    direction: str
    length: int
    record: int
    data: bytes = b""


@frozen
class EncryptedRecordEvent:
    """A protected record a passive observer could not read (no keys, or TLS <= 1.2).

    Attributes:
        content_type: the outer content type (22 in TLS <= 1.2 for handshake, 23 in TLS 1.3).
        name: how a capture reader names it, e.g. ``Encrypted Handshake Message``.
    """

    direction: str
    content_type: int
    length: int
    record: int
    name: str = "Encrypted Handshake Message"


@frozen
class ServerFlightComplete:
    """The server's first flight is read: ServerHelloDone (<= 1.2) or a verified Finished (1.3)."""

    version: int


@frozen
class ConnectionClosed:
    """The peer closed the stream (``receive_data(b"")``)."""

    direction: str


Event = Union[
    MessageEvent,
    ChangeCipherSpecEvent,
    AlertEvent,
    ApplicationDataEvent,
    EncryptedRecordEvent,
    ServerFlightComplete,
    ConnectionClosed,
]
