"""check_tls_clientauth: does the server ask for a client certificate, when, from which CAs,
and does mutual TLS work end to end.

One handshake without a certificate, driven by the platform library and read by the
codec (TLS 1.3 decrypted, TLS 1.2 renegotiations too), classifies the server:
``none``, ``optional``, ``required`` or ``post-handshake`` (asked only later: TLS 1.2
renegotiation or TLS 1.3 post-handshake authentication, after an HTTP request). With
``-C`` a second connection proves mutual TLS. Pure ``*_findings`` functions decide.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import field
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, Optional
from urllib.parse import urlsplit

import nagiosplugin

from ..cli.options import family_of, read_secret
from ..errors import UsageError
from ..frozen import frozen
from ..observations import CertificateRequestFacts, HandshakeObservation, Outcome
from .contexts import CRITICAL, OK, WARNING, ExpiryContext, Finding, FindingContext, problem_hints

__all__ = ["Classification", "Gathered", "classify", "policy_findings", "mtls_findings", "build_check"]

_NGINX_NO_CERT = re.compile(rb"No required SSL certificate was sent|The SSL certificate error", re.IGNORECASE)


@frozen
class Classification:
    """How the server treats a client that has no certificate.

    Attributes:
        kind: ``none``, ``optional``, ``required`` or ``post-handshake``.
        request: the CertificateRequest that counts (initial, else the late one).
        enforced: a client without a certificate is refused (alert, HTTP 400/403).
        how: one line on how the verdict came (``alert certificate_required(116)``, ...).
        late_via: for ``post-handshake``: ``renegotiation`` or ``post_handshake``.
    """

    kind: str
    request: Optional[CertificateRequestFacts] = None
    enforced: bool = False
    how: str = ""
    late_via: str = ""


@frozen
class MtlsResult:
    """The connection made with the client certificate."""

    ok: bool
    detail: str
    http_status: Optional[int] = None
    client_days_left: Optional[float] = None


@frozen
class Gathered:
    target: str
    observation: HandshakeObservation
    classification: Optional[Classification]
    path: Optional[str] = None
    http_status: Optional[int] = None
    mtls: Optional[MtlsResult] = None
    client_subject: Optional[str] = None
    notes: tuple[str, ...] = field(default=())


def _status(response: Optional[bytes]) -> Optional[int]:
    if not response:
        return None
    m = re.match(rb"HTTP/\d(?:\.\d)? (\d{3})", response)
    return int(m.group(1)) if m else None


def classify(obs: HandshakeObservation, response: Optional[bytes], after_error: Optional[str],
             path: Optional[str]) -> Classification:
    """The server's treatment of a client without a certificate, from one observed connection."""
    initial, late = obs.certificate_request, obs.late_certificate_request
    alert = obs.alert if obs.alert is not None and obs.alert.level == 2 else None
    status = _status(response)
    refused_how = ""
    if alert is not None:
        refused_how = obs.error or f"alert {alert.description}"
    elif response and status == 400 and _NGINX_NO_CERT.search(response):
        refused_how = "HTTP 400 'No required SSL certificate was sent'"
    elif status == 403:
        refused_how = "HTTP 403"
    elif after_error:
        refused_how = after_error
    if initial is not None:
        if refused_how:
            return Classification("required", initial, True, refused_how)
        if obs.outcome in (Outcome.CLOSED, Outcome.RESET):
            how = f"connection {obs.outcome.value} after our empty Certificate"
            return Classification("required", initial, True, how)
        return Classification("optional", initial, False, "handshake completed without a certificate")
    if late is not None or obs.renegotiation:
        via = late.when if late is not None else "renegotiation"
        return Classification("post-handshake", late, bool(refused_how), refused_how or "no refusal seen", via)
    return Classification("none")


def describe(c: Classification, path: Optional[str]) -> str:
    """``client certificate required (CAs: CN=Client CA,O=Example)`` and the like."""
    def cas(req: Optional[CertificateRequestFacts]) -> str:
        if req is None:
            return " (request not readable)"
        return f" (CAs: {'; '.join(req.ca_names)})" if req.ca_names else " (requested, no CA names)"

    if c.kind == "none":
        after = f", not even after GET {path}" if path else ""
        return f"no client certificate requested{after}"
    if c.kind == "post-handshake":
        how = "renegotiation" if c.late_via == "renegotiation" else "post-handshake authentication"
        req = "required" if c.enforced else "requested"
        return (f"client certificate {req} only by {how} after GET {path or '/'} (not in the initial handshake)"
                + cas(c.request))
    return f"client certificate {c.kind}{cas(c.request)}"


# --- pure findings -----------------------------------------------------------------------------------


def policy_findings(c: Classification, args: argparse.Namespace, path: Optional[str]) -> tuple[Finding, ...]:
    from ..dnmatch import find_match, split_expected

    out = [Finding(OK, describe(c, path))]
    requested = c.kind != "none"
    if args.forbid_client_cert and requested:
        out.append(Finding(CRITICAL, f"{describe(c, path)}, but it must not be"))
    if args.require_client_cert is not None:
        if not requested:
            out.append(Finding(CRITICAL, describe(c, path)))
        elif c.kind == "post-handshake" and not args.allow_late:
            out.append(Finding(WARNING, describe(c, path)))
        expected = split_expected(v for v in args.require_client_cert if v)
        if expected and c.request is not None and not c.request.ca_names:
            # Any CA is accepted: the expected ones are not excluded, only not named.
            out.append(Finding(WARNING, f"requested, no CA names (expected {'; '.join(e[0] for e in expected)})"))
        elif expected and c.request is not None:
            for shown, attrs, subset in expected:
                if find_match(attrs, c.request.ca_names, subset=subset) is None:
                    sent = "; ".join(c.request.ca_names)
                    out.append(Finding(CRITICAL, f"expected CA {shown!r} is not among the requested CA names ({sent})"))
    if args.expect:
        want = args.expect
        got = c.kind
        if got == "post-handshake":
            late_ok = want in ("required", "optional") and args.allow_late
            if not late_ok:
                out.append(Finding(WARNING if want != "none" else CRITICAL,
                                   f"expected {want}, but {describe(c, path)}"))
        elif got != want:
            out.append(Finding(CRITICAL, f"expected {want}, but {describe(c, path)}"))
    return tuple(out)


def _status_ok(status: int, expected: str) -> bool:
    for item in (x.strip().lower() for x in expected.split(",") if x.strip()):
        if item.endswith("xx") and item[:1].isdigit() and status // 100 == int(item[0]):
            return True
        if item.isdigit() and status == int(item):
            return True
    return False


def mtls_findings(m: Optional[MtlsResult]) -> tuple[Finding, ...]:
    if m is None:
        return ()
    return (Finding(OK if m.ok else CRITICAL, m.detail),)


# --- gathering ------------------------------------------------------------------------------------------


def _http_request(host: str, path: str) -> bytes:
    from .. import __version__

    return (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: tlsmon/{__version__}\r\n"
            "Accept: */*\r\nConnection: close\r\n\r\n").encode("ascii", "replace")


def _mtls(args: argparse.Namespace, target: Any, sni: Optional[str], identity: Any, path: Optional[str],
          now: datetime) -> MtlsResult:
    import ssl

    from .. import certchecks as cc
    from ..sources.tlsclient import ClientCredentials, TlsClientOptions, connect_tls

    days = round(cc.days_left(identity.leaf, now), 2)
    if args.url:
        from ..sources.web import FetchError, get

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if args.insecure:
            ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        ctx.post_handshake_auth = True
        identity.context(ctx)
        try:
            answer = get(args.url, timeout_s=args.deadline_left(), family=family_of(args),
                         ca_file=args.rootcert, verify=not args.insecure, ssl_context=ctx)
        except FetchError as exc:
            return MtlsResult(False, f"mutual TLS to {args.url} failed: {exc}", None, days)
        if _status_ok(answer.status, args.expect_status):
            return MtlsResult(True, f"mutual TLS OK: GET {path} answered {answer.status} {answer.reason}".rstrip(),
                              answer.status, days)
        if answer.status == 403:
            return MtlsResult(False, "server rejected the client certificate at HTTP level (403)", 403, days)
        return MtlsResult(False, f"GET {path} with the client certificate answered {answer.status} "
                                 f"{answer.reason}, expected {args.expect_status}".rstrip(), answer.status, days)
    opts = TlsClientOptions(server_name=sni, rootcert=args.rootcert, verify=not args.insecure,
                            client=ClientCredentials(identity.cert_path, identity.key_path, identity.password),
                            starttls=args.protocol, read_after_s=0.5, ignore_time=True)
    result = connect_tls(target, opts, timeout_s=args.deadline_left(), now=now)
    obs, v = result.observation, result.verdict
    if v.verified is False:
        return MtlsResult(False, f"server certificate not trusted: {v.verify_message}", None, days)
    if obs.alert is not None and obs.alert.level == 2:
        return MtlsResult(False, f"server rejected the client certificate: {obs.error}", None, days)
    if not v.handshake_ok or obs.outcome is not Outcome.COMPLETED:
        return MtlsResult(False, f"mutual TLS handshake failed: {obs.error or v.ssl_error}", None, days)
    return MtlsResult(True, "mutual TLS handshake OK", None, days)


def gather(args: argparse.Namespace, now: datetime, progress: Callable[[str], None]) -> Gathered:
    from ..sources.credentials import load_client_credentials
    from ..sources.net import ProbeTarget, default_sni
    from ..sources.tlsclient import TlsClientOptions, connect_tls

    identity = None
    if args.clientcert:
        progress("client certificate")
        identity = load_client_credentials(args.clientcert, args.clientkey,
                                           read_secret(args.clientpass_file, "TLSMON_CLIENTPASS"))
    try:
        host = args.host
        sni = default_sni(host, args.sni)
        http = args.url is not None or (args.protocol is None and not args.no_http)
        path = args.path if http else None
        request = _http_request(sni or host, path) if path else None
        target = ProbeTarget(host, args.port, family_of(args))
        progress("handshake without a client certificate")
        opts = TlsClientOptions(server_name=sni, verify=False, post_handshake_auth=http, starttls=args.protocol,
                                read_after_s=0.5, request=request)
        result = connect_tls(target, opts, timeout_s=args.deadline_left(), now=now)
        obs, v = result.observation, result.verdict
        if obs.outcome not in (Outcome.COMPLETED, Outcome.ALERT) or obs.version is None:
            return Gathered(str(obs.server), obs, None, path)
        c = classify(obs, v.response, v.after_error, path)
        mtls = None
        if identity is not None:
            progress("mutual TLS")
            mtls = _mtls(args, target, sni, identity, path, now)
        return Gathered(str(obs.server), obs, c, path, _status(v.response), mtls,
                        identity.leaf.subject if identity else None)
    finally:
        if identity is not None:
            identity.close()




# --- nagiosplugin objects ----------------------------------------------------------------------------


class ClientAuthResource(nagiosplugin.Resource):
    def __init__(self, args: argparse.Namespace, now: datetime, progress: Callable[[str], None]) -> None:
        self.args, self.now, self.progress = args, now, progress
        self.gathered: Optional[Gathered] = None

    @property
    def name(self) -> str:
        return "TLS_CLIENTAUTH"

    def probe(self) -> Iterator[nagiosplugin.Metric]:
        g = self.gathered = gather(self.args, self.now, self.progress)
        obs = g.observation
        if g.classification is None:
            yield nagiosplugin.Metric("connection", (Finding(CRITICAL, f"{obs.outcome.value} ({obs.phase}): "
                                                                        f"{obs.error}"),), context="findings")
            return
        c = g.classification
        requested = c.kind != "none"
        yield nagiosplugin.Metric("cert_request", int(requested), min=0, max=1, context="plain")
        yield nagiosplugin.Metric("ca_names", len(c.request.ca_names) if c.request else 0, min=0, context="plain")
        hs_time = obs.timings.flight_complete
        if hs_time is not None:
            yield nagiosplugin.Metric("handshake_time", round(hs_time, 6), "s", min=0, context="plain")
        yield nagiosplugin.Metric("client_auth", policy_findings(c, self.args, g.path), context="findings")
        if g.mtls is not None:
            yield nagiosplugin.Metric("mtls", mtls_findings(g.mtls), context="findings")
            if g.mtls.client_days_left is not None:
                yield nagiosplugin.Metric("client_cert_days_left", g.mtls.client_days_left, context="client_expiry")

    def detail_lines(self, verbose: int) -> list[str]:
        g = self.gathered
        if g is None:
            return []
        lines = []
        if g.classification is not None and g.classification.how and g.classification.kind != "none":
            lines.append(f"without a client certificate: {g.classification.how}")
        if g.http_status is not None:
            lines.append(f"GET {g.path} without a client certificate: HTTP {g.http_status}")
        if g.client_subject:
            lines.append(f"client certificate: {g.client_subject}")
        if verbose:
            from ..outputs.ladder import ladder_lines

            lines.extend(ladder_lines(g.observation, times=verbose > 1))
        return lines

    def facts(self) -> dict[str, Any]:
        g = self.gathered
        if g is None:
            return {}
        from ..outputs.ladder import to_dict

        c = g.classification
        return {
            "target": g.target,
            "classification": c.kind if c else None,
            "enforced": c.enforced if c else None,
            "late_via": c.late_via if c else None,
            "ca_names": list(c.request.ca_names) if c and c.request else [],
            "http_status_without_certificate": g.http_status,
            "mtls": g.mtls.__dict__ if g.mtls else None,
            "handshake": to_dict(g.observation),
        }


class PlainContext(nagiosplugin.Context):
    """Perfdata only: never changes the state."""

    def evaluate(self, metric: Any, resource: Any) -> nagiosplugin.Result:
        return nagiosplugin.Result(nagiosplugin.Ok, "", metric)

    def performance(self, metric: Any, resource: Any) -> nagiosplugin.Performance:
        return nagiosplugin.Performance(metric.name, metric.value, metric.uom or "", None, None, metric.min,
                                        metric.max)


class ClientAuthSummary(nagiosplugin.Summary):
    def __init__(self, resource: ClientAuthResource) -> None:
        self.resource = resource

    def _target(self) -> str:
        g = self.resource.gathered
        return g.target if g else str(self.resource.args.host)

    def ok(self, results: Any) -> str:
        g = self.resource.gathered
        parts = []
        if g is not None and g.classification is not None:
            parts.append(describe(g.classification, g.path))
        if g is not None and g.mtls is not None:
            parts.append(g.mtls.detail)
        return f"{self._target()} " + "; ".join(parts)

    def problem(self, results: Any) -> str:
        return f"{self._target()} " + "; ".join(problem_hints(results))


def build_check(args: argparse.Namespace, progress: Callable[[str], None],
                now: Optional[datetime] = None) -> nagiosplugin.Check:
    now = now or datetime.now(timezone.utc)
    resource = ClientAuthResource(args, now, progress)

    def client_expiry(metric: Any) -> str:
        g = resource.gathered
        days = metric.value
        who = g.client_subject if g and g.client_subject else "client certificate"
        return f"client certificate {who} " + (f"expired {-days:.1f} days ago" if days < 0
                                                else f"expires in {days:.1f} days")

    check = nagiosplugin.Check(
        resource,
        FindingContext("findings"),
        PlainContext("plain"),
        ExpiryContext("client_expiry", args.client_cert_warning, args.client_cert_critical, client_expiry),
        ClientAuthSummary(resource),
    )
    check.name = "TLS_CLIENTAUTH"
    return check


def url_target(url: str) -> tuple[str, int, str]:
    """(host, port, path) of an https URL.

    Raises:
        UsageError: not an https URL.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise UsageError(f"--url must be an https URL, not {url!r}")
    try:
        port = parts.port or 443
    except ValueError:
        raise UsageError(f"bad port in {url!r}") from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.hostname, port, path
