"""Shared plugin options: every plugin reads its target, timeout and output the same way.

argparse exits 2 on bad usage, which monitoring reads as CRITICAL; ``parser()``
returns a parser that exits 3 (UNKNOWN) with one line instead.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from typing import Any, Callable, NoReturn, Optional, Sequence

from .. import __version__
from ..errors import UsageError

__all__ = [
    "PluginParser",
    "parser",
    "days",
    "positive_number",
    "read_secret",
    "family_of",
    "port_or",
    "compile_patterns",
    "OUTPUTS",
]

OUTPUTS = ("nagios", "json", "scom", "openmetrics")


def _output_asked(argv: Sequence[str]) -> str:
    """The ``--output`` format named in argv (the last one wins, as in argparse), else nagios."""
    chosen = "nagios"
    for i, arg in enumerate(argv):
        if arg == "--output" and i + 1 < len(argv):
            chosen = argv[i + 1]
        elif arg.startswith("--output="):
            chosen = arg.partition("=")[2]
    return chosen if chosen in OUTPUTS else "nagios"


class PluginParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors exit 3 with one line on stdout (what Nagios shows).

    With ``--output scom|json|openmetrics`` the usage error comes in that format, so that a
    SCOM wrapper or a textfile collector still reads an UNKNOWN result.
    """

    _argv: Sequence[str] = ()

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        self._argv = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        name = self.prog.upper().replace("CHECK_", "")
        output = _output_asked(self._argv)
        if output == "nagios":
            print(f"{name} UNKNOWN - usage: {message}")
        else:
            from ..outputs.report import failure
            from .runner import render

            print(render(failure(name, 3, f"usage: {message}"), output, 0))
        self.print_usage(sys.stderr)
        raise SystemExit(3)


def positive_number(what: str = "number") -> Callable[[str], float]:
    """An argparse type: a positive float; ``what`` names it in the error (``number of milliseconds``)."""

    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a {what}: {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
        return value

    return convert


_positive_float = positive_number()


def days(text: str) -> float:
    """An argparse type: a number of days (fractions allowed)."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of days: {text!r}") from None


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"not a TCP port: {text!r}")
    return int(text)


def parser(
    prog: str,
    description: Optional[str],
    *,
    target: bool = True,
    default_port: int = 443,
    default_timeout: float = 10.0,
    outputs: tuple[str, ...] = OUTPUTS,
) -> PluginParser:
    """A parser with the options every plugin shares.

    Args:
        prog: the plugin's name (``check_tls_cert``).
        description: the plugin's help text.
        target: add ``-H/--host``, ``-p/--port``, ``--sni``, ``-4/-6``.
        default_port: the port when ``-p`` is not given.
        default_timeout: seconds for the whole run.
        outputs: the ``--output`` formats offered.
    """
    p = PluginParser(prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-V", "--version", action="version", version=f"{prog} (tlsmon {__version__})")
    if target:
        p.add_argument("-H", "--host", help="host name or address to connect to")
        # None when not given, so that a protocol's own port (-P smtp: 25) can apply; see port_or().
        p.add_argument("-p", "--port", type=_port, default=None, help=f"TCP port (default {default_port})")
        p.set_defaults(default_port=default_port)
        p.add_argument("--sni", metavar="NAME", help="server name to send (default: the host, unless an address)")
        fam = p.add_mutually_exclusive_group()
        fam.add_argument("-4", dest="family", action="store_const", const=socket.AF_INET,
                         help="IPv4 only, for every connection the plugin makes")
        fam.add_argument("-6", dest="family", action="store_const", const=socket.AF_INET6,
                         help="IPv6 only, for every connection the plugin makes")
        p.set_defaults(family=socket.AF_UNSPEC)
    p.add_argument("-r", "--rootcert", metavar="FILE|DIR",
                   help="trust anchors (PEM file or hashed directory); default: the system trust store")
    p.add_argument("-t", "--timeout", type=_positive_float, default=default_timeout, metavar="SECONDS",
                   help=f"bound for the whole run, DNS included (default {default_timeout:g})")
    p.add_argument("-v", "--verbose", action="count", default=0,
                   help="more detail lines; -vvv also shows tracebacks of internal errors")
    p.add_argument("--output", choices=outputs, default="nagios", help="output format (default nagios)")
    return p


def port_or(args: argparse.Namespace, protocol_port: Optional[int] = None) -> int:
    """The port given with -p, else the protocol's, else the plugin's default."""
    if args.port is not None:
        return int(args.port)
    return int(protocol_port or args.default_port)


def compile_patterns(p: argparse.ArgumentParser, args: argparse.Namespace, *names: str) -> None:
    """Check regular-expression options before any connection (a bad one is a usage error)."""
    import re

    for name in names:
        value = getattr(args, name, None)
        if value:
            try:
                re.compile(value)
            except re.error as exc:
                p.error(f"--{name.replace('_', '-')} {value!r} is not a valid regular expression: {exc}")


def family_of(args: argparse.Namespace) -> int:
    return int(getattr(args, "family", socket.AF_UNSPEC) or socket.AF_UNSPEC)


def read_secret(path: Optional[str], env: str) -> Optional[bytes]:
    """A password from a file (first line) or an environment variable; never from argv.

    Raises:
        UsageError: the file cannot be read.
    """
    if path:
        try:
            with open(path, "rb") as f:
                data = f.read(64 * 1024)
        except OSError as exc:
            raise UsageError(f"cannot read password file {path!r}: {exc.strerror or exc}") from None
        return data.splitlines()[0] if data.strip() else b""
    value = os.environ.get(env)
    return value.encode() if value is not None else None
