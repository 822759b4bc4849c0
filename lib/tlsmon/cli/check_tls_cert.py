"""Options of check_tls_cert (names as in check_ssl_cert where they exist)."""

from __future__ import annotations

import argparse
import time
from typing import Optional, Sequence

from . import options

__all__ = ["parse", "DESCRIPTION"]

DESCRIPTION = """Check the certificate chain of a TLS endpoint, or of a certificate file.

Every chain element's expiry (the worst decides), trust by the platform TLS library,
host name, weak signatures and keys, validity period, serverAuth usage, OCSP and CRL.
Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN."""



def parse(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = options.parser("check_tls_cert", DESCRIPTION)
    p.add_argument("-f", "--file", metavar="PATH", help="check a PEM/DER certificate, chain or PKCS#12 file")
    p.add_argument("-w", "--warning", type=options.days, default=20.0, metavar="DAYS",
                   help="WARNING when a chain element expires within DAYS (default 20; fractions allowed)")
    p.add_argument("-c", "--critical", type=options.days, default=15.0, metavar="DAYS",
                   help="CRITICAL when a chain element expires within DAYS (default 15)")
    p.add_argument("--ignore-exp", action="store_true", help="do not evaluate expiry (perfdata stay)")
    p.add_argument("-s", "--selfsigned", action="store_true", help="allow self-signed certificates")
    p.add_argument("-m", "--match", action="append", metavar="NAME",
                   help="name the certificate must match (repeatable; default: --sni or -H)")
    p.add_argument("--require-san", action="store_true", help="the certificate must have a subjectAltName")
    p.add_argument("-i", "--issuer", metavar="REGEX", help="pattern the issuer must match")
    p.add_argument("-o", "--org", metavar="REGEX", help="pattern the subject organization must match")
    p.add_argument("--serial", metavar="HEX", help="pattern the serial number (hex) must match")
    p.add_argument("--fingerprint", metavar="HEX", help="expected SHA-256 or SHA-1 fingerprint")
    p.add_argument("--maximum-validity", type=options.days, nargs="?", const=397.0, default=None, metavar="DAYS",
                   help="maximum validity period of the leaf (default 397 for HTTPS, off with -P or -f)")
    p.add_argument("--ignore-maximum-validity", action="store_true", help="do not check the validity period")
    p.add_argument("--ignore-sig-alg", action="store_true", help="do not flag MD5/SHA-1 signatures")
    p.add_argument("--first-element-only", action="store_true", help="check only the leaf certificate")
    p.add_argument("-C", "--clientcert", metavar="FILE", help="client certificate (PEM) for mutual TLS")
    p.add_argument("-K", "--clientkey", metavar="FILE", help="client key (PEM); default: in the -C file")
    p.add_argument("--clientpass-file", metavar="FILE",
                   help="file with the client key's (or -f PKCS#12's) password; else $TLSMON_CLIENTPASS")
    p.add_argument("-P", "--protocol", metavar="PROTO",
                   help="STARTTLS first: smtp, imap, pop3, ftp, ldap, postgres, xmpp, xmpp-server")
    ocsp = p.add_mutually_exclusive_group()
    ocsp.add_argument("--ocsp", dest="ignore_ocsp", action="store_false",
                      help="check OCSP (default when the certificate names a responder)")
    ocsp.add_argument("--ignore-ocsp", dest="ignore_ocsp", action="store_true", help="do not check OCSP")
    p.add_argument("--ocsp-timeout", type=options.days, default=5.0, metavar="SECONDS",
                   help="timeout of the OCSP/CRL request (default 5, within -t)")
    p.add_argument("--ocsp-errors", choices=("warning", "unknown"), default="warning",
                   help="state when the OCSP/CRL check itself fails (default warning)")
    p.add_argument("--crl", action="store_true", help="check the CRL distribution point")
    p.add_argument("--require-ocsp-stapling", action="store_true", help="CRITICAL unless the server staples OCSP")
    p.set_defaults(ignore_ocsp=False)
    args = p.parse_args(argv)
    if not args.file and not args.host:
        p.error("-H/--host or -f/--file is required")
    if args.file and args.host:
        p.error("use either -H/--host or -f/--file")
    if args.critical > args.warning:
        p.error(f"-c ({args.critical:g}) must not be larger than -w ({args.warning:g})")
    protocol_port = None
    if args.protocol:
        from ..sources.starttls import ACCEPTED_PROTOCOLS, DEFAULT_PORTS

        proto = args.protocol.lower()
        if proto not in ACCEPTED_PROTOCOLS and proto != "tls":
            p.error(f"unknown protocol {args.protocol!r} (one of {', '.join(ACCEPTED_PROTOCOLS)})")
        args.protocol = proto
        protocol_port = DEFAULT_PORTS.get(proto)
    args.port = options.port_or(args, protocol_port)
    options.compile_patterns(p, args, "issuer", "org", "serial")
    if args.clientkey and not args.clientcert:
        p.error("-K/--clientkey needs -C/--clientcert")
    end = time.monotonic() + args.timeout
    args.deadline_left = lambda: max(0.05, end - time.monotonic())
    return args
