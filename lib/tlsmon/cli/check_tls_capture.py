"""Options of check_tls_capture."""

from __future__ import annotations

import argparse
import ipaddress
import re
from typing import Optional, Sequence

from ..errors import UsageError
from . import options

__all__ = ["parse", "DESCRIPTION", "parse_duration"]

DESCRIPTION = """Watch TLS passively: the handshakes in capture files, a tcpdump/dumpcap ring
(read incrementally with a state file), a pcap stream on stdin, or a live sample of an interface.

Evaluates handshake failures, client-certificate requests (TLS 1.3's are encrypted: "unseen"),
empty client certificates, server certificates about to expire, forbidden versions, and
whether there was any traffic at all. Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.

  check_tls_capture edge.pcapng --require-client-cert 'CN=Client CA,O=Example'
  check_tls_capture --ring /var/spool/tls --glob 'edge-*.pcap' --state /var/lib/tlsmon/edge.state
  tcpdump -i eth0 -w - -c 2000 'tcp port 443' | check_tls_capture -
  check_tls_capture --interface eth0 --duration 30 --bpf 'tcp port 443'"""

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw]?)", re.IGNORECASE)
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> float:
    """``90``, ``90s``, ``10m``, ``1h30m``, ``2d`` -> seconds.

    Raises:
        argparse.ArgumentTypeError: not a duration.
    """
    pos, total = 0, 0.0
    text = text.strip()
    while pos < len(text):
        m = _DURATION.match(text, pos)
        if not m or m.end() == pos:
            raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 90s, 10m, 1h30m, 2d)")
        total += float(m.group(1)) * _UNITS[m.group(2).lower()]
        pos = m.end()
    if not text or total <= 0:
        raise argparse.ArgumentTypeError(f"not a positive duration: {text!r}")
    return total


def _range(text: str) -> str:
    import nagiosplugin

    body = text[:-1] if text.endswith("%") else text
    try:
        nagiosplugin.Range(body)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a Nagios range: {text!r} ({exc})") from None
    return text


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"not a count: {text!r}")
    return int(text)



def _server(text: str) -> tuple[Optional[str], Optional[int]]:
    from .main import parse_target

    try:
        host, port = parse_target(text, default_port=0)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return (None if host == "*" else host), (port or None)


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an address or network: {text!r}") from None


def _versions(text: str) -> list[int]:
    from ..evaluations.capture import VERSIONS

    out = []
    for item in (v.strip().lower() for v in text.split(",")):
        if item and item not in VERSIONS:
            raise argparse.ArgumentTypeError(f"unknown version {item!r} (ssl3, tls1.0, tls1.1, tls1.2, tls1.3)")
        if item:
            out.append(VERSIONS[item])
    return out


def parse(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = options.parser("check_tls_capture", DESCRIPTION, target=False)
    p.set_defaults(timeout=None)
    src = p.add_argument_group("what to read (one of)")
    src.add_argument("capture", nargs="*", metavar="FILE",
                     help="capture files (pcap, pcapng, Network Monitor; gzip too), read as one stream in this "
                          "order; - reads a pcap stream on stdin")
    src.add_argument("--ring", metavar="DIR", help="the directory of a tcpdump -G/-C or dumpcap -b ring")
    src.add_argument("--glob", default="*", metavar="PATTERN", help="the ring's file names (default *)")
    src.add_argument("--state", metavar="FILE", help="state of the ring's incremental reading (needed with --ring)")
    src.add_argument("--ring-horizon", type=parse_duration, default=300.0, metavar="DURATION",
                     help="connections open this long are counted at the end of a run, as they stand "
                          "(default 300s)")
    src.add_argument("--interface", metavar="IF", help="capture live on this interface (tcpdump or dumpcap)")
    src.add_argument("--duration", type=parse_duration, metavar="SECONDS", help="how long to capture live")
    src.add_argument("--bpf", metavar="FILTER", help="capture filter for --interface (pcap syntax)")
    src.add_argument("--capture-tool", choices=("tcpdump", "dumpcap"), help="default: tcpdump, else dumpcap")
    src.add_argument("--keylog", metavar="FILE", help="SSLKEYLOGFILE: decrypts TLS 1.3 and TLS 1.2 AEAD handshakes")
    flt = p.add_argument_group("which connections count (all must hold)")
    flt.add_argument("--server", action="append", type=_server, metavar="HOST[:PORT]",
                     help="connections to this server: an address, or a name matched against the SNI; "
                          "*:PORT for a port (repeatable: any)")
    flt.add_argument("--sni", action="append", metavar="PATTERN",
                     help="server name sent, shell pattern (*.example.org), case-insensitive (repeatable: any)")
    flt.add_argument("--client", action="append", type=_network, metavar="CIDR",
                     help="clients in this network (repeatable: any)")
    flt.add_argument("--since", type=parse_duration, metavar="DURATION",
                     help="connections that began within DURATION before now (10m, 2h, 1d)")
    ev = p.add_argument_group("evaluations (RANGE: a Nagios range, e.g. 5 or 10:; with %% on the failure ratio)")
    ev.add_argument("--failures-warning", type=_range, metavar="RANGE",
                    help="failed handshakes, as a count (5) or a ratio of the handshakes (10%%)")
    ev.add_argument("--failures-critical", type=_range, metavar="RANGE", help="the same, for CRITICAL")
    ev.add_argument("--require-client-cert", action="append", nargs="?", const="", metavar="CA",
                    help="every completed handshake must carry a CertificateRequest (CRITICAL without); "
                         "optionally naming CAs: an RFC 4514 name or a certificate file (repeatable), or a "
                         "comma-separated list of CA common names")
    ev.add_argument("--allow-late", action="store_true",
                    help="a request only in a renegotiation (seen or possible) is OK (default WARNING)")
    ev.add_argument("--unseen", choices=("ok", "warning", "unknown"), default="warning",
                    help="state of handshakes whose request cannot be seen, TLS 1.3 without --keylog "
                         "(default warning)")
    ev.add_argument("--empty-client-cert-warning", type=_range, metavar="RANGE",
                    help="clients answering a CertificateRequest with an empty Certificate (e.g. 0)")
    ev.add_argument("--empty-client-cert-critical", type=_range, metavar="RANGE", help="the same, for CRITICAL")
    ev.add_argument("-w", "--warning", type=options.days, default=20.0, metavar="DAYS",
                    help="WARNING when a server certificate seen expires within DAYS (default 20)")
    ev.add_argument("-c", "--critical", type=options.days, default=15.0, metavar="DAYS",
                    help="CRITICAL when a server certificate seen expires within DAYS (default 15)")
    ev.add_argument("--forbid-version", action="append", type=_versions, metavar="LIST",
                    help="CRITICAL when one of these is negotiated: ssl3, tls1.0, tls1.1, tls1.2, tls1.3")
    ev.add_argument("--min-handshakes", type=_count, metavar="N",
                    help="WARNING with fewer handshakes (default: UNKNOWN when there are none)")
    ev.add_argument("--min-handshakes-critical", type=_count, metavar="N", help="CRITICAL with fewer handshakes")
    args = p.parse_args(argv)
    kinds = [k for k, on in (("FILE", bool(args.capture)), ("--ring", bool(args.ring)),
                             ("--interface", bool(args.interface))) if on]
    if len(kinds) != 1:
        p.error("give capture files (or - for stdin), --ring DIR or --interface IF" if not kinds
                else f"use one of {', '.join(kinds)}")
    if "-" in args.capture and len(args.capture) > 1:
        p.error("- (stdin) cannot be combined with files")
    if args.ring and not args.state:
        p.error("--ring needs --state FILE")
    if args.state and not args.ring:
        p.error("--state goes with --ring")
    if args.interface and args.duration is None:
        p.error("--interface needs --duration SECONDS")
    if (args.duration is not None or args.bpf or args.capture_tool) and not args.interface:
        p.error("--duration, --bpf and --capture-tool go with --interface")
    if args.timeout is None:
        args.timeout = 10.0 + (args.duration or 0.0)
    elif args.duration is not None and args.timeout < args.duration + 1:
        p.error(f"-t ({args.timeout:g}) must leave time after --duration ({args.duration:g})")
    if args.critical > args.warning:
        p.error(f"-c ({args.critical:g}) must not be larger than -w ({args.warning:g})")
    if args.allow_late and args.require_client_cert is None:
        p.error("--allow-late goes with --require-client-cert")
    if args.require_client_cert is not None:
        from .check_tls_clientauth import _ca_value

        args.require_client_cert = [_ca_value(v, p) for v in args.require_client_cert]
    args.forbid_version = sorted({v for group in args.forbid_version or () for v in group})
    # A threshold with % is on the failure ratio, one without on the count.
    args.failure_ratio_warning = args.failure_ratio_critical = None
    for level in ("warning", "critical"):
        value = getattr(args, f"failures_{level}")
        if value and value.endswith("%"):
            setattr(args, f"failure_ratio_{level}", value[:-1])
            setattr(args, f"failures_{level}", None)
    for name in ("empty_client_cert_warning", "empty_client_cert_critical"):
        if (getattr(args, name) or "").endswith("%"):
            p.error(f"--{name.replace('_', '-')} is a count, not a ratio")
    return args
