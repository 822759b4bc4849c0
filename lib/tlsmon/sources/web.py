"""HTTP(S) over ``requests`` with the address family held and every step under a deadline.

Names are resolved here (``net.resolve``, bounded by the deadline, in the requested
family), and the request goes to the chosen address with the original ``Host`` header
and, for https, the original SNI and certificate name: -4/-6 hold for the connection
without touching any global state. ``requests`` is imported inside the functions (it
costs ~35 ms at import and only runs when HTTP is used).
"""

from __future__ import annotations

import socket
import ssl
import time
from typing import Any, Optional
from urllib.parse import urljoin, urlsplit

from .. import __version__
from ..frozen import frozen
from . import net

__all__ = ["FetchError", "fetch", "WebAnswer", "get"]

MAX_REDIRECTS = 3  # followed by fetch() for GET only


class FetchError(Exception):
    """One-line reason why nothing usable came back."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))  # library messages may span lines


def fetch(
    url: str, body: Optional[bytes], *, timeout_s: float, family: int, limit: int, ca_file: Optional[str]
) -> bytes:
    """POST ``body`` as an OCSP request, or GET when it is None; the 200 response's body.

    Raises:
        FetchError: anything went wrong (one line).
    """
    import requests  # lazily: see the module docstring

    deadline = time.monotonic() + timeout_s
    with requests.Session() as session:
        session.trust_env = False  # no proxies, .netrc or CA bundle from the environment
        for _hop in range(MAX_REDIRECTS + 1):
            response = _send(session, url, body, timeout_s, deadline, family, ca_file, None, True)
            try:
                if body is None and response.is_redirect:
                    url = urljoin(url, response.headers["location"])
                    continue
                if response.status_code != 200:
                    raise FetchError(f"HTTP {response.status_code} {response.reason or ''}".rstrip())
                return _read_body(response, limit, deadline)
            except requests.exceptions.RequestException as exc:
                raise FetchError(_describe(exc, "reading the response")) from None
            finally:
                response.close()
    raise FetchError(f"more than {MAX_REDIRECTS} redirects")


def _send(
    session: Any,
    url: str,
    body: Optional[bytes],
    timeout_s: float,
    deadline: float,
    family: int,
    ca_file: Optional[str],
    ssl_context: Optional[ssl.SSLContext],
    verify: bool,
) -> Any:
    """Resolve the URL's host in ``family`` and send to each address in turn until one connects."""
    import requests

    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError(f"unsupported URL scheme '{scheme}'")
    try:
        host, port = parts.hostname, parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise FetchError(f"bad port in URL {url}") from None
    if not host:
        raise FetchError(f"no host in URL {url}")
    try:
        addresses = net.resolve(host, port, family, deadline, time.monotonic)
    except net.Failure as exc:
        raise FetchError(exc.message) from None
    if scheme == "https":
        session.mount("https://", _pinned_adapter(host, ssl_context))
    headers = {"Host": parts.netloc.rpartition("@")[2], "User-Agent": f"tlsmon/{__version__}"}
    if body is not None:
        headers.update({"Content-Type": "application/ocsp-request", "Accept": "application/ocsp-response"})
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    last = FetchError(f"timed out before connecting to {host}")
    for *_, sockaddr in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        ip = str(sockaddr[0])
        where = f"{ip} port {port}"
        literal = "[" + ip.replace("%", "%25") + "]" if ":" in ip else ip
        try:
            return session.request(
                "GET" if body is None else "POST",
                f"{scheme}://{literal}:{port}{target}",
                data=body,
                headers=headers,
                timeout=(remaining, remaining),
                stream=True,
                allow_redirects=False,
                verify=(ca_file or True) if verify else False,
            )
        except requests.exceptions.ConnectTimeout:
            last = FetchError(f"connecting to {where} timed out")
        except requests.exceptions.SSLError as exc:
            raise FetchError(_describe(exc, where)) from None
        except requests.exceptions.ConnectionError as exc:
            last = FetchError(_describe(exc, where))
        except requests.exceptions.Timeout:
            raise FetchError(f"no answer from {where} within {timeout_s:g} s") from None
        except requests.exceptions.RequestException as exc:
            raise FetchError(_describe(exc, where)) from None
    raise last


def _pinned_adapter(server_hostname: str, ssl_context: Optional[ssl.SSLContext] = None) -> Any:
    """An HTTPAdapter that connects to whatever address the URL names but sends SNI for, and
    checks the certificate against, ``server_hostname`` (with ``ssl_context`` when given:
    e.g. one that holds a client certificate)."""
    from requests.adapters import HTTPAdapter

    class _PinnedHostAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            kwargs["server_hostname"] = server_hostname
            kwargs["assert_hostname"] = server_hostname
            if ssl_context is not None:
                kwargs["ssl_context"] = ssl_context
            super().init_poolmanager(*args, **kwargs)

    return _PinnedHostAdapter()


def _read_body(response: Any, limit: int, deadline: float) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise FetchError(f"response larger than {_size(limit)}")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(65536):
        size += len(chunk)
        if size > limit:
            raise FetchError(f"response larger than {_size(limit)}")
        if time.monotonic() > deadline:
            raise FetchError("timed out reading the response")
        chunks.append(chunk)
    return b"".join(chunks)


def _size(limit: int) -> str:
    return f"{limit / (1024 * 1024):g} MiB" if limit >= 1024 * 1024 else f"{limit / 1024:g} KiB"


def _describe(exc: BaseException, where: str) -> str:
    """One line from the OS or TLS error at the root of a requests exception chain."""
    todo: list[BaseException] = [exc]
    seen: set[int] = set()
    while todo:
        err = todo.pop(0)
        if id(err) in seen:
            continue
        seen.add(id(err))
        if isinstance(err, ssl.SSLCertVerificationError):
            return f"TLS certificate of {where} not accepted: {getattr(err, 'verify_message', None) or err}"
        if isinstance(err, ValueError) and type(err).__name__ == "CertificateError":
            return f"TLS certificate of {where} not accepted: {err}"  # urllib3 2's own host name check
        if isinstance(err, ssl.SSLError):
            return f"TLS failure with {where}: {err.reason or type(err).__name__}"
        if isinstance(err, (socket.timeout, TimeoutError)):
            return f"{where}: timed out"
        if isinstance(err, OSError) and err.strerror:
            return f"{where}: {err.strerror}"
        linked = [err.__cause__, err.__context__, getattr(err, "reason", None), *err.args]
        todo.extend(e for e in linked if isinstance(e, BaseException))
    return f"{where}: {type(exc).__name__}"


@frozen
class WebAnswer:
    """An HTTP answer: status line and the first bytes of the body."""

    status: int
    reason: str
    body: bytes = b""


def get(
    url: str,
    *,
    timeout_s: float,
    family: int = socket.AF_UNSPEC,
    ca_file: Optional[str] = None,
    verify: bool = True,
    ssl_context: Optional[ssl.SSLContext] = None,
    limit: int = 64 * 1024,
) -> WebAnswer:
    """GET ``url`` once (no redirects followed: a 3xx is an answer) and return its status.

    Raises:
        FetchError: no HTTP answer (network, TLS, timeout), one line.
    """
    import requests

    deadline = time.monotonic() + timeout_s
    with requests.Session() as session:
        session.trust_env = False
        response = _send(session, url, None, timeout_s, deadline, family, ca_file, ssl_context, verify)
        try:
            body = b""
            try:
                for chunk in response.iter_content(16384):
                    body += chunk
                    if len(body) >= limit or time.monotonic() > deadline:
                        break
            except requests.exceptions.RequestException:
                pass  # the status line is the answer; a broken body does not change it
            return WebAnswer(int(response.status_code), str(response.reason or ""), body[:limit])
        finally:
            response.close()
