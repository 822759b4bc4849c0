"""The ``tlsmon`` ad-hoc command line: ``tlsmon probe HOST[:PORT]``, ``tlsmon ladder FILE``.

Exit codes of ``probe``: 0 the handshake's server flight was read in full, 2 it failed
(refused, timeout, reset, alert, not TLS, DNS, protocol error), 3 bad usage or an
internal error. ``ladder``: 0 the capture was read to its end (whatever the handshakes
in it did), 3 bad usage or a capture that cannot be read (what was read before the
error is still shown). A traceback is shown only with ``-vvv``.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import socket
import sys
from typing import NoReturn, Optional, Sequence

from .. import __version__
from ..errors import UsageError

__all__ = ["main", "parse_target"]

EXIT_OK, EXIT_FAILED, EXIT_UNKNOWN = 0, 2, 3


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad usage, which monitoring reads as CRITICAL: exit 3 instead."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_UNKNOWN)


def parse_target(text: str, default_port: int = 443) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]:port`` or a bare IPv6 address -> (host, port).

    Raises:
        UsageError: empty host or a bad port.
    """
    text = text.strip()
    host, port_text = text, ""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise UsageError(f"unbalanced brackets in {text!r}")
        host, rest = text[1:end], text[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise UsageError(f"unexpected {rest!r} after ] in {text!r}")
            port_text = rest[1:]
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    elif text.count(":") > 1:
        try:
            ipaddress.IPv6Address(text)
        except ValueError:
            raise UsageError(f"{text!r} is neither host:port nor an IPv6 address (use [addr]:port)") from None
    if not host:
        raise UsageError(f"no host in {text!r}")
    port = default_port
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise UsageError(f"bad port {port_text!r}")
        port = int(port_text)
    return host, port




def _parser() -> _Parser:
    p = _Parser(prog="tlsmon", description="Ad-hoc TLS diagnostics.")
    p.add_argument("--version", action="version", version=f"tlsmon {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    pr = sub.add_parser("probe", help="send a ClientHello and show the server's handshake as numbered steps")
    pr.add_argument("target", metavar="HOST[:PORT]", help="host name or address, port 443 unless given")
    pr.add_argument("-p", "--port", type=int, help="port (overrides HOST:PORT)")
    sni = pr.add_mutually_exclusive_group()
    sni.add_argument("--sni", metavar="NAME", help="server name to send (default: the host, unless an address)")
    sni.add_argument("--no-sni", action="store_true", help="send no server_name extension")
    ver = pr.add_mutually_exclusive_group()
    ver.add_argument("--tls1.2", dest="only", action="store_const", const=0x0303, help="offer TLS 1.2 only")
    ver.add_argument("--tls1.3", dest="only", action="store_const", const=0x0304, help="offer TLS 1.3 only")
    ver.add_argument("--tls1.1", dest="only", action="store_const", const=0x0302, help="offer TLS 1.1 only")
    ver.add_argument("--tls1", dest="only", action="store_const", const=0x0301, help="offer TLS 1.0 only")
    ver.add_argument("--ssl3", dest="only", action="store_const", const=0x0300, help="offer SSL 3.0 only")
    fam = pr.add_mutually_exclusive_group()
    fam.add_argument("-4", dest="family", action="store_const", const=socket.AF_INET, help="IPv4 only")
    fam.add_argument("-6", dest="family", action="store_const", const=socket.AF_INET6, help="IPv6 only")
    pr.add_argument("--alpn", metavar="PROTOS", help="comma-separated ALPN protocols to offer, e.g. h2,http/1.1")
    pr.add_argument("--no-status-request", action="store_true", help="do not ask for a stapled OCSP response")
    pr.add_argument("--post-handshake-auth", action="store_true", help="offer TLS 1.3 post-handshake auth")
    pr.add_argument("--complete", action="store_true",
                    help="TLS 1.3: finish the handshake without a client certificate and show the server's verdict")
    pr.add_argument("-t", "--timeout", type=float, default=10.0, metavar="SECONDS",
                    help="bound for the whole probe, DNS included (default 10)")
    pr.add_argument("--json", action="store_true", help="print the observation as JSON (see README)")
    pr.add_argument("--times", action="store_true", help="show when each step happened")
    pr.add_argument("-v", "--verbose", action="count", default=0, help="more detail; -vvv shows tracebacks")
    la = sub.add_parser("ladder", help="show each TLS connection of a capture file as numbered steps")
    la.add_argument("file", metavar="FILE", help="pcap, pcapng or Network Monitor capture (gzip too; - for stdin)")
    la.add_argument("--server", metavar="HOST[:PORT]",
                    help="only connections to this server (an address, or a name matched against the SNI)")
    la.add_argument("--keylog", metavar="FILE", help="SSLKEYLOGFILE to decrypt TLS 1.3 and TLS 1.2 AEAD connections")
    la.add_argument("--json", action="store_true", help="print a JSON list of connections (see README)")
    la.add_argument("-v", "--verbose", action="count", default=0, help="-vvv shows tracebacks")
    return p


def _ladder(args: argparse.Namespace) -> int:
    from ..errors import CaptureError
    from ..outputs.capture_ladder import connection_dict, connection_lines
    from ..sources.passive import ReadStats, ServerFilter, read_connections

    server = None
    if args.server:
        host, port = parse_target(args.server, default_port=0)
        server = ServerFilter(host if host != "*" else None, port or None)
    keylog = None
    if args.keylog:
        try:
            with open(args.keylog, encoding="utf-8", errors="replace") as f:
                keylog = f.read()
        except OSError as exc:
            raise UsageError(f"cannot read key log {args.keylog!r}: {exc.strerror or exc}") from None
    source = sys.stdin.buffer if args.file == "-" else args.file
    out = sys.stdout
    count = 0
    if args.json:
        import json

        # json.dumps(..., separators=...) would make an encoder per connection; one will do
        # (no circular check: the dicts are made fresh from the observation).
        encode = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode
        out.write("[")
    try:
        stats = ReadStats()
        for obs in read_connections(source, keylog=keylog, server=server, stats=stats):
            if args.json:  # one connection per line: the C encoder, and easy to grep
                out.write(("," if count else "") + "\n" + encode(connection_dict(obs)))
            else:
                out.write(("\n" if count else "") + "\n".join(connection_lines(obs)) + "\n")
            count += 1
    except CaptureError as exc:
        if args.json:
            out.write("\n]\n")
        out.flush()
        print(f"tlsmon: cannot read {args.file!r}: {exc}", file=sys.stderr)
        return EXIT_UNKNOWN
    except BrokenPipeError:  # the reader went away (| head): not an error of ours
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    if args.json:
        out.write("\n]\n" if count else "]\n")
    elif not count:
        out.write(f"no TLS connection in {args.file}\n")
    if stats.truncated_tail:
        out.flush()
        print(f"tlsmon: note: {args.file!r} ends inside a record (cut short); what it holds before is shown",
              file=sys.stderr)
    return EXIT_OK


def _probe(args: argparse.Namespace) -> int:
    from ..codec.hello import TLS12, TLS13, HelloOptions
    from ..outputs.ladder import ladder_lines, to_dict
    from ..sources.probe import ProbeTarget, probe

    host, port = parse_target(args.target)
    if args.port is not None:
        if not 0 < args.port < 65536:
            raise UsageError(f"bad port {args.port}")
        port = args.port
    if args.timeout <= 0:
        raise UsageError("--timeout must be positive")
    from ..sources.net import default_sni

    sni: Optional[str] = None if args.no_sni else default_sni(host, args.sni)
    versions = (args.only,) if args.only else (TLS13, TLS12)
    hello = HelloOptions(
        versions=versions,
        server_name=sni,
        alpn=tuple(a for a in (args.alpn or "").split(",") if a),
        status_request=not args.no_status_request,
        post_handshake_auth=args.post_handshake_auth,
    )
    obs = probe(ProbeTarget(host, port, args.family or socket.AF_UNSPEC), hello, timeout_s=args.timeout,
                complete=args.complete)
    if args.json:
        import json

        print(json.dumps(to_dict(obs), indent=2))
    else:
        for line in ladder_lines(obs, times=args.times or args.verbose > 0):
            print(line)
    return EXIT_OK if obs.ok else EXIT_FAILED


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "probe":
            return _probe(args)
        if args.command == "ladder":
            return _ladder(args)
    except UsageError as exc:
        print(f"tlsmon: error: {exc}", file=sys.stderr)
        return EXIT_UNKNOWN
    except KeyboardInterrupt:
        print("tlsmon: interrupted", file=sys.stderr)
        return EXIT_UNKNOWN
    except Exception as exc:  # noqa: BLE001 - the last guard: one line, never a traceback unless -vvv
        if getattr(args, "verbose", 0) >= 3:
            import traceback

            traceback.print_exc()
        print(f"tlsmon: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_UNKNOWN
    return EXIT_UNKNOWN


def console() -> None:
    """The ``tlsmon`` console script: a short-lived process needs no cyclic garbage collector."""
    import gc

    gc.disable()
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # skip interpreter teardown (~15 ms): everything is written, nothing is left open


if __name__ == "__main__":
    raise SystemExit(main())
