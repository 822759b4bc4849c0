"""Options of check_tls_clientauth."""

from __future__ import annotations

import argparse
import time
from typing import Optional, Sequence

from ..errors import UsageError
from . import options

__all__ = ["parse", "DESCRIPTION"]

DESCRIPTION = """Check whether a TLS server requests a client certificate, when, from which CAs,
and whether mutual TLS works end to end.

Classification of a client without a certificate: none, optional, required, or
post-handshake (requested only later: TLS 1.2 renegotiation or TLS 1.3 post-handshake
authentication after an HTTP request, as IIS/HTTP.sys or Apache per-location
SSLVerifyClient do). Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN."""



def parse(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = options.parser("check_tls_clientauth", DESCRIPTION)
    p.add_argument("-P", "--protocol", metavar="PROTO",
                   help="STARTTLS first: smtp, imap, pop3, ftp, ldap, postgres, xmpp (no HTTP request then)")
    p.add_argument("-u", "--url", metavar="URL",
                   help="https URL to request after the handshake (late requests; mutual TLS over HTTP with -C)")
    p.add_argument("--no-http", action="store_true", help="send no HTTP request after the handshake")
    p.add_argument("--require-client-cert", action="append", nargs="?", const="", metavar="CA",
                   help="the server must request a client certificate in the handshake; optionally with "
                        "this CA name (RFC 4514 string or a certificate file; repeatable; a value without '=' "
                        "is a comma-separated list of CA common names)")
    p.add_argument("--allow-late", action="store_true",
                   help="a request made only by renegotiation or post-handshake auth is OK (else WARNING)")
    p.add_argument("--expect", choices=("none", "optional", "required"), help="the classification expected")
    p.add_argument("--forbid-client-cert", action="store_true", help="the server must not request a certificate")
    p.add_argument("-C", "--clientcert", metavar="FILE", help="client certificate (PEM, or PKCS#12 bundle)")
    p.add_argument("-K", "--clientkey", metavar="FILE", help="client key (PEM); default: in the -C file")
    p.add_argument("--clientpass-file", metavar="FILE", help="password of the key or bundle; else $TLSMON_CLIENTPASS")
    p.add_argument("--expect-status", default="2xx,3xx", metavar="LIST",
                   help="HTTP status expected with the client certificate (default 2xx,3xx; e.g. 200,302)")
    p.add_argument("--client-cert-warning", type=options.days, default=20.0, metavar="DAYS",
                   help="WARNING when the client certificate expires within DAYS (default 20)")
    p.add_argument("--client-cert-critical", type=options.days, default=15.0, metavar="DAYS",
                   help="CRITICAL when the client certificate expires within DAYS (default 15)")
    p.add_argument("--insecure", action="store_true",
                   help="with -C: do not verify the server's certificate on the mutual TLS connection")
    args = p.parse_args(argv)
    args.path = "/"
    url_port = None
    if args.url:
        from ..evaluations.clientauth import url_target

        try:
            host, url_port, args.path = url_target(args.url)
        except UsageError as exc:
            p.error(str(exc))
        args.host = args.host or host
    if not args.host:
        p.error("-H/--host or -u/--url is required")
    if args.protocol:
        from ..sources.starttls import ACCEPTED_PROTOCOLS, DEFAULT_PORTS

        proto = args.protocol.lower()
        if proto not in ACCEPTED_PROTOCOLS:
            p.error(f"unknown protocol {args.protocol!r} (one of {', '.join(ACCEPTED_PROTOCOLS)})")
        if args.url:
            p.error("-u/--url and -P/--protocol exclude each other")
        args.protocol = None if proto == "https" else proto
        url_port = DEFAULT_PORTS.get(proto)
    args.port = options.port_or(args, url_port)
    if args.clientkey and not args.clientcert:
        p.error("-K/--clientkey needs -C/--clientcert")
    if args.client_cert_critical > args.client_cert_warning:
        p.error("--client-cert-critical must not be larger than --client-cert-warning")
    if args.require_client_cert is not None:
        args.require_client_cert = [_ca_value(v, p) for v in args.require_client_cert]
    end = time.monotonic() + args.timeout
    args.deadline_left = lambda: max(0.05, end - time.monotonic())
    return args


def _ca_value(value: str, p: argparse.ArgumentParser) -> str:
    """A CA name, or the subject of a certificate file given instead."""
    import os

    if value and os.path.isfile(value):
        from ..sources.assemble import chain_facts
        from ..sources.certfile import read_certificate_file

        try:
            return chain_facts(read_certificate_file(value)[:1])[0].subject
        except Exception as exc:  # noqa: BLE001 - any unreadable file is a usage error here
            p.error(f"--require-client-cert {value!r}: {exc}")
    if value and "=" in value:
        from ..dnmatch import parse_dn

        try:
            parse_dn(value)
        except UsageError as exc:
            p.error(f"--require-client-cert: {exc}")
    return value
