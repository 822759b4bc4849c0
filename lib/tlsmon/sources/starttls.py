"""STARTTLS preambles: bring a plaintext connection to the first byte of a TLS handshake.

``negotiate()`` speaks the plaintext part of SMTP, IMAP, POP3, FTP, LDAP, PostgreSQL or XMPP on
a connected, blocking ``socket.socket`` until the server agrees to start TLS, and returns with the
socket positioned exactly where the TLS handshake begins. It consumes only bytes that belong to
the preamble: text is read by peeking (``MSG_PEEK``) and then taking up to the end of the line or
tag, binary replies by their declared length. Whatever the server sent after its go-ahead is still
in the socket for the TLS layer.

Every read and write is bounded by one absolute ``deadline`` on ``clock``, and what the server may
send is bounded too (``MAX_LINE_BYTES`` per line, ``MAX_RESPONSE_BYTES`` for the whole preamble),
so a hostile peer costs at most the deadline and a few dozen KiB. No TLS here, and no retries.
"""

from __future__ import annotations

import re
import socket
import struct
import time
from typing import Callable, Optional

from ..errors import ConnectionReset, ProbeError, ProbeTimeout

__all__ = [
    "ACCEPTED_PROTOCOLS",
    "DEFAULT_PORTS",
    "IMPLICIT_TLS",
    "MAX_LINE_BYTES",
    "MAX_RESPONSE_BYTES",
    "PHASE",
    "PROTOCOLS",
    "STARTTLS_PROTOCOLS",
    "StartTlsError",
    "canonical_protocol",
    "negotiate",
]

PHASE = "starttls"

PROTOCOLS: tuple[str, ...] = ("smtp", "imap", "pop3", "ftp", "ldap", "postgres", "xmpp")
"""The protocols with a STARTTLS preamble, named as check_ssl_cert's ``-P`` names them."""

STARTTLS_PROTOCOLS: tuple[str, ...] = PROTOCOLS + ("xmpp-server",)
"""PROTOCOLS plus "xmpp-server" (server-to-server XMPP: namespace jabber:server, port 5269)."""

IMPLICIT_TLS: frozenset[str] = frozenset({"smtps", "imaps", "pop3s", "ftps", "ldaps", "https"})
"""Protocols that start with TLS at once: ``negotiate`` accepts them and does nothing."""

ACCEPTED_PROTOCOLS: tuple[str, ...] = STARTTLS_PROTOCOLS + tuple(sorted(IMPLICIT_TLS))
"""Every name ``negotiate`` accepts (for argparse ``choices``)."""

DEFAULT_PORTS: dict[str, int] = {
    "smtp": 25,
    "imap": 143,
    "pop3": 110,
    "ftp": 21,
    "ldap": 389,
    "postgres": 5432,
    "xmpp": 5222,
    "xmpp-server": 5269,
    "smtps": 465,
    "imaps": 993,
    "pop3s": 995,
    "ftps": 990,
    "ldaps": 636,
    "https": 443,
}

MAX_LINE_BYTES = 4096
"""Longest line (with its CRLF) we read from a line-based server."""

MAX_RESPONSE_BYTES = 64 * 1024
"""Most bytes we read from the server during one whole preamble."""

_PEEK_BYTES = 4096
_LABELS = {"smtp": "SMTP", "imap": "IMAP", "pop3": "POP3", "ftp": "FTP", "ldap": "LDAP",
           "postgres": "PostgreSQL", "xmpp": "XMPP", "xmpp-server": "XMPP"}  # fmt: skip


class StartTlsError(ProbeError):
    """The server did not agree to start TLS, closed the connection, or broke the preamble."""

    kind = "starttls"

    def __init__(self, message: str, phase: str = PHASE) -> None:
        super().__init__(message, phase)


def canonical_protocol(name: str) -> str:
    """The canonical (lower-case) protocol name.

    Raises:
        ValueError: `name` is none of ``ACCEPTED_PROTOCOLS`` (a usage error).
    """
    key = name.strip().lower()
    if key not in ACCEPTED_PROTOCOLS:
        raise ValueError(f"unknown STARTTLS protocol {name!r}; expected one of: {', '.join(ACCEPTED_PROTOCOLS)}")
    return key


def negotiate(
    sock: socket.socket,
    protocol: str,
    host: str,
    deadline: float,
    clock: Callable[[], float] = time.monotonic,
    *,
    local_name: Optional[str] = None,
) -> None:
    """Speak `protocol`'s plaintext preamble until the server agrees to start TLS.

    Args:
        sock: a connected TCP socket (a plain ``socket.socket``, not an ``ssl.SSLSocket``).
        protocol: one of ``ACCEPTED_PROTOCOLS``, any case; implicit-TLS names return at once.
        host: the server's name; XMPP sends it as the stream's ``to`` (the XMPP domain).
        deadline: absolute time on `clock` by which the preamble must be done.
        clock: the clock `deadline` refers to.
        local_name: our name for SMTP ``EHLO``; default: the address literal of the socket's
            local address (``[192.0.2.1]``, ``[IPv6:2001:db8::1]``), valid per RFC 5321 §4.1.3.

    Returns:
        None; the next byte on `sock` belongs to the TLS handshake. The socket's timeout is
        restored to what it was on entry.

    Raises:
        ValueError: unknown protocol, or a `local_name` that is not a printable token.
        StartTlsError: the server refused, does not offer STARTTLS, closed the connection, sent
            something malformed, or sent more than the bounds allow.
        ProbeTimeout: the deadline passed; the message names what we were waiting for.
        ConnectionReset: the connection was reset (or another socket error occurred).
    """
    key = canonical_protocol(protocol)
    if key in IMPLICIT_TLS:
        return
    if local_name is not None and not re.fullmatch(r"[!-~]+", local_name):
        raise ValueError(f"local_name must be a printable ASCII token, not {local_name!r}")
    conv = _Conversation(sock, _LABELS[key], deadline, clock)
    saved_timeout = sock.gettimeout()
    try:
        if key == "smtp":
            _smtp(conv, (local_name or _address_literal(sock)).encode("ascii"))
        elif key == "imap":
            _imap(conv)
        elif key == "pop3":
            _pop3(conv)
        elif key == "ftp":
            _ftp(conv)
        elif key == "ldap":
            _ldap(conv)
        elif key == "postgres":
            _postgres(conv)
        else:
            _xmpp(conv, host, "jabber:server" if key == "xmpp-server" else "jabber:client")
    finally:
        try:
            sock.settimeout(saved_timeout)
        except OSError:
            pass


class _Conversation:
    """Deadline-bounded, size-bounded reads and writes of one preamble; never reads ahead."""

    def __init__(self, sock: socket.socket, label: str, deadline: float, clock: Callable[[], float]) -> None:
        self.sock = sock
        self.label = label
        self.deadline = deadline
        self.clock = clock
        self.received = 0

    def error(self, message: str) -> StartTlsError:
        return StartTlsError(f"{self.label} server {message}")

    def send(self, data: bytes, command: str) -> None:
        self._arm(f"timed out sending {command} to the {self.label} server")
        try:
            self.sock.sendall(data)
        except socket.timeout:
            raise ProbeTimeout(f"timed out sending {command} to the {self.label} server", PHASE) from None
        except OSError as exc:
            raise ConnectionReset(
                f"{self.label} server reset the connection while we sent {command} ({exc.strerror or exc})", PHASE
            ) from None

    def read_exact(self, size: int, what: str) -> bytes:
        self._charge(size, what)
        parts: list[bytes] = []
        missing = size
        while missing:
            chunk = self._recv(min(missing, _PEEK_BYTES), what)
            parts.append(chunk)
            missing -= len(chunk)
        return b"".join(parts)

    def read_through(self, delimiter: bytes, limit: int, what: str) -> bytes:
        """Consume up to and including the next `delimiter` (one byte), at most `limit` bytes."""
        parts: list[bytes] = []
        size = 0
        while True:
            peeked = self._recv(min(_PEEK_BYTES, limit + 1 - size), what, socket.MSG_PEEK)
            end = peeked.find(delimiter)
            take = len(peeked) if end < 0 else end + 1
            self._charge(take, what)
            parts.append(self._take(take, what))
            size += take
            if end >= 0:
                return b"".join(parts)
            if size > limit:
                raise self.error(f"sent a line longer than {limit} bytes while we waited for the {what}")

    def read_line(self, what: str) -> bytes:
        """One line without its CRLF (a bare LF is accepted too)."""
        line = self.read_through(b"\n", MAX_LINE_BYTES, what)
        return line[:-2] if line.endswith(b"\r\n") else line[:-1]

    def _take(self, size: int, what: str) -> bytes:
        # The bytes were peeked, so they are in the socket's receive buffer and recv returns at once.
        parts: list[bytes] = []
        while size:
            chunk = self._recv(size, what)
            parts.append(chunk)
            size -= len(chunk)
        return b"".join(parts)

    def _charge(self, size: int, what: str) -> None:
        if self.received + size > MAX_RESPONSE_BYTES:
            raise self.error(f"sent more than {MAX_RESPONSE_BYTES} bytes while we waited for the {what}")
        self.received += size

    def _arm(self, timeout_message: str) -> None:
        remaining = self.deadline - self.clock()
        if remaining <= 0:
            raise ProbeTimeout(timeout_message, PHASE)
        self.sock.settimeout(remaining)

    def _recv(self, size: int, what: str, flags: int = 0) -> bytes:
        self._arm(f"timed out waiting for the {self.label} {what}")
        try:
            data = self.sock.recv(size, flags)
        except socket.timeout:
            raise ProbeTimeout(f"timed out waiting for the {self.label} {what}", PHASE) from None
        except ConnectionResetError:
            raise ConnectionReset(
                f"{self.label} server reset the connection while we waited for the {what}", PHASE
            ) from None
        except OSError as exc:
            raise ConnectionReset(f"receive failed while we waited for the {self.label} {what}: "
                                  f"{exc.strerror or exc}", PHASE) from None  # fmt: skip
        if not data:
            raise self.error(f"closed the connection while we waited for the {what}")
        return data


def _show(data: bytes, limit: int = 160) -> str:
    """Peer text for a one-line message: decoded, control characters replaced, shortened."""
    text = "".join(c if c.isprintable() else "?" for c in data.decode("utf-8", "replace"))
    return text if len(text) <= limit else text[:limit] + "..."


def _address_literal(sock: socket.socket) -> str:
    """Our EHLO name: the local address as an RFC 5321 §4.1.3 address literal ("localhost" off IP)."""
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return "localhost"
    address = str(sock.getsockname()[0]).split("%", 1)[0]  # no IPv6 zone index in a literal
    return f"[IPv6:{address}]" if sock.family == socket.AF_INET6 else f"[{address}]"


# -- SMTP (RFC 5321, RFC 3207) and FTP (RFC 959, RFC 4217): numeric replies ---------------------


def _read_reply(conv: _Conversation, what: str) -> tuple[int, list[bytes]]:
    """A possibly multi-line reply: ``NNN-text`` ... ``NNN text`` (RFC 5321 §4.2.1, RFC 959 §4.2)."""
    first = conv.read_line(what)
    if not re.match(rb"[1-5][0-9][0-9]([ -]|$)", first):
        raise conv.error(f"sent a malformed {what}: {_show(first)}")
    code, lines = first[:3], [first]
    if first[3:4] == b"-":
        while True:  # RFC 959 lets intermediate lines be free text; the last starts with "NNN "
            line = conv.read_line(what)
            lines.append(line)
            if line[:3] == code and line[3:4] in (b" ", b""):
                break
    return int(code), lines


def _show_reply(lines: list[bytes]) -> str:
    return _show(b" / ".join(lines))


def _smtp(conv: _Conversation, local_name: bytes) -> None:
    code, lines = _read_reply(conv, "greeting")
    if code != 220:
        raise conv.error(f"refused the session: {_show_reply(lines)}")
    conv.send(b"EHLO " + local_name + b"\r\n", "EHLO")
    code, lines = _read_reply(conv, "reply to EHLO")
    if code != 250:
        raise conv.error(f"rejected EHLO: {_show_reply(lines)}")
    keywords = {(line[4:].split() or [b""])[0].upper() for line in lines[1:]}  # RFC 5321 §4.1.1.1
    if b"STARTTLS" not in keywords:
        raise conv.error("does not offer STARTTLS (EHLO reply lists no STARTTLS)")
    conv.send(b"STARTTLS\r\n", "STARTTLS")
    code, lines = _read_reply(conv, "reply to STARTTLS")
    if code != 220:
        raise conv.error(f"refused STARTTLS: {_show_reply(lines)}")


def _ftp(conv: _Conversation) -> None:
    code, lines = _read_reply(conv, "greeting")
    if code == 120:  # RFC 959 §5.4: "service ready in nnn minutes", then 220
        code, lines = _read_reply(conv, "greeting")
    if code != 220:
        raise conv.error(f"refused the session: {_show_reply(lines)}")
    conv.send(b"AUTH TLS\r\n", "AUTH TLS")
    code, lines = _read_reply(conv, "reply to AUTH TLS")
    if code in (500, 502, 504):  # command unknown or not implemented, mechanism not understood
        raise conv.error(f"does not offer AUTH TLS: {_show_reply(lines)}")
    if code != 234:  # RFC 4217 §4.1
        raise conv.error(f"refused AUTH TLS: {_show_reply(lines)}")


# -- IMAP (RFC 3501 §6.2.1) and POP3 (RFC 2595 §4) ------------------------------------------------


def _imap_line(conv: _Conversation, what: str) -> bytes:
    """One response line, with any literals (``{N}`` + N bytes) folded in."""
    line = conv.read_line(what)
    while True:
        literal = re.search(rb"\{([0-9]{1,9})\+?\}$", line)
        if literal is None:
            return line
        line += conv.read_exact(int(literal.group(1)), what) + conv.read_line(what)


def _imap_command(conv: _Conversation, tag: bytes, command: bytes, what: str) -> tuple[list[bytes], bool, bytes]:
    conv.send(tag + b" " + command + b"\r\n", command.decode())
    untagged: list[bytes] = []
    while True:
        line = _imap_line(conv, what)
        if line.startswith(tag + b" "):
            return untagged, line[len(tag) + 1 :].split(b" ", 1)[0].upper() == b"OK", line
        if line[:5].upper() == b"* BYE":
            raise conv.error(f"ended the session: {_show(line)}")
        untagged.append(line)


def _imap(conv: _Conversation) -> None:
    greeting = conv.read_line("greeting")
    status = greeting.upper().split(b" ", 2)[:2]
    if status == [b"*", b"PREAUTH"]:
        raise conv.error(f"greeted with PREAUTH, which rules out STARTTLS: {_show(greeting)}")
    if status == [b"*", b"BYE"]:
        raise conv.error(f"refused the session: {_show(greeting)}")
    if status != [b"*", b"OK"]:
        raise conv.error(f"sent a malformed greeting: {_show(greeting)}")
    untagged, ok, tagged = _imap_command(conv, b"a001", b"CAPABILITY", "reply to CAPABILITY")
    if not ok:
        raise conv.error(f"rejected CAPABILITY: {_show(tagged)}")
    capabilities = {word for line in untagged if line[:13].upper() == b"* CAPABILITY " for word in line.upper().split()}
    if b"STARTTLS" not in capabilities:
        raise conv.error("does not offer STARTTLS (CAPABILITY lists no STARTTLS)")
    _, ok, tagged = _imap_command(conv, b"a002", b"STARTTLS", "reply to STARTTLS")
    if not ok:
        raise conv.error(f"refused STARTTLS: {_show(tagged)}")


def _pop3(conv: _Conversation) -> None:
    greeting = conv.read_line("greeting")
    if greeting.startswith(b"-ERR"):
        raise conv.error(f"refused the session: {_show(greeting)}")
    if not greeting.startswith(b"+OK"):
        raise conv.error(f"sent a malformed greeting: {_show(greeting)}")
    conv.send(b"STLS\r\n", "STLS")
    reply = conv.read_line("reply to STLS")
    if reply.startswith(b"-ERR"):
        raise conv.error(f"refused STLS: {_show(reply)}")
    if not reply.startswith(b"+OK"):
        raise conv.error(f"sent a malformed reply to STLS: {_show(reply)}")


# -- LDAP (RFC 4511 §4.14, §5.1: BER, definite lengths only) --------------------------------------

_LDAP_STARTTLS_OID = b"1.3.6.1.4.1.1466.20037"
_LDAP_RESULT_NAMES = {
    0: "success", 1: "operationsError", 2: "protocolError", 3: "timeLimitExceeded", 7: "authMethodNotSupported",
    8: "strongerAuthRequired", 11: "adminLimitExceeded", 12: "unavailableCriticalExtension",
    13: "confidentialityRequired", 50: "insufficientAccessRights", 51: "busy", 52: "unavailable",
    53: "unwillingToPerform", 80: "other",
}  # fmt: skip


def _ber(tag: int, value: bytes) -> bytes:
    """One BER TLV with a definite length (short form below 128, else long form)."""
    if len(value) < 0x80:
        return bytes([tag, len(value)]) + value
    size = len(value).to_bytes((len(value).bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + value


# LDAPMessage ::= SEQUENCE { messageID 1, [APPLICATION 23] ExtendedRequest { [0] requestName } }
_LDAP_STARTTLS_REQUEST = _ber(0x30, _ber(0x02, b"\x01") + _ber(0x77, _ber(0x80, _LDAP_STARTTLS_OID)))


def _ber_next(conv: _Conversation, data: bytes, pos: int) -> tuple[int, bytes, int]:
    """(tag, value, next position) of the TLV at `pos`, every length checked against `data`."""
    if pos + 2 > len(data):
        raise conv.error("sent a malformed ExtendedResponse (truncated element)")
    tag, first = data[pos], data[pos + 1]
    if tag & 0x1F == 0x1F:
        raise conv.error("sent a malformed ExtendedResponse (multi-byte tag)")
    pos += 2
    length = first
    if first & 0x80:
        size = first & 0x7F
        if not 1 <= size <= 4 or pos + size > len(data):
            raise conv.error("sent a malformed ExtendedResponse (bad length)")
        length = int.from_bytes(data[pos : pos + size], "big")
        pos += size
    if pos + length > len(data):
        raise conv.error("sent a malformed ExtendedResponse (element overruns its container)")
    return tag, data[pos : pos + length], pos + length


def _ldap(conv: _Conversation) -> None:
    what = "StartTLS ExtendedResponse"
    conv.send(_LDAP_STARTTLS_REQUEST, "the StartTLS ExtendedRequest")
    tag = conv.read_exact(1, what)[0]
    if tag != 0x30:
        raise conv.error(f"sent no LDAPMessage (first byte 0x{tag:02x})")
    first = conv.read_exact(1, what)[0]
    length = first
    if first == 0x80:
        raise conv.error("sent an indefinite BER length, which LDAP does not allow")
    if first & 0x80:
        size = first & 0x7F
        if size > 4:
            raise conv.error(f"sent a BER length of {size} bytes")
        length = int.from_bytes(conv.read_exact(size, what), "big")
    if conv.received + length > MAX_RESPONSE_BYTES:
        raise conv.error(f"announced a {length}-byte LDAPMessage (limit {MAX_RESPONSE_BYTES})")
    body = conv.read_exact(length, what)
    tag, raw_id, pos = _ber_next(conv, body, 0)
    if tag != 0x02 or not 1 <= len(raw_id) <= 4:
        raise conv.error("sent a malformed ExtendedResponse (no messageID)")
    message_id = int.from_bytes(raw_id, "big", signed=True)
    tag, op, _ = _ber_next(conv, body, pos)
    if tag != 0x78:  # [APPLICATION 24] ExtendedResponse
        raise conv.error(f"answered StartTLS with protocolOp tag 0x{tag:02x}, not an ExtendedResponse")
    tag, raw_code, pos = _ber_next(conv, op, 0)
    if tag != 0x0A or not 1 <= len(raw_code) <= 4:  # resultCode ENUMERATED
        raise conv.error("sent a malformed ExtendedResponse (no resultCode)")
    code = int.from_bytes(raw_code, "big", signed=True)
    _, _, pos = _ber_next(conv, op, pos)  # matchedDN
    _, diagnostic, _ = _ber_next(conv, op, pos)  # diagnosticMessage
    result = f"resultCode {code} ({_LDAP_RESULT_NAMES.get(code, 'unknown')})"
    if diagnostic:
        result += f": {_show(diagnostic)}"
    if message_id == 0:  # RFC 4511 §4.4.1: Notice of Disconnection
        raise conv.error(f"sent a notice of disconnection: {result}")
    if message_id != 1:
        raise conv.error(f"answered with messageID {message_id}, not 1")
    if code != 0:
        raise conv.error(f"refused StartTLS: {result}")


# -- PostgreSQL (protocol §55.2.10 "SSL Session Encryption") --------------------------------------

_PG_SSL_REQUEST = struct.pack("!II", 8, 80877103)  # Int32 length 8, Int32 code 1234.5679


def _postgres(conv: _Conversation) -> None:
    what = "reply to SSLRequest"
    conv.send(_PG_SSL_REQUEST, "SSLRequest")
    answer = conv.read_exact(1, what)
    if answer == b"S":
        return
    if answer == b"N":
        raise conv.error("does not accept SSL ('N')")
    if answer != b"E":  # a server too old to know SSLRequest answers with an ErrorResponse
        raise conv.error(f"sent an unexpected reply to SSLRequest: {answer!r}")
    length = struct.unpack("!I", conv.read_exact(4, what))[0]
    if not 4 <= length <= MAX_RESPONSE_BYTES - conv.received:
        raise conv.error(f"announced a {length}-byte ErrorResponse (limit {MAX_RESPONSE_BYTES})")
    fields = {f[:1]: f[1:] for f in conv.read_exact(length - 4, what).split(b"\x00") if f}
    detail = b" ".join(fields[k] for k in (b"S", b"C", b"M") if k in fields)
    raise conv.error(f"rejected SSLRequest: {_show(detail)}")


# -- XMPP (RFC 6120 §4.2, §5.4) -------------------------------------------------------------------

_XMPP_TLS_NS = "urn:ietf:params:xml:ns:xmpp-tls"


def _xml_attribute(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&apos;")


def _xmpp_tag(conv: _Conversation, what: str) -> tuple[bytes, bool, bool, bytes]:
    """The next tag as (name, is_end_tag, is_empty_element, raw tag); text before it is skipped."""
    piece = conv.read_through(b">", MAX_RESPONSE_BYTES, what)
    start = piece.rfind(b"<")
    match = re.match(rb"<(/?)([^\s/>]+)", piece[start:]) if start >= 0 else None
    if match is None:
        raise conv.error(f"sent malformed XML while we waited for the {what}: {_show(piece[-80:])}")
    tag = piece[start:]
    return match.group(2), match.group(1) == b"/", tag.endswith(b"/>"), tag


def _xmpp_check(conv: _Conversation, name: bytes, is_end: bool, what: str) -> None:
    """Raise on a stream error or the end of the stream."""
    if name == b"stream:error" and not is_end:
        condition, _, _, _ = _xmpp_tag(conv, what)
        raise conv.error(f"sent a stream error: {_show(condition)}")
    if name == b"stream:stream" and is_end:
        raise conv.error(f"closed the XML stream while we waited for the {what}")


def _xmpp(conv: _Conversation, host: str, namespace: str) -> None:
    header = (
        f"<?xml version='1.0'?><stream:stream to='{_xml_attribute(host)}' xmlns='{namespace}' "
        f"xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
    )
    conv.send(header.encode("utf-8"), "the stream header")
    what = "stream features"
    offered = in_features = False
    while True:
        name, is_end, is_empty, _ = _xmpp_tag(conv, what)
        _xmpp_check(conv, name, is_end, what)
        if name == b"stream:features":
            if is_end or is_empty:
                break
            in_features = True
        elif in_features and name.rsplit(b":", 1)[-1] == b"starttls":
            offered = True
    if not offered:
        raise conv.error("does not offer STARTTLS (stream features list no <starttls/>)")
    conv.send(f"<starttls xmlns='{_XMPP_TLS_NS}'/>".encode(), "<starttls/>")
    what = "reply to <starttls/>"
    name, is_end, is_empty, tag = _xmpp_tag(conv, what)
    _xmpp_check(conv, name, is_end, what)
    if name == b"failure":
        raise conv.error(f"refused STARTTLS: {_show(tag)}")
    if name != b"proceed" or is_end:
        raise conv.error(f"answered <starttls/> with {_show(tag)}")
    if not is_empty:  # <proceed ...></proceed>
        name, is_end, _, tag = _xmpp_tag(conv, what)
        if name != b"proceed" or not is_end:
            raise conv.error(f"sent {_show(tag)} inside <proceed>")
