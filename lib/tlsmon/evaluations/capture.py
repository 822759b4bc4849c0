"""check_tls_capture: the TLS connections of captures (files, a ring, stdin, a live sample), evaluated.

``Tally`` adds up the ``ConnectionObservation``s the capture engine yields (counts, the
worst connections, the certificates seen), filtered by ``ConnectionFilter``; the pure
``*_findings`` functions decide what is wrong; ``CaptureResource`` reads the source
(``gather``) and yields the metrics; ``CaptureSummary`` words the status line. ``now``
is explicit. Only ``gather`` does I/O (through the sources).
"""

from __future__ import annotations

import argparse
import fnmatch
import heapq
import ipaddress
import itertools
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Iterator, Optional, Union

import nagiosplugin

from ..frozen import frozen
from ..observations import (
    CertificateFacts,
    ClientCertificateStatus,
    ConnectionObservation,
    Outcome,
    RequestStatus,
)
from .contexts import CRITICAL, OK, UNKNOWN, WARNING, ExpiryContext, Finding, FindingContext, problem_hints

__all__ = [
    "ConnectionFilter",
    "Policy",
    "Tally",
    "failure_reason",
    "clientauth_findings",
    "version_findings",
    "volume_findings",
    "source_findings",
    "CaptureResource",
    "CaptureSummary",
    "build_check",
    "PERFDATA",
]

# Perfdata labels (stable; documented in the README).
HANDSHAKES = "handshakes"
FAILED = "failed"
FAILURE_RATIO = "failure_ratio"
INCOMPLETE = "incomplete"
CERT_REQUESTS = "cert_requests"
CERT_REQUESTS_UNSEEN = "cert_requests_unseen"
CERT_REQUESTS_MISSING = "cert_requests_missing"
EMPTY_CLIENT_CERTS = "empty_client_certs"
RENEGOTIATIONS = "renegotiations"
FORBIDDEN_VERSIONS = "forbidden_versions"
MIN_DAYS_LEFT = "min_days_left"
PERFDATA = (HANDSHAKES, FAILED, FAILURE_RATIO, INCOMPLETE, CERT_REQUESTS, CERT_REQUESTS_UNSEEN, EMPTY_CLIENT_CERTS,
            RENEGOTIATIONS)

_KEEP_WORST = 50  # connections kept for the detail lines
_KEEP_LISTED = 10_000  # compact connection records kept for JSON (-vv)
_KEEP_GROUPS = 256  # servers named per category
_MAX_CERTS = 1024

VERSIONS = {
    "ssl3": 0x0300, "sslv3": 0x0300, "ssl3.0": 0x0300,
    "tls1": 0x0301, "tls1.0": 0x0301, "tlsv1": 0x0301, "tlsv1.0": 0x0301, "tls1_0": 0x0301, "1.0": 0x0301,
    "tls1.1": 0x0302, "tlsv1.1": 0x0302, "tls1_1": 0x0302, "1.1": 0x0302,
    "tls1.2": 0x0303, "tlsv1.2": 0x0303, "tls1_2": 0x0303, "1.2": 0x0303,
    "tls1.3": 0x0304, "tlsv1.3": 0x0304, "tls1_3": 0x0304, "1.3": 0x0304,
}


# --- what is counted -------------------------------------------------------------------------------


@frozen
class ConnectionFilter:
    """Which connections count: ``--server``, ``--sni``, ``--client``, ``--since`` (all must hold).

    Attributes:
        servers: each (address or SNI name or None, port or None); any may match.
        sni: shell patterns matched against the SNI, case-insensitively; any may match.
        clients: networks the client's address must be in; any may match.
        since: connections that began before this are left out.
    """

    servers: tuple[tuple[Optional[str], Optional[int]], ...] = ()
    sni: tuple[str, ...] = ()
    clients: tuple[Union[ipaddress.IPv4Network, ipaddress.IPv6Network], ...] = ()
    since: Optional[datetime] = None

    def matches(self, obs: ConnectionObservation) -> bool:
        if self.since is not None and obs.started_at < self.since:
            return False
        if self.servers and not any(_server_matches(s, obs) for s in self.servers):
            return False
        if self.sni:
            name = (obs.sni or "").lower().rstrip(".")
            if not name or not any(fnmatch.fnmatchcase(name, p.lower()) for p in self.sni):
                return False
        if self.clients:
            try:
                address = ipaddress.ip_address(obs.client.address or obs.client.host)
            except ValueError:
                return False
            if not any(address in net for net in self.clients):
                return False
        return True


def _server_matches(server: tuple[Optional[str], Optional[int]], obs: ConnectionObservation) -> bool:
    host, port = server
    if port is not None and obs.server.port != port:
        return False
    if host is None:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")) == ipaddress.ip_address(obs.server.address or "")
    except ValueError:
        return (obs.sni or "").lower().rstrip(".") == host.lower().rstrip(".")


@frozen
class Policy:
    """What the evaluations demand (from the options).

    Attributes:
        require_client_cert: None, or the expected CA names (``split_expected`` form; empty: any).
        allow_late: a request seen (or possible) only in a renegotiation is OK.
        unseen_state: the state of handshakes whose request could not be seen (TLS 1.3).
        forbid_versions: negotiated versions that are CRITICAL.
        warning_days, critical_days: certificate expiry thresholds.
    """

    require_client_cert: Optional[tuple[tuple[str, tuple[tuple[str, str], ...], bool], ...]] = None
    allow_late: bool = False
    unseen_state: int = WARNING
    forbid_versions: frozenset[int] = frozenset()
    warning_days: float = 20.0
    critical_days: float = 15.0


def failure_reason(obs: ConnectionObservation) -> str:
    """Why a handshake failed, grouped as an operator reads it: ``server alert handshake_failure(40)``."""
    from ..sources.assemble import alert_name

    if obs.outcome is Outcome.ALERT:
        for alert in obs.alerts:
            if alert.fatal or alert.description is None:
                who = "server" if alert.direction == "S->C" else "client"
                what = alert_name(alert.description) if alert.description is not None else "encrypted alert"
                return f"{who} alert {what}"
        return "alert"
    return {
        Outcome.RESET: "reset", Outcome.CLOSED: "closed without an alert", Outcome.TIMEOUT: "timeout",
        Outcome.NOT_TLS: "the server answered in something else than TLS", Outcome.PROTOCOL_ERROR: "protocol error",
    }.get(obs.outcome, obs.outcome.value)


def _alert_label(description: int) -> str:
    from ..codec.constants import describe

    name = describe("AlertDescription", description)
    return f"alert_{name if not name.startswith('0x') else description}"


def _server_text(obs: ConnectionObservation) -> str:
    return f"{obs.server} (SNI {obs.sni})" if obs.sni else str(obs.server)


class _Worst:
    """The connections to show, worst first (ties: the latest)."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self._heap: list[tuple[int, int, ConnectionObservation, tuple[str, ...]]] = []
        self._seq = itertools.count()

    def add(self, severity: int, obs: ConnectionObservation, why: tuple[str, ...]) -> None:
        item = (severity, next(self._seq), obs, why)
        if len(self._heap) < self.keep:
            heapq.heappush(self._heap, item)
        elif item[:2] > self._heap[0][:2]:
            heapq.heapreplace(self._heap, item)

    def items(self) -> list[tuple[int, ConnectionObservation, tuple[str, ...]]]:
        return [(s, o, w) for s, _, o, w in sorted(self._heap, key=lambda i: (-i[0], -i[1]))]


class Tally:
    """The matched connections, added up one at a time (nothing grows with the capture but counters).

    Args:
        policy: what is demanded (decides which connections are problems).
        connection_filter: which connections count.
        now: for certificate expiry.
        keep_listed: keep a compact record of every counted connection (for JSON), up to a bound.
    """

    def __init__(self, policy: Policy, connection_filter: ConnectionFilter, now: datetime,
                 keep_listed: bool = False) -> None:
        self.policy, self.filter, self.now = policy, connection_filter, now
        self.seen = 0  # every connection the sources yielded
        self.counts: Counter[str] = Counter({k: 0 for k in PERFDATA if k != FAILURE_RATIO})
        self.midstream = 0
        self.resumed = 0
        self.alerts: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()
        self.versions: Counter[str] = Counter()
        self.forbidden: Counter[str] = Counter()
        self.categories: Counter[str] = Counter()  # client-auth verdicts, forbidden versions...
        self.groups: dict[str, Counter[str]] = {}  # category -> server -> count
        self.certs: dict[str, tuple[CertificateFacts, int, str]] = {}  # sha256 -> (facts, chain index, server)
        self.worst = _Worst(_KEEP_WORST)
        self.listed: list[dict[str, Any]] = []
        self._keep_listed = keep_listed

    def _group(self, category: str, obs: ConnectionObservation) -> None:
        """Count the connection in ``category``, by server (the first servers of each, bounded)."""
        group = self.groups.setdefault(category, Counter())
        server = _server_text(obs)
        if server in group or len(group) < _KEEP_GROUPS:
            group[server] += 1
        self.categories[category] += 1

    def add(self, obs: ConnectionObservation) -> None:
        """Count one connection, if the filter keeps it."""
        self.seen += 1
        if not self.filter.matches(obs):
            return
        if self._keep_listed and len(self.listed) < _KEEP_LISTED:
            self.listed.append({"client": str(obs.client), "server": str(obs.server), "sni": obs.sni,
                                "first_frame": obs.first_frame, "outcome": obs.outcome.value,
                                "started_at": obs.started_at.isoformat()})
        if obs.started_before_capture:
            self.midstream += 1  # no handshake seen: nothing to judge
            return
        why: list[tuple[int, str]] = []
        p = self.policy
        self.counts[HANDSHAKES] += 1
        if obs.outcome is Outcome.COMPLETED:
            pass
        elif obs.outcome is Outcome.INCOMPLETE:
            self.counts[INCOMPLETE] += 1
            why.append((1, f"incomplete: {obs.error or 'the capture misses part of it'}"))
        else:
            self.counts[FAILED] += 1
            reason = failure_reason(obs)
            self.failures[reason] += 1
            why.append((3, f"failed: {reason}"))
        if obs.request_status is RequestStatus.SEEN:
            self.counts[CERT_REQUESTS] += 1
        elif obs.request_status is RequestStatus.UNSEEN:
            self.counts[CERT_REQUESTS_UNSEEN] += 1
        if obs.client_certificate_status is ClientCertificateStatus.EMPTY:
            self.counts[EMPTY_CLIENT_CERTS] += 1
            self._group(EMPTY_CLIENT_CERTS, obs)
            why.append((2, "the client answered with an empty Certificate"))
        if obs.renegotiation:
            self.counts[RENEGOTIATIONS] += 1
        if obs.resumed:
            self.resumed += 1
        for alert in obs.alerts:
            if alert.description is not None and alert.description != 0:  # close_notify is no news
                self.alerts[_alert_label(alert.description)] += 1
            elif alert.description is None and alert.phase == "handshake":
                self.alerts["alert_encrypted"] += 1
        if obs.version is not None:
            from ..codec.constants import version_name

            name = version_name(obs.version)
            self.versions[name] += 1
            if obs.version in p.forbid_versions:
                self.forbidden[name] += 1
                self._group(FORBIDDEN_VERSIONS, obs)
                why.append((3, f"forbidden version {name}"))
        for index, cert in enumerate(obs.certificates, 1):
            if cert.sha256 not in self.certs and len(self.certs) < _MAX_CERTS:
                self.certs[cert.sha256] = (cert, index, _server_text(obs))
            days = cert.days_left(self.now)
            if days < p.critical_days:
                why.append((3, f"certificate {_cert_name(cert)} expires in {days:.1f} days"))
            elif days < p.warning_days:
                why.append((2, f"certificate {_cert_name(cert)} expires in {days:.1f} days"))
        if p.require_client_cert is not None and obs.outcome is Outcome.COMPLETED:
            why.extend(self._client_auth(obs))
        severity = max((s for s, _ in why), default=0)
        self.worst.add(severity, obs, tuple(text for s, text in sorted(why, key=lambda w: -w[0]) if s))

    def _client_auth(self, obs: ConnectionObservation) -> list[tuple[int, str]]:
        from ..dnmatch import find_match

        p = self.policy
        req = obs.certificate_request
        reason = obs.request_reason
        late = 0 if p.allow_late else 2
        if obs.request_status is RequestStatus.SEEN and req is not None:
            if req.when != "initial":
                self._group("late", obs)
                return [(late, f"client certificate requested only by {req.when.replace('_', ' ')}")]
            expected = p.require_client_cert or ()
            if expected and not req.ca_names:
                self._group("no_ca_names", obs)
                return [(2, "client certificate requested with no CA names")]
            for shown, attrs, subset in expected:
                if find_match(attrs, req.ca_names, subset=subset) is None:
                    self._group("wrong_ca", obs)
                    return [(3, f"expected CA {shown!r} not among the requested CA names")]
            return []
        if reason == "resumed":
            return []  # an abbreviated handshake never asks: the session's full handshake did
        if reason == "not_requested":
            self._group(CERT_REQUESTS_MISSING, obs)
            return [(3, "completed without a CertificateRequest")]
        if reason == "renegotiation_encrypted":
            self._group("late_unseen", obs)
            return [(late, "no CertificateRequest in the handshake; an encrypted renegotiation followed")]
        if obs.request_status is RequestStatus.UNSEEN:
            self._group("unseen", obs)
            return [(1 if p.unseen_state else 0, f"CertificateRequest unseen ({reason.replace('_', ' ')})")]
        return []

    # --- results ------------------------------------------------------------------------------

    @property
    def failure_ratio(self) -> float:
        """Failed handshakes, in percent of the handshakes seen."""
        n = self.counts[HANDSHAKES]
        return round(100.0 * self.counts[FAILED] / n, 2) if n else 0.0

    def min_days(self) -> Optional[tuple[float, CertificateFacts, int, str]]:
        """The certificate that expires first: (days left, facts, chain index, server)."""
        best = None
        for cert, index, server in self.certs.values():
            days = round(cert.days_left(self.now), 2)
            if best is None or days < best[0]:
                best = (days, cert, index, server)
        return best

    def totals(self) -> dict[str, int]:
        """The counts a ring state adds up over its runs."""
        out = {k: int(v) for k, v in self.counts.items()}
        out["midstream"] = self.midstream
        out[CERT_REQUESTS_MISSING] = self.categories[CERT_REQUESTS_MISSING]
        out.update(self.alerts)
        return out


def _cert_name(cert: CertificateFacts) -> str:
    return f"CN={cert.common_name}" if cert.common_name else (cert.subject or "(empty subject)")


def _servers(group: Optional[Counter[str]], limit: int = 3) -> str:
    if not group:
        return ""
    parts = [f"{server} ({n})" for server, n in group.most_common(limit)]
    more = len(group) - limit
    return ": " + ", ".join(parts) + (f" and {more} more" if more > 0 else "")


# --- pure findings -----------------------------------------------------------------------------------


def failure_text(t: Tally) -> str:
    """``3 of 12 handshakes failed (25.0%): server alert handshake_failure(40) (2), reset (1)``."""
    n, failed = t.counts[HANDSHAKES], t.counts[FAILED]
    text = f"{failed} of {n} handshake{'s' if n != 1 else ''} failed ({t.failure_ratio:g}%)"
    if t.failures:
        text += ": " + ", ".join(f"{reason} ({k})" for reason, k in t.failures.most_common(3))
        if len(t.failures) > 3:
            text += ", ..."
    return text


def _size(n: int) -> str:
    """``512 B``, ``36.6 kB``, ``100.7 MB``."""
    if n < 1000:
        return f"{n} B"
    return f"{n / 1e3:.1f} kB" if n < 1e6 else f"{n / 1e6:.1f} MB"


def _n(count: int, word: str) -> str:
    """``1 handshake``, ``2 handshakes``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def clientauth_findings(t: Tally) -> tuple[Finding, ...]:
    """``--require-client-cert``: what the completed handshakes to the matched servers showed."""
    p = t.policy
    if p.require_client_cert is None:
        return ()
    c = t.categories

    def servers(category: str) -> str:
        return _servers(t.groups.get(category))

    out = []
    if c[CERT_REQUESTS_MISSING]:
        out.append(Finding(CRITICAL, f"{_n(c[CERT_REQUESTS_MISSING], 'handshake')} completed without a "
                                     f"CertificateRequest{servers(CERT_REQUESTS_MISSING)}"))
    if c["wrong_ca"]:
        expected = "; ".join(e[0] for e in p.require_client_cert or ())
        out.append(Finding(CRITICAL, f"{_n(c['wrong_ca'], 'request')} without the expected CA ({expected})"
                                     f"{servers('wrong_ca')}"))
    if c["no_ca_names"]:
        out.append(Finding(WARNING, f"{_n(c['no_ca_names'], 'request')} with no CA names{servers('no_ca_names')}"))
    late = OK if p.allow_late else WARNING
    if c["late"]:
        out.append(Finding(late, f"{_n(c['late'], 'client certificate request')} only after the handshake "
                                 f"(renegotiation or post-handshake){servers('late')}"))
    if c["late_unseen"]:
        out.append(Finding(late, f"{_n(c['late_unseen'], 'handshake')} without a CertificateRequest, followed by "
                                 f"an encrypted renegotiation that may have asked for one{servers('late_unseen')}"))
    if c["unseen"]:
        out.append(Finding(p.unseen_state, f"{_n(c['unseen'], 'handshake')} whose CertificateRequest could not be "
                                           f"seen (TLS 1.3 encrypts it; --keylog reads it){servers('unseen')}"))
    if not out:
        out.append(Finding(OK, f"client certificate requested in {_n(t.counts[CERT_REQUESTS], 'handshake')}"))
    return tuple(out)


def version_findings(t: Tally) -> tuple[Finding, ...]:
    if not t.policy.forbid_versions:
        return ()
    if not t.forbidden:
        return (Finding(OK, "no forbidden version negotiated"),)
    versions = ", ".join(f"{name} ({n})" for name, n in sorted(t.forbidden.items()))
    servers = _servers(t.groups.get(FORBIDDEN_VERSIONS))
    return (Finding(CRITICAL, f"forbidden versions negotiated: {versions}{servers}"),)


def volume_findings(t: Tally, minimum_given: bool) -> tuple[Finding, ...]:
    """No handshakes at all: UNKNOWN unless ``--min-handshakes`` says what to expect."""
    if t.counts[HANDSHAKES] or minimum_given:
        return ()
    more = f" ({t.seen} connections filtered out)" if t.seen else ""
    return (Finding(UNKNOWN, f"no TLS handshakes seen{more}"),)


def source_findings(notes: Iterable[tuple[int, str]]) -> tuple[Finding, ...]:
    """What went wrong reading the sources (a damaged ring file, connections lost to rotation)."""
    return tuple(Finding(state, text) for state, text in notes)


# --- nagiosplugin objects ----------------------------------------------------------------------------


class CountContext(nagiosplugin.ScalarContext):
    """A count or a ratio against Nagios ranges, with a hint that reads as a sentence."""

    def __init__(self, name: str, warning: Optional[str], critical: Optional[str],
                 hint: Callable[[Any], str]) -> None:
        super().__init__(name, warning=warning or None, critical=critical or None)
        self._hint = hint

    def evaluate(self, metric: Any, resource: Any) -> nagiosplugin.Result:
        result = super().evaluate(metric, resource)
        return nagiosplugin.Result(result.state, self._hint(metric) if int(result.state) else "", metric)


class CaptureResource(nagiosplugin.Resource):
    """Reads the source once, then yields the metrics of the run."""

    def __init__(self, args: argparse.Namespace, now: datetime, progress: Callable[[str], None]) -> None:
        self.args, self.now, self.progress = args, now, progress
        self.tally: Optional[Tally] = None
        self.source: dict[str, Any] = {}
        self.notes: list[tuple[int, str]] = []
        self.locate: Callable[[int], tuple[str, int]] = lambda frame: ("", frame)

    @property
    def name(self) -> str:
        return "TLS_CAPTURE"

    def probe(self) -> Iterator[nagiosplugin.Metric]:
        a = self.args
        t = self.tally = Tally(policy_of(a), filter_of(a, self.now), self.now, keep_listed=a.verbose >= 2)
        gather(a, t, self)
        c = t.counts
        yield nagiosplugin.Metric(HANDSHAKES, c[HANDSHAKES], min=0, context=HANDSHAKES)
        yield nagiosplugin.Metric(FAILED, c[FAILED], min=0, context=FAILED)
        yield nagiosplugin.Metric(FAILURE_RATIO, t.failure_ratio, "%", min=0, max=100, context=FAILURE_RATIO)
        yield nagiosplugin.Metric(INCOMPLETE, c[INCOMPLETE], min=0, context="count")
        yield nagiosplugin.Metric(CERT_REQUESTS, c[CERT_REQUESTS], min=0, context="count")
        yield nagiosplugin.Metric(CERT_REQUESTS_UNSEEN, c[CERT_REQUESTS_UNSEEN], min=0, context="count")
        if t.policy.require_client_cert is not None:
            yield nagiosplugin.Metric(CERT_REQUESTS_MISSING, t.categories[CERT_REQUESTS_MISSING], min=0,
                                      context="count")
        yield nagiosplugin.Metric(EMPTY_CLIENT_CERTS, c[EMPTY_CLIENT_CERTS], min=0, context=EMPTY_CLIENT_CERTS)
        yield nagiosplugin.Metric(RENEGOTIATIONS, c[RENEGOTIATIONS], min=0, context="count")
        if t.policy.forbid_versions:
            yield nagiosplugin.Metric(FORBIDDEN_VERSIONS, sum(t.forbidden.values()), min=0, context="count")
        worst = t.min_days()
        if worst is not None:
            yield nagiosplugin.Metric(MIN_DAYS_LEFT, worst[0], context=MIN_DAYS_LEFT)
        for label, n in sorted(t.alerts.items()):
            yield nagiosplugin.Metric(label, n, min=0, context="count")
        yield nagiosplugin.Metric("client_auth", clientauth_findings(t), context="findings")
        yield nagiosplugin.Metric("versions", version_findings(t), context="findings")
        yield nagiosplugin.Metric("volume", volume_findings(t, a.min_handshakes is not None
                                                            or a.min_handshakes_critical is not None),
                                  context="findings")
        yield nagiosplugin.Metric("sources", source_findings(self.notes), context="findings")

    # --- long output and JSON -----------------------------------------------------------------------

    def _where(self, obs: ConnectionObservation) -> str:
        name, local = self.locate(obs.first_frame)
        return f"{name}, frame {local}" if name else ""

    def detail_lines(self, verbose: int) -> list[str]:
        from ..outputs.capture_ladder import connection_lines

        t = self.tally
        if t is None:
            return []
        lines = list(self._overview())
        shown = (3, 10, _KEEP_WORST)[min(verbose, 2)]
        worst = [w for w in t.worst.items() if w[0] > 0 or verbose]
        if worst:
            lines.append("worst connections:" if worst[0][0] > 0 else "connections:")
        for _severity, obs, why in worst[:shown]:
            where = self._where(obs)
            if why:
                lines.append(f"-- {'; '.join(why)}" + (f" [{where}]" if where else ""))
            elif where:
                lines.append(f"-- [{where}]")
            lines.extend(connection_lines(obs))
        if len(worst) > shown:
            lines.append(f"... {len(worst) - shown} more (-v shows more)")
        return lines

    def _overview(self) -> Iterator[str]:
        t = self.tally
        assert t is not None
        s = self.source
        if s.get("kind") == "ring":
            run = s["run"]
            text = (f"ring {s['directory']}/{s['glob']}: {_n(len(run.files), 'file')}, {_size(run.read_bytes)} new"
                    f", {_size(run.replayed_bytes)} read again for connections in flight; {run.live} "
                    f"connections still open (counted when they end)")
            if run.backlog_bytes:
                text += f"; {_size(run.backlog_bytes)} left for the next run (-t reached)"
            if run.ended_early:
                text += f"; {run.ended_early} counted at the horizon, still open"
            yield text
            for skipped in run.skipped:
                yield f"ring file skipped: {skipped}"
        elif s.get("kind"):
            yield f"read {s.get('what', '')}: {s.get('frames', 0)} frames"
        c = t.counts
        yield (f"handshakes: {c[HANDSHAKES]} ({c[FAILED]} failed, {c[INCOMPLETE]} incomplete, {t.resumed} resumed)"
               f"; {t.midstream} connections begun before the capture; {t.seen - self._matched()} filtered out")
        if t.failures:
            yield "failures: " + ", ".join(f"{r} ({n})" for r, n in t.failures.most_common())
        if t.versions:
            yield "versions: " + ", ".join(f"{v} ({n})" for v, n in sorted(t.versions.items()))
        yield (f"client certificates: requested in {c[CERT_REQUESTS]}, request unseen in {c[CERT_REQUESTS_UNSEEN]}"
               f", empty answers {c[EMPTY_CLIENT_CERTS]}; renegotiations {c[RENEGOTIATIONS]}")
        worst = t.min_days()
        if worst is not None:
            days, cert, index, server = worst
            yield f"certificates: {len(t.certs)} seen; first to expire: {_expiry_text(cert, index, server, days)}"

    def _matched(self) -> int:
        t = self.tally
        assert t is not None
        return t.counts[HANDSHAKES] + t.midstream

    def facts(self) -> dict[str, Any]:
        from ..outputs.capture_ladder import connection_dict

        t = self.tally
        if t is None:
            return {}
        src = dict(self.source)
        run = src.pop("run", None)
        if run is not None:
            src["ring"] = dict(run.__dict__)
        worst = []
        for _severity, obs, why in t.worst.items():
            d = connection_dict(obs)
            name, local = self.locate(obs.first_frame)
            d.update(problems=list(why), file=name or None, file_frame=local if name else None)
            worst.append(d)
        days = t.min_days()
        out: dict[str, Any] = {
            "now": self.now,
            "source": src,
            "counts": dict(t.counts, midstream=t.midstream, resumed=t.resumed, connections=t.seen,
                           failure_ratio=t.failure_ratio),
            "alerts": dict(t.alerts),
            "failures": dict(t.failures),
            "versions": dict(t.versions),
            "forbidden_versions": dict(t.forbidden),
            "servers": {k: dict(v) for k, v in t.groups.items()},
            "first_to_expire": {"days_left": days[0], "subject": days[1].subject, "chain_index": days[2],
                                "server": days[3], "not_after": days[1].not_after} if days else None,
            "worst": worst,
        }
        if t.listed:
            out["connections"] = t.listed
        return out


def _expiry_text(cert: CertificateFacts, index: int, server: str, days: float) -> str:
    who = _cert_name(cert) + (f" (chain element {index})" if index > 1 else "")
    when = cert.not_after.strftime("%Y-%m-%d %H:%M UTC")
    if days < 0:
        return f"{who} sent by {server} expired {-days:.1f} days ago ({when})"
    return f"{who} sent by {server} expires in {days:.1f} days ({when})"


class CaptureSummary(nagiosplugin.Summary):
    def __init__(self, resource: CaptureResource) -> None:
        self.resource = resource

    def ok(self, results: Any) -> str:
        t = self.resource.tally
        if t is None:
            return ""
        c = t.counts
        parts = [f"{_n(c[HANDSHAKES], 'handshake')} ({c[FAILED]} failed, {t.failure_ratio:g}%)"]
        if c[CERT_REQUESTS] or c[CERT_REQUESTS_UNSEEN]:
            parts.append(f"client certificate requested in {c[CERT_REQUESTS]}, unseen in {c[CERT_REQUESTS_UNSEEN]}")
        worst = t.min_days()
        if worst is not None:
            parts.append(f"certificates expire in {worst[0]:.0f} days or later")
        return ", ".join(parts)

    def problem(self, results: Any) -> str:
        return "; ".join(problem_hints(results))


def build_check(args: argparse.Namespace, progress: Callable[[str], None],
                now: Optional[datetime] = None) -> nagiosplugin.Check:
    """The check for parsed ``args`` (see ``check_tls_capture --help``)."""
    now = now or datetime.now(timezone.utc)
    resource = CaptureResource(args, now, progress)

    def failures(metric: Any) -> str:
        return failure_text(resource.tally) if resource.tally is not None else ""

    def volume(metric: Any) -> str:
        want = args.min_handshakes_critical if args.min_handshakes_critical is not None else args.min_handshakes
        return f"only {metric.value} handshakes seen (at least {want} expected)"

    def empty(metric: Any) -> str:
        servers = _servers(resource.tally.groups.get(EMPTY_CLIENT_CERTS)) if resource.tally else ""
        return f"{_n(metric.value, 'client')} answered a CertificateRequest with an empty Certificate{servers}"

    def expiry(metric: Any) -> str:
        worst = resource.tally.min_days() if resource.tally is not None else None
        return _expiry_text(worst[1], worst[2], worst[3], worst[0]) if worst else ""

    low = f"{args.min_handshakes}:" if args.min_handshakes is not None else None
    low_crit = f"{args.min_handshakes_critical}:" if args.min_handshakes_critical is not None else None
    check = nagiosplugin.Check(
        resource,
        CountContext(HANDSHAKES, low, low_crit, volume),
        CountContext(FAILED, args.failures_warning, args.failures_critical, failures),
        CountContext(FAILURE_RATIO, args.failure_ratio_warning, args.failure_ratio_critical, failures),
        CountContext(EMPTY_CLIENT_CERTS, args.empty_client_cert_warning, args.empty_client_cert_critical, empty),
        CountContext("count", None, None, lambda m: ""),
        ExpiryContext(MIN_DAYS_LEFT, args.warning, args.critical, expiry),
        FindingContext("findings"),
        CaptureSummary(resource),
    )
    check.name = "TLS_CAPTURE"
    return check


def policy_of(args: argparse.Namespace) -> Policy:
    """The Policy the options ask for (options already checked by the parser)."""
    from ..dnmatch import split_expected

    require = None
    if args.require_client_cert is not None:
        require = tuple(split_expected(v for v in args.require_client_cert if v))
    unseen = {"ok": OK, "warning": WARNING, "unknown": UNKNOWN}[args.unseen]
    return Policy(require, args.allow_late, unseen, frozenset(args.forbid_version or ()), args.warning, args.critical)


def filter_of(args: argparse.Namespace, now: datetime) -> ConnectionFilter:
    since = now - timedelta(seconds=args.since) if args.since is not None else None
    return ConnectionFilter(tuple(args.server or ()), tuple(args.sni or ()), tuple(args.client or ()), since)


# --- gathering -------------------------------------------------------------------------------------------


def gather(args: argparse.Namespace, tally: Tally, resource: CaptureResource) -> None:
    """Read the source the options name into ``tally`` (and, for a ring, commit its state)."""
    from ..sources.ring import Locator, RingReader, read_files

    progress = resource.progress
    keylog = read_keylog(args.keylog)
    server = engine_filter(args.server or ())
    # Leave time to evaluate and print (the runner's watchdog fires at -t + 1 s).
    deadline = time.monotonic() + max(0.5, args.timeout - max(1.0, args.timeout * 0.1))
    if args.ring:
        progress("ring")
        ring = RingReader(args.ring, args.glob, args.state, keylog=keylog, server=server,
                          signature=ring_signature(args), horizon_s=args.ring_horizon, deadline=deadline,
                          lock_wait_s=min(5.0, args.timeout / 4))
        with ring:
            for obs in ring.observations():
                tally.add(obs)
            run = ring.run
            for text in run.errors:
                resource.notes.append((WARNING, f"ring file damaged: {text}"))
            if run.lost:
                resource.notes.append((WARNING, f"{run.lost} connections in flight at the last run were lost: "
                                                f"their beginning left the ring before they ended"))
            progress("commit ring state")
            ring.commit(tally.totals())
        resource.locate = ring.locator.locate
        resource.source = {"kind": "ring", "directory": ring.directory, "glob": ring.pattern,
                           "state": ring.state_path, "run": run, "totals": ring.totals}
        return
    locator = Locator()
    stats: dict[str, Any] = {}
    if args.interface:
        from ..sources.livecapture import LiveCapture

        progress("live capture")
        with LiveCapture(args.interface, args.duration, args.bpf, tool=args.capture_tool) as live:
            live.guard(lambda: _consume(read_files([live.stream], keylog=keylog, server=server, deadline=None,
                                                   stats=stats), tally))
        resource.source = {"kind": "live", "what": f"{live.tool} on {args.interface} for {args.duration:g} s",
                           "interface": args.interface, "command": live.command, **stats}
        return
    progress("read captures")
    sources: list[Any] = []
    for name in args.capture:
        if name == "-":
            import sys

            sources.append(sys.stdin.buffer)
        else:
            sources.append(name)
    _consume(read_files(sources, keylog=keylog, server=server, deadline=deadline, locator=locator, stats=stats),
             tally)
    if len(sources) > 1:
        resource.locate = locator.locate
    resource.source = {"kind": "files", "what": ", ".join(args.capture), "files": list(args.capture), **stats}
    for name in stats.get("truncated", ()):
        resource.notes.append((OK, f"{name} ends inside a record (cut short): read up to there"))


def _consume(observations: Iterable[ConnectionObservation], tally: Tally) -> None:
    for obs in observations:
        tally.add(obs)


def read_keylog(path: Optional[str]) -> Optional[str]:
    """The text of an SSLKEYLOGFILE, or None.

    Raises:
        UsageError: it cannot be read.
    """
    if not path:
        return None
    from ..errors import UsageError

    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError as exc:
        raise UsageError(f"cannot read key log {path!r}: {exc.strerror or exc}") from None


def engine_filter(servers: Iterable[tuple[Optional[str], Optional[int]]]) -> Any:
    """One engine-level filter for the ``--server`` options (flows to other servers are dropped early)."""
    from ..sources.ring import ServerFilters

    servers = list(servers)
    return ServerFilters(servers) if servers else None


def ring_signature(args: argparse.Namespace) -> str:
    """The options a ring state depends on (they decide which flows the engine drops)."""
    servers = sorted(f"{h or '*'}:{p or '*'}" for h, p in (args.server or ()))
    return "server=" + ",".join(servers) if servers else ""
