"""Name resolution and TCP connection under one deadline, shared by every active source.

``getaddrinfo`` has no timeout of its own, so it runs in a thread bounded by the
deadline. Failures raise ``Failure`` carrying the outcome and phase.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from typing import Callable, Optional

from ..frozen import frozen
from ..observations import Endpoint, Outcome

__all__ = ["Failure", "ProbeTarget", "resolve", "connect", "is_ip", "default_sni"]


class Failure(Exception):
    """A probe step failed; becomes an observation with ``outcome`` and ``phase``."""

    def __init__(self, outcome: Outcome, phase: str, message: str) -> None:
        super().__init__(message)
        self.outcome, self.phase, self.message = outcome, phase, message


def resolve(host: str, port: int, family: int, deadline: float, clock: Callable[[], float]) -> list[tuple]:
    """``getaddrinfo`` bounded by ``deadline`` (it has no timeout of its own, so it runs in a thread).

    Raises:
        Failure: DNS failure or the deadline passed.
    """
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        ip = None
    if ip is not None:
        fam = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
        if family not in (socket.AF_UNSPEC, fam):
            raise Failure(Outcome.DNS, "dns", f"{host} is not an IPv{4 if family == socket.AF_INET else 6} address")
        return [(fam, socket.SOCK_STREAM, 6, "", (str(ip), port))]
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["result"] = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        except (OSError, UnicodeError) as exc:
            box["error"] = exc

    worker = threading.Thread(target=run, name=f"dns-{host}", daemon=True)
    worker.start()
    worker.join(max(0.0, deadline - clock()))
    if worker.is_alive():
        raise Failure(Outcome.TIMEOUT, "dns", f"name resolution of {host} timed out")
    if "error" in box:
        exc = box["error"]
        reason = exc.strerror if isinstance(exc, socket.gaierror) and exc.strerror else str(exc)
        raise Failure(Outcome.DNS, "dns", f"cannot resolve {host}: {reason}")
    result = box.get("result")
    if not result:
        raise Failure(Outcome.DNS, "dns", f"cannot resolve {host}: no addresses")
    return list(result)  # type: ignore[call-overload]


def connect(addrs: list[tuple], deadline: float, clock: Callable[[], float]) -> socket.socket:
    last: Optional[Failure] = None
    for fam, stype, proto, _canon, sockaddr in addrs:
        remaining = deadline - clock()
        if remaining <= 0:
            break
        sock = socket.socket(fam, stype, proto)
        sock.settimeout(remaining)
        try:
            sock.connect(sockaddr)
        except socket.timeout:
            sock.close()
            raise Failure(
                Outcome.TIMEOUT, "connect", f"TCP connect to {sockaddr[0]} port {sockaddr[1]} timed out"
            ) from None
        except ConnectionRefusedError:
            sock.close()
            last = Failure(Outcome.REFUSED, "connect", f"connection refused by {sockaddr[0]} port {sockaddr[1]}")
            continue
        except OSError as exc:
            sock.close()
            last = Failure(Outcome.REFUSED, "connect", f"cannot connect to {sockaddr[0]} port {sockaddr[1]}: "
                            f"{exc.strerror or exc}")
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    if last is None:
        last = Failure(Outcome.TIMEOUT, "connect", "deadline passed before connecting")
    raise last

@frozen
class ProbeTarget:
    """Where to connect.

    Attributes:
        host: name or address literal.
        port: TCP port.
        family: ``socket.AF_UNSPEC``, ``AF_INET`` (-4) or ``AF_INET6`` (-6).
    """

    host: str
    port: int = 443
    family: int = socket.AF_UNSPEC

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(self.host, self.port)


def is_ip(host: str) -> bool:
    """``host`` is an IPv4 or IPv6 address literal (brackets allowed)."""
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


def default_sni(host: str, sni: Optional[str]) -> Optional[str]:
    """The server name to send: the one given, else the host unless it is an address (RFC 6066 §3)."""
    return sni or (None if is_ip(host) else host)
