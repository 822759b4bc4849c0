"""check_tls_handshake: handshake health, failure diagnosis and protocol policy, evaluated.

``HandshakeResource`` gathers (one platform handshake observed by the codec, then the
version and cipher matrix from the codec's own hellos) and yields metrics; the pure
``*_findings`` functions decide what is wrong; ``HandshakeSummary`` words the status line.
Perfdata labels (stable): ``connect_time``, ``server_hello_time``, ``handshake_time``
(seconds from the start of the connection, DNS included, as curl counts them) and
``tls_version`` (1.0 ... 1.3; SSL 3.0 is 0.3).
"""

from __future__ import annotations

import argparse
import re
import time
from dataclasses import replace
from typing import Any, Callable, Iterator, Optional, Sequence

import nagiosplugin

from ..codec.constants import CipherSuite, NamedGroup, describe, suite_traits
from ..errors import UsageError
from ..frozen import frozen
from ..observations import HandshakeObservation, Outcome
from ..sources.scan import PlatformOffer, ScanResult, VersionScan
from .contexts import CRITICAL, OK, WARNING, Finding, FindingContext, problem_hints

__all__ = [
    "Gathered", "HandshakeResource", "HandshakeSummary", "build_check", "short_version", "failure_text",
    "diagnose", "version_findings", "cipher_findings", "weak_labels", "CONNECT_TIME", "SERVER_HELLO_TIME",
    "HANDSHAKE_TIME", "TLS_VERSION",
]

CONNECT_TIME = "connect_time"
SERVER_HELLO_TIME = "server_hello_time"
HANDSHAKE_TIME = "handshake_time"
TLS_VERSION = "tls_version"
FINDINGS = "findings"

SSL3, TLS10, TLS11, TLS12, TLS13 = 0x0300, 0x0301, 0x0302, 0x0303, 0x0304
_SHORT = {SSL3: "SSLv3", TLS10: "TLS1.0", TLS11: "TLS1.1", TLS12: "TLS1.2", TLS13: "TLS1.3"}
_NUMBER = {SSL3: 0.3, TLS10: 1.0, TLS11: 1.1, TLS12: 1.2, TLS13: 1.3}
_SHOWN = 3  # suites named in a status line before "+N more"
_SAFETY_S = 0.25  # left of -t for evaluating and printing


def short_version(v: int) -> str:
    """``TLS1.2``, ``SSLv3``; hex for anything else."""
    return _SHORT.get(v, f"0x{v:04x}")


def _suite(code: int) -> str:
    return describe(CipherSuite, code)


def _ms(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:.1f} ms" if ms < 10 else f"{ms:.0f} ms"


@frozen
class PhaseTimes:
    """Seconds from the start of the connection attempt (DNS included), as curl counts them.

    Attributes:
        dns: name resolution (0 for an address).
        connect: TCP connected.
        server_hello: the ServerHello's first byte arrived.
        handshake: the platform library completed the handshake (None if it did not).
        total: the end of the attempt, failed or not.
        first_byte: the server's first byte of TLS.
    """

    dns: Optional[float] = None
    connect: Optional[float] = None
    server_hello: Optional[float] = None
    handshake: Optional[float] = None
    total: Optional[float] = None
    first_byte: Optional[float] = None


@frozen
class Gathered:
    """What the resource found before any evaluation.

    Attributes:
        target: ``host:port`` as shown.
        health: the platform handshake, as the codec observed it.
        times: its phases in seconds.
        handshake_ok, verified, verify_message, ssl_error: the platform library's verdict.
        platform: what the platform library offers (for the diagnosis).
        scan: the version and cipher matrix; None when not scanned.
        scan_note: why the matrix was not scanned.
        matrix: ``full``, ``versions`` or ``none``, as asked.
        alpn: the ALPN protocols offered.
    """

    target: str
    health: HandshakeObservation
    times: PhaseTimes
    handshake_ok: bool
    verified: Optional[bool]
    verify_message: Optional[str]
    ssl_error: Optional[str]
    platform: PlatformOffer
    scan: Optional[ScanResult]
    scan_note: Optional[str] = None
    matrix: str = "full"
    alpn: tuple[str, ...] = ()


# --- where a handshake failed ---------------------------------------------------------------------


def _messages(obs: HandshakeObservation) -> list[tuple[str, str]]:
    return [(s.direction, m) for s in obs.steps for m in s.messages if m != "Alert"]


def reached(obs: HandshakeObservation, ok: bool = True) -> str:
    """The phase a handshake got to: dns, connect, starttls, client_hello, server_hello,
    certificate, key_exchange, finished, complete (``ok``: the platform library agrees)."""
    if obs.outcome is Outcome.COMPLETED and ok:
        return "complete"
    if obs.phase in ("dns", "connect", "starttls"):
        return obs.phase
    last = _messages(obs)[-1][1] if _messages(obs) else ""
    if last in ("", "ClientHello"):
        return "client_hello"
    if last in ("ServerHello", "EncryptedExtensions", "HelloRetryRequest"):
        return "server_hello"
    if last.startswith("Certificate"):
        return "certificate"
    if last == "Finished":
        return "finished"
    return "key_exchange"


def _where(obs: HandshakeObservation) -> str:
    if obs.phase == "dns":
        return "in DNS resolution"
    if obs.phase == "connect":
        return "at TCP connect"
    if obs.phase == "starttls":
        return "in the STARTTLS preamble"
    msgs = _messages(obs)
    return f"after {msgs[-1][1]}" if msgs else "before ClientHello"


def failure_text(g: Gathered) -> str:
    """One line: what went wrong in the platform handshake, and where."""
    obs = g.health
    where = _where(obs)
    error = obs.error or g.ssl_error or "no details"
    if g.verified is False:  # the platform library rejected the server's Certificate message
        return f"certificate verification failed: {g.verify_message or 'no details'}"
    if obs.outcome is Outcome.DNS:
        return f"DNS: {error}"
    if obs.outcome is Outcome.REFUSED or obs.phase == "connect" and obs.outcome is not Outcome.TIMEOUT:
        return f"TCP connect failed: {error}"
    if obs.phase == "starttls":
        return f"STARTTLS failed: {error}"
    if obs.outcome is Outcome.TIMEOUT:
        if obs.phase == "connect":
            return f"TCP connect timed out: {error}"
        t = obs.timings
        last = obs.steps[-1].time if obs.steps and obs.steps[-1].time is not None else t.connect
        silent = (t.total or 0.0) - (last or 0.0)
        if t.first_byte is not None and not any(s.direction == "S->C" for s in obs.steps):
            return f"timeout {where}: the server's answer never completed ({silent:.1f} s)"
        return f"timeout {where}: nothing more from the server for {silent:.1f} s"
    if obs.outcome is Outcome.RESET:
        return f"connection reset by the server {where}"
    if obs.outcome is Outcome.ALERT:
        return error  # "server sent fatal alert handshake_failure(40) after ClientHello"
    if obs.outcome is Outcome.CLOSED:
        return f"the server closed the connection {where} without an alert"
    if _not_tls(obs):
        return f"not TLS {where}: {error}"
    return f"handshake failed {where}: {error}"


def diagnose(scan: Optional[ScanResult], platform: PlatformOffer) -> Optional[str]:
    """Why a server refused the platform's ClientHello, from what it accepted of ours."""
    if scan is None or not scan.versions:
        return None
    accepted = [v for v in scan.versions if v.accepted]
    if not accepted:
        if any(v.accepted is None for v in scan.versions):
            return None
        span = f"{short_version(scan.versions[0].version)} to {short_version(scan.versions[-1].version)}"
        return f"our own hellos were refused for every version too, {span}"
    shared = [v for v in accepted if v.version in platform.versions]
    if not shared:
        offered = "/".join(short_version(v) for v in platform.versions) or "none"
        return (f"no shared protocol version: the server accepts only "
                f"{', '.join(short_version(v.version) for v in accepted)}, the platform TLS library offers {offered}")
    if all(v.enumerated for v in shared) and not any(set(v.suites) & set(platform.suites) for v in shared):
        return "; ".join(f"no shared cipher for {short_version(v.version)}" for v in sorted(
            shared, key=lambda v: -v.version))
    return None


# --- pure findings ---------------------------------------------------------------------------------


def health_findings(g: Gathered) -> tuple[Finding, ...]:
    obs = g.health
    if g.handshake_ok:
        bits = [short_version(obs.version) if obs.version else "?"]
        if obs.cipher_suite is not None:
            bits.append(_suite(obs.cipher_suite))
        done = g.times.handshake
        text = " ".join(bits) + (f" in {_ms(done)}" if done is not None else "")
        return (Finding(OK, text),)
    text = failure_text(g)
    why = None
    if obs.outcome is not Outcome.TIMEOUT and g.verified is not False and reached(obs, False) in ("client_hello",
                                                                                                 "server_hello"):
        why = diagnose(g.scan, g.platform)
        if obs.alert is not None and obs.alert.description == 120 and g.alpn:
            why = f"the server speaks none of the ALPN protocols offered: {', '.join(g.alpn)}"
        if why is None and obs.version is not None and obs.version < TLS13 and obs.secure_renegotiation is False:
            why = "the server does not support secure renegotiation (RFC 5746), which the platform TLS library requires"
    return (Finding(CRITICAL, f"{text} ({why})" if why else text),)


def version_findings(scan: ScanResult, args: argparse.Namespace) -> tuple[Finding, ...]:
    """The version policy: SSLv3 never; TLS 1.0/1.1 deprecated; --min-version, --require-*."""
    out: list[Finding] = []
    accepted = set(scan.accepted_versions)
    minimum = getattr(args, "min_version", None)
    for v in sorted(accepted):
        name = short_version(v)
        if minimum is not None and v < minimum:
            out.append(Finding(CRITICAL, f"{name} accepted (below --min-version {short_version(minimum)})"))
        elif v == SSL3 and (minimum is None or args.require_no_ssl3):
            out.append(Finding(CRITICAL, "SSLv3 accepted (RFC 7568 forbids it)"))
        elif v == TLS10 and args.require_no_tls1 or v == TLS11 and args.require_no_tls1_1:
            out.append(Finding(CRITICAL, f"{name} accepted"))
        elif v in (TLS10, TLS11) and minimum is None:
            out.append(Finding(WARNING, f"{name} accepted (deprecated, RFC 8996)"))
    for flag, v in (("require_tls1_2", TLS12), ("require_tls1_3", TLS13)):
        if getattr(args, flag, False) and v not in accepted:
            vs = scan.get(v)
            why = (vs.refusal or (f"no answer: {vs.errors[0]}" if vs.errors else None)) if vs is not None else None
            how = f" ({why})" if why else ""
            out.append(Finding(CRITICAL, f"{short_version(v)} not accepted{how}"))
    if not out:
        names = ", ".join(short_version(v) for v in sorted(accepted)) or "none"
        out.append(Finding(OK, f"versions {names}"))
    return tuple(out)


def weak_labels(code: int) -> tuple[str, ...]:
    """Why a suite is weak: NULL, anonymous, EXPORT, RC4, DES, 3DES, MD5 (empty: not weak)."""
    t = suite_traits(code)
    if t is None:
        return ()
    labels = (("NULL", t.is_null), ("anonymous", t.is_anonymous), ("EXPORT", t.is_export), ("RC4", t.is_rc4),
              ("DES", t.is_des), ("3DES", t.is_3des), ("MD5", t.is_md5_mac))
    return tuple(name for name, flag in labels if flag)


def _listing(items: Sequence[tuple[int, list[int]]], label: Callable[[int], str] = lambda s: "") -> str:
    """``TLS_X (NULL; TLS1.0, TLS1.2), TLS_Y (...) +3 more``."""
    parts = []
    for code, versions in items[:_SHOWN]:
        extra = label(code)
        vs = ", ".join(short_version(v) for v in sorted(versions))
        parts.append(f"{_suite(code)} ({extra + '; ' if extra else ''}{vs})")
    more = f" +{len(items) - _SHOWN} more" if len(items) > _SHOWN else ""
    return ", ".join(parts) + more


def cipher_findings(scan: ScanResult, args: argparse.Namespace) -> tuple[Finding, ...]:
    """Weak suites CRITICAL, --forbid-cipher CRITICAL, no forward secrecy WARNING (or CRITICAL)."""
    by_suite: dict[int, list[int]] = {}
    for vs in scan.versions:
        if vs.accepted and vs.enumerated:
            for s in vs.suites:
                by_suite.setdefault(s, []).append(vs.version)
    if not by_suite:
        return ()
    order = sorted(by_suite)
    out: list[Finding] = []
    weak = [(s, by_suite[s]) for s in order if weak_labels(s)]
    if weak:
        out.append(Finding(CRITICAL, "weak suites accepted: " + _listing(weak, lambda s: ", ".join(weak_labels(s)))))
    for pattern in getattr(args, "forbid_cipher", None) or ():
        rx = re.compile(pattern, re.IGNORECASE)
        hits = [(s, by_suite[s]) for s in order if rx.search(_suite(s))]
        if hits:
            out.append(Finding(CRITICAL, f"suites forbidden by --forbid-cipher {pattern!r} accepted: {_listing(hits)}"))
    no_fs = [(s, by_suite[s]) for s in order if not _forward_secret(s) and not weak_labels(s)]
    if no_fs:
        state = CRITICAL if getattr(args, "require_forward_secrecy", False) else WARNING
        out.append(Finding(state, f"{_count(len(no_fs), 'suite')} without forward secrecy accepted: {_listing(no_fs)}"))
    if not out:
        out.append(Finding(OK, f"{len(by_suite)} suites, none weak"))
    return tuple(out)


def _forward_secret(code: int) -> bool:
    t = suite_traits(code)
    return bool(t and t.forward_secret)


def renegotiation_findings(g: Gathered) -> tuple[Finding, ...]:
    """RFC 5746 secure renegotiation in every accepted version before TLS 1.3."""
    if g.scan is not None and g.scan.versions:
        lacking = [v.version for v in g.scan.versions if v.accepted and v.version < TLS13
                   and v.secure_renegotiation is False]
    elif g.handshake_ok and g.health.version is not None and g.health.version < TLS13:
        lacking = [g.health.version] if g.health.secure_renegotiation is False else []
    else:
        return ()
    if lacking:
        names = ", ".join(short_version(v) for v in lacking)
        return (Finding(WARNING, f"no secure renegotiation (RFC 5746) in {names}"),)
    return ()


def alpn_findings(g: Gathered, expected: Optional[Sequence[str]]) -> tuple[Finding, ...]:
    if not expected or not g.handshake_ok:
        return ()
    chosen = g.health.alpn
    if chosen in expected:
        return (Finding(OK, f"ALPN {chosen}"),)
    wanted = ", ".join(expected)
    if chosen is None:
        return (Finding(CRITICAL, f"ALPN: the server selected none of {wanted}"),)
    return (Finding(CRITICAL, f"ALPN: the server selected {chosen}, not one of {wanted}"),)


def stapling_findings(g: Gathered, required: bool) -> tuple[Finding, ...]:
    if not required or not g.handshake_ok:
        return ()
    scan = g.scan
    if scan is not None and scan.ocsp_stapled:
        return (Finding(OK, "OCSP response stapled"),)
    if scan is not None and scan.ocsp_stapled is False:
        return (Finding(CRITICAL, "the server staples no OCSP response"),)
    why = scan.stapling_error if scan is not None else g.scan_note
    return (Finding(CRITICAL, f"cannot tell whether the server staples OCSP: {why or 'not checked'}"),)


def completeness_findings(g: Gathered) -> tuple[Finding, ...]:
    scan = g.scan
    if scan is None or not scan.cut_short:
        return ()
    return (Finding(WARNING, f"matrix incomplete: stopped after {scan.probes} probes in {scan.elapsed_s:.1f} s "
                             f"(deadline or probe budget; raise -t)"),)


# --- gathering --------------------------------------------------------------------------------------




def gather(args: argparse.Namespace, progress: Callable[[str], None],
           clock: Callable[[], float] = time.monotonic) -> Gathered:
    """One platform handshake, then the matrix; no evaluation here."""
    from ..cli.options import family_of
    from ..sources import net
    from ..sources import scan as scanning
    from ..sources.net import ProbeTarget, default_sni, is_ip
    from ..sources.starttls import IMPLICIT_TLS
    from ..sources.tlsclient import TlsClientOptions, connect_tls

    host = args.host.strip("[]")
    sni = default_sni(host, args.sni)
    starttls = args.protocol if args.protocol not in (None, "tls") and args.protocol not in IMPLICIT_TLS else None
    end = getattr(args, "deadline", clock() + args.timeout) - _SAFETY_S
    shown = f"[{host}]:{args.port}" if ":" in host else f"{host}:{args.port}"
    target = ProbeTarget(host, args.port, family_of(args))
    # Resolve first: connect_tls starts its clock before it loads the trust store, so with an
    # address its "dns" mark is that set-up time, which the phase times leave out.
    progress("DNS")
    start = clock()
    try:
        target = scanning.resolve_once(target, end, clock)
    except net.Failure:
        pass  # connect_tls meets the same failure and reports it
    dns_s = clock() - start if target.host != host else 0.0
    opts = TlsClientOptions(server_name=sni, rootcert=args.rootcert, verify=not args.no_verify,
                            alpn=tuple(args.alpn or ()), starttls=starttls)
    progress("TLS handshake")
    try:
        result = connect_tls(target, opts, deadline=end, clock=clock)
    except (OSError, ValueError) as exc:  # local problems: an unreadable trust store
        raise UsageError(f"cannot set up TLS: {getattr(exc, 'strerror', None) or exc}") from None
    obs, verdict = result.observation, result.verdict
    times = phase_times(obs, verdict.handshake_ok, dns_s if is_ip(target.host) else None)
    g = Gathered(target=shown, health=obs, times=times, handshake_ok=verdict.handshake_ok, verified=verdict.verified,
                 verify_message=verdict.verify_message, ssl_error=verdict.ssl_error,
                 platform=scanning.platform_offer(), scan=None, scan_note=_no_scan_reason(obs), matrix=args.matrix,
                 alpn=opts.alpn)
    if g.scan_note is not None:
        return g
    rtt = (times.server_hello - times.connect) if times.server_hello is not None and times.connect is not None else 0.1
    scan_opts = scanning.ScanOptions(
        server_name=sni, versions=() if args.matrix == "none" else scanning.SCAN_VERSIONS,
        enumerate_ciphers=args.matrix == "full",
        check_stapling=bool(args.require_ocsp_stapling) or args.matrix != "none",
        starttls=starttls, probe_timeout_s=min(5.0, max(1.0, 20 * rtt)),
        # Splitting trades probes for round trips: worth it unless the TCP connect was near-instant.
        split_above=scanning.SPLIT_ABOVE if (times.connect or 0.0) - (times.dns or 0.0) > 0.001 else None,
    )
    if not scan_opts.versions and not scan_opts.check_stapling:
        return replace(g, scan_note="not asked (--matrix none)")
    progress("version matrix" if scan_opts.versions else "OCSP stapling")
    return replace(g, scan=scanning.scan(target, scan_opts, deadline=end, clock=clock))


def phase_times(obs: HandshakeObservation, handshake_ok: bool, dns_s: Optional[float]) -> PhaseTimes:
    """The observation's marks as seconds from the start of the connection, DNS included.

    With ``dns_s`` (we resolved the name ourselves and connected to an address), the
    observation's own "dns" mark is the platform library's set-up and is taken out.
    ServerHello is when its first byte came (the observer collects its events late).
    """
    t = obs.timings
    offset = (t.dns or 0.0) if dns_s is not None else 0.0
    base = dns_s or 0.0

    def rel(x: Optional[float]) -> Optional[float]:
        return None if x is None else max(0.0, x - offset) + base

    sh = t.server_hello
    if sh is not None and t.first_byte is not None:
        sh = min(sh, t.first_byte)
    done = (t.flight_complete if t.flight_complete is not None else t.total) if handshake_ok else None
    return PhaseTimes(dns=dns_s if dns_s is not None else t.dns, connect=rel(t.connect), server_hello=rel(sh),
                      handshake=rel(done), total=rel(t.total), first_byte=rel(t.first_byte))


def _not_tls(obs: HandshakeObservation) -> bool:
    """The server's first bytes were not TLS."""
    return obs.outcome is Outcome.NOT_TLS


def _no_scan_reason(obs: HandshakeObservation) -> Optional[str]:
    """The matrix is pointless when the server cannot be reached or the deadline is spent."""
    if _not_tls(obs):
        return "not scanned: the server does not speak TLS"
    if obs.outcome in (Outcome.DNS, Outcome.REFUSED) or obs.phase in ("dns", "connect", "starttls"):
        return f"not scanned: {obs.outcome.value} ({obs.phase})"
    if obs.outcome is Outcome.TIMEOUT:
        return "not scanned: the handshake used up the time (-t)"
    return None


# --- nagiosplugin objects ------------------------------------------------------------------------------


class _Seconds(float):
    """A duration that prints in plain decimals (``0.000079``, not ``7.9e-05``) in perfdata."""

    def __str__(self) -> str:
        return f"{float(self):.6f}".rstrip("0").rstrip(".") or "0"

    def __format__(self, spec: str) -> str:
        return str(self) if not spec else float.__format__(self, spec)


def _seconds(ms: Optional[float]) -> Optional[str]:
    """Milliseconds as a threshold in seconds, in plain decimals (``0.25``, never ``2.5e-04``)."""
    if not ms:
        return None
    return f"{ms / 1000:.6f}".rstrip("0").rstrip(".") or "0"


class LatencyContext(nagiosplugin.ScalarContext):
    """Seconds, judged against -w/-c given in milliseconds; the hint words the time in ms."""

    def __init__(self, name: str, warning_ms: Optional[float], critical_ms: Optional[float]) -> None:
        super().__init__(name, warning=_seconds(warning_ms), critical=_seconds(critical_ms))
        self._limits = {2: critical_ms, 1: warning_ms}
        self._texts = (_seconds(warning_ms) or "", _seconds(critical_ms) or "")

    def performance(self, metric: Any, resource: Any) -> nagiosplugin.Performance:
        # The thresholds as given (in seconds, plain decimals), not as nagiosplugin reprints them (1e-05).
        return nagiosplugin.Performance(metric.name, metric.value, metric.uom, self._texts[0], self._texts[1],
                                        metric.min, metric.max)

    def evaluate(self, metric: Any, resource: Any) -> nagiosplugin.Result:
        result = super().evaluate(metric, resource)
        limit = self._limits.get(int(result.state))
        hint = f"handshake took {_ms(metric.value)}" + (f" (more than {limit:g} ms)" if limit else "")
        return nagiosplugin.Result(result.state, hint, metric)


class HandshakeResource(nagiosplugin.Resource):
    """Yields the metrics of one handshake check."""

    def __init__(self, args: argparse.Namespace, progress: Callable[[str], None],
                 gatherer: Callable[..., Gathered] = gather) -> None:
        self.args, self.progress, self._gather = args, progress, gatherer
        self.gathered: Optional[Gathered] = None

    @property
    def name(self) -> str:
        return "TLS_HANDSHAKE"

    def probe(self) -> Iterator[nagiosplugin.Metric]:
        a = self.args
        g = self.gathered = self._gather(a, self.progress)
        obs = g.health
        t = g.times
        for label, value, context in ((CONNECT_TIME, t.connect, "timing"),
                                      (SERVER_HELLO_TIME, t.server_hello, "timing"),
                                      (HANDSHAKE_TIME, t.handshake if g.handshake_ok else None, HANDSHAKE_TIME)):
            if value is not None:
                yield nagiosplugin.Metric(label, _Seconds(round(value, 6)), "s", min=0, context=context)
        if g.handshake_ok and obs.version in _NUMBER:
            yield nagiosplugin.Metric(TLS_VERSION, _NUMBER[obs.version], context=TLS_VERSION)
        yield nagiosplugin.Metric("handshake", health_findings(g), context=FINDINGS)
        scan = g.scan
        if scan is not None and scan.versions:
            yield nagiosplugin.Metric("versions", version_findings(scan, a), context=FINDINGS)
            yield nagiosplugin.Metric("ciphers", cipher_findings(scan, a), context=FINDINGS)
        yield nagiosplugin.Metric("renegotiation", renegotiation_findings(g), context=FINDINGS)
        yield nagiosplugin.Metric("alpn", alpn_findings(g, a.alpn), context=FINDINGS)
        yield nagiosplugin.Metric("ocsp_stapling", stapling_findings(g, a.require_ocsp_stapling), context=FINDINGS)
        yield nagiosplugin.Metric("matrix", completeness_findings(g), context=FINDINGS)

    # --- long output and JSON -----------------------------------------------------------------------

    def detail_lines(self, verbose: int) -> list[str]:
        g = self.gathered
        if g is None:
            return []
        obs = g.health
        lines = [f"handshake: {_health_line(g)}"]
        if g.scan is not None:
            for vs in g.scan.versions:
                lines.append(f"{short_version(vs.version)}: {_version_line(vs)}")
                if verbose and vs.enumerated:
                    lines.extend(f"    {_suite(s)}{_suite_flags(s)}" for s in vs.suites)
            if g.scan.ocsp_stapled is not None:
                lines.append(f"OCSP stapling: {'yes' if g.scan.ocsp_stapled else 'no'}")
            lines.append(f"matrix: {g.scan.probes} probes in {_ms(g.scan.elapsed_s)}")
        elif g.scan_note:
            lines.append(f"matrix: {g.scan_note}")
        if verbose >= 2:
            from ..outputs.ladder import ladder_lines

            lines.extend(ladder_lines(obs, times=True))
        return lines

    def facts(self) -> dict[str, Any]:
        g = self.gathered
        if g is None:
            return {}
        from ..outputs.ladder import to_dict

        handshake = to_dict(g.health)
        handshake.update(ok=g.handshake_ok, reached=reached(g.health, g.handshake_ok), verified=g.verified,
                         verify_message=g.verify_message, platform_error=g.ssl_error)
        handshake["phase_times"] = {k: (round(v, 6) if v is not None else None) for k, v in g.times.__dict__.items()}
        return {
            "target": g.target,
            "handshake": handshake,
            "platform": {"library": g.platform.library,
                         "versions": [short_version(v) for v in g.platform.versions],
                         "suites": [_suite(s) for s in g.platform.suites]},
            "matrix": _matrix_dict(g),
            "ocsp_stapled": g.scan.ocsp_stapled if g.scan is not None else None,
        }


def _health_line(g: Gathered) -> str:
    obs = g.health
    t = g.times
    if g.handshake_ok:
        bits = [short_version(obs.version) if obs.version else "?"]
        if obs.cipher_suite is not None:
            bits.append(_suite(obs.cipher_suite))
        if obs.group is not None:
            bits.append(describe(NamedGroup, obs.group))
        if obs.alpn:
            bits.append(f"ALPN={obs.alpn}")
        text = " ".join(bits)
    else:
        text = failure_text(g)
    marks = [(label, v) for label, v in (("connect", t.connect), ("ServerHello", t.server_hello),
                                         ("done", t.handshake)) if v is not None]
    if marks:
        text += "; " + ", ".join(f"{label} {_ms(v)}" for label, v in marks)
    return text


def _version_line(vs: VersionScan) -> str:
    if vs.accepted is None:
        return f"no answer ({vs.errors[0] if vs.errors else 'not probed'})"
    if not vs.accepted:
        return f"refused ({vs.refusal or 'no details'})"
    parts = []
    if vs.enumerated:
        parts.append(f"{len(vs.suites)} suite{'s' if len(vs.suites) != 1 else ''}")
        if vs.server_order:
            prefers = f", prefers {_suite(vs.preferred)}" if vs.preferred is not None else ""
            parts.append(f"server order{prefers}")
        elif vs.server_order is False:
            parts.append("client order")
    elif vs.suites:
        parts.append(f"accepted ({_suite(vs.suites[0])})")
    if vs.version < TLS13 and vs.secure_renegotiation is not None:
        parts.append("secure renegotiation" if vs.secure_renegotiation else "NO secure renegotiation")
    if not vs.complete:
        parts.append("incomplete")
    return ", ".join(parts) or "accepted"


def _suite_flags(code: int) -> str:
    flags = list(weak_labels(code))
    if not flags and not _forward_secret(code):
        flags.append("no forward secrecy")
    return f"  [{', '.join(flags)}]" if flags else ""


def _matrix_dict(g: Gathered) -> dict[str, Any]:
    scan = g.scan
    if scan is None:
        return {"mode": g.matrix, "scanned": False, "note": g.scan_note, "versions": []}
    versions = []
    for vs in scan.versions:
        versions.append({
            "version": short_version(vs.version),
            "accepted": vs.accepted,
            "suites": [{"name": _suite(s), "code": f"0x{s:04x}", "weak": list(weak_labels(s)),
                        "forward_secret": _forward_secret(s)} for s in vs.suites],
            "enumerated": vs.enumerated,
            "preferred": _suite(vs.preferred) if vs.preferred is not None else None,
            "server_order": vs.server_order,
            "secure_renegotiation": vs.secure_renegotiation,
            "extended_master_secret": vs.extended_master_secret,
            "refusal": vs.refusal,
            "errors": list(vs.errors),
            "complete": vs.complete,
            "probes": vs.probes,
        })
    return {"mode": g.matrix, "scanned": bool(scan.versions), "note": g.scan_note, "probes": scan.probes,
            "elapsed_s": round(scan.elapsed_s, 6), "cut_short": scan.cut_short, "versions": versions}


class HandshakeSummary(nagiosplugin.Summary):
    """``127.0.0.1:8443 TLS1.3 TLS_AES_256_GCM_SHA384 in 4.2 ms; versions TLS1.2, TLS1.3; ...``."""

    def __init__(self, resource: HandshakeResource) -> None:
        self.resource = resource

    def _target(self) -> str:
        g = self.resource.gathered
        if g is not None:
            return g.target
        a = self.resource.args
        return f"{a.host}:{a.port}"

    def ok(self, results: Any) -> str:
        g = self.resource.gathered
        if g is None:
            return self._target()
        parts = [h for h in (health_findings(g)[0].text,) if h]
        if g.scan is not None and g.scan.versions:
            accepted = [v for v in g.scan.versions if v.accepted]
            parts.append("versions " + (", ".join(short_version(v.version) for v in accepted) or "none"))
            top = accepted[-1] if accepted else None
            if top is not None and top.enumerated:
                if top.server_order and top.preferred is not None:
                    parts.append(f"server prefers {_suite(top.preferred)}")
                elif top.server_order is False:
                    parts.append("follows the client's suite order")
        return f"{self._target()} " + "; ".join(parts)

    def problem(self, results: Any) -> str:
        return f"{self._target()} " + "; ".join(problem_hints(results))


def build_check(args: argparse.Namespace, progress: Callable[[str], None],
                gatherer: Callable[..., Gathered] = gather) -> nagiosplugin.Check:
    """The check for parsed ``args`` (see ``check_tls_handshake --help``)."""
    resource = HandshakeResource(args, progress, gatherer)
    check = nagiosplugin.Check(
        resource,
        nagiosplugin.ScalarContext("timing"),
        LatencyContext(HANDSHAKE_TIME, args.warning, args.critical),
        nagiosplugin.ScalarContext(TLS_VERSION),
        FindingContext(FINDINGS),
        HandshakeSummary(resource),
    )
    check.name = "TLS_HANDSHAKE"
    return check


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
