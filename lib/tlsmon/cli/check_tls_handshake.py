"""Options of check_tls_handshake (names as in check_ssl_cert where they exist)."""

from __future__ import annotations

import argparse
import re
import time
from typing import Optional, Sequence

from . import options

__all__ = ["parse", "parse_version", "DESCRIPTION", "MATRIX_MODES"]

DESCRIPTION = """Check the TLS handshake of an endpoint: health, failure diagnosis and protocol policy.

One full handshake with the platform TLS library (the verdict real clients get), observed
by tlsmon's codec: the phase it failed in, the server's alert, the time of each phase.
Then the version matrix (SSL 3.0 ... TLS 1.3) and the accepted cipher suites of each
version, probed with tlsmon's own ClientHello (independent of what the local OpenSSL
offers). Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN."""

MATRIX_MODES = ("full", "versions", "none")

_VERSIONS = {
    "ssl3": 0x0300, "sslv3": 0x0300, "ssl3.0": 0x0300, "3.0": 0x0300,
    "tls1": 0x0301, "tls1.0": 0x0301, "tlsv1": 0x0301, "tlsv1.0": 0x0301, "1.0": 0x0301, "tls1_0": 0x0301,
    "tls1.1": 0x0302, "tlsv1.1": 0x0302, "1.1": 0x0302, "tls1_1": 0x0302,
    "tls1.2": 0x0303, "tlsv1.2": 0x0303, "1.2": 0x0303, "tls1_2": 0x0303,
    "tls1.3": 0x0304, "tlsv1.3": 0x0304, "1.3": 0x0304, "tls1_3": 0x0304,
}


def parse_version(text: str) -> int:
    """``1.2``, ``TLS1.2``, ``TLSv1.2``, ``tls1_2``, ``SSLv3`` ... -> raw version (0x0303)."""
    value = _VERSIONS.get(text.strip().lower())
    if value is None:
        raise argparse.ArgumentTypeError(f"not a protocol version: {text!r} (SSLv3, 1.0, 1.1, 1.2 or 1.3)")
    return value


_milliseconds = options.positive_number("number of milliseconds")


def _alpn(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if not names or any(len(n.encode()) > 255 for n in names):
        raise argparse.ArgumentTypeError(f"not a comma-separated list of ALPN protocols: {text!r}")
    return names


def _pattern(text: str) -> str:
    try:
        re.compile(text)
    except re.error as exc:
        raise argparse.ArgumentTypeError(f"not a regular expression: {text!r} ({exc})") from None
    return text


def parse(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = options.parser("check_tls_handshake", DESCRIPTION)
    p.set_defaults(port=None)  # 443, or the -P protocol's port: decided after parsing
    p.add_argument("-P", "--protocol", metavar="PROTO",
                   help="STARTTLS first: smtp, imap, pop3, ftp, ldap, postgres, xmpp, xmpp-server")
    p.add_argument("-w", "--warning", type=_milliseconds, metavar="MS",
                   help="WARNING when the full handshake takes longer than MS milliseconds")
    p.add_argument("-c", "--critical", type=_milliseconds, metavar="MS",
                   help="CRITICAL when the full handshake takes longer than MS milliseconds")
    p.add_argument("--no-verify", action="store_true",
                   help="do not verify the certificate chain in the handshake (check_tls_cert's job)")
    versions = p.add_argument_group("protocol versions")
    versions.add_argument("--require-no-ssl3", action="store_true", help="CRITICAL if SSL 3.0 is accepted (default)")
    versions.add_argument("--require-no-tls1", action="store_true", help="CRITICAL if TLS 1.0 is accepted")
    versions.add_argument("--require-no-tls1_1", action="store_true", help="CRITICAL if TLS 1.1 is accepted")
    versions.add_argument("--require-tls1_2", action="store_true", help="CRITICAL unless TLS 1.2 is accepted")
    versions.add_argument("--require-tls1_3", action="store_true", help="CRITICAL unless TLS 1.3 is accepted")
    versions.add_argument("--min-version", type=parse_version, metavar="VERSION",
                          help="CRITICAL if a version below VERSION is accepted (1.0, 1.1, 1.2, 1.3); "
                               "versions from VERSION up are then fine, TLS 1.0/1.1 included")
    ciphers = p.add_argument_group("cipher suites")
    ciphers.add_argument("--forbid-cipher", action="append", type=_pattern, default=[], metavar="PATTERN",
                         help="CRITICAL if an accepted suite's IANA name matches PATTERN (a case-insensitive "
                              "regular expression; repeatable)")
    ciphers.add_argument("--require-forward-secrecy", action="store_true",
                         help="CRITICAL (not WARNING) if a suite without forward secrecy is accepted")
    ciphers.add_argument("--matrix", choices=MATRIX_MODES, default="full",
                         help="full: versions and suites (default); versions: the version matrix alone; "
                              "none: the handshake alone")
    more = p.add_argument_group("extensions")
    more.add_argument("--alpn", type=_alpn, metavar="LIST",
                      help="offer these ALPN protocols (h2,http/1.1); CRITICAL unless the server selects one")
    more.add_argument("--require-ocsp-stapling", action="store_true",
                      help="CRITICAL unless the server staples an OCSP response")
    args = p.parse_args(argv)
    if not args.host:
        p.error("-H/--host is required")
    if args.warning is not None and args.critical is not None and args.warning > args.critical:
        p.error(f"-w ({args.warning:g} ms) must not be larger than -c ({args.critical:g} ms)")
    if args.protocol:
        from ..sources.starttls import ACCEPTED_PROTOCOLS, DEFAULT_PORTS

        proto = args.protocol.lower()
        if proto not in ACCEPTED_PROTOCOLS and proto != "tls":
            p.error(f"unknown protocol {args.protocol!r} (one of {', '.join(ACCEPTED_PROTOCOLS)})")
        args.protocol = proto
        if args.port is None:
            args.port = DEFAULT_PORTS.get(proto)
    if args.port is None:
        args.port = 443
    end = time.monotonic() + args.timeout
    args.deadline = end
    args.deadline_left = lambda: max(0.05, end - time.monotonic())
    return args
