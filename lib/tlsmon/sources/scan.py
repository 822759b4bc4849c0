"""Protocol version and cipher suite enumeration with the codec's own ClientHello.

Nothing here depends on what the local OpenSSL is willing to offer: every probe is a
ClientHello built by the codec for one version (SSL 3.0 ... TLS 1.3) with a chosen suite
list, and a probe ends as soon as the ServerHello is read. A version is accepted when the
server answers a hello offering only that version with a ServerHello of that version.

Enumeration offers every suite the version can use (common suites first, in chunks of at
most ``MAX_SUITES_PER_HELLO``: some servers break on very long hellos), and removes the
suite the server picked until the server refuses. Probes run concurrently on a small
thread pool, all under one deadline and a probe budget. The preferred suite comes from
offering the accepted suites in forward and in reverse order: the same answer means the
server enforces its own order. No evaluation here.
"""

from __future__ import annotations

import os
import socket
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Deque, Optional, Sequence

from ..codec import extensions as ext
from ..codec.constants import CipherSuite, suite_traits
from ..codec.hello import (
    DEFAULT_TLS12_SUITES,
    SSL3,
    TLS10,
    TLS11,
    TLS12,
    TLS13,
    HelloOptions,
    build_client_hello_message,
)
from ..codec.messages import build_handshake
from ..frozen import frozen
from ..observations import HandshakeObservation, Outcome
from .assemble import alert_name
from .probe import ProbeTarget, probe

__all__ = [
    "SCAN_VERSIONS",
    "MAX_SUITES_PER_HELLO",
    "SPLIT_ABOVE",
    "ScanOptions",
    "VersionScan",
    "ScanResult",
    "PlatformOffer",
    "platform_offer",
    "suites_for",
    "scan",
]

SCAN_VERSIONS: tuple[int, ...] = (SSL3, TLS10, TLS11, TLS12, TLS13)
MAX_SUITES_PER_HELLO = 128
# After an answer, a remaining list longer than this is split in two and probed in parallel: one
# more probe per split, but half the round trips in a row (what counts against a distant server).
SPLIT_ABOVE = 24
# The TLS 1.3 suites the codec can run the key schedule for (RFC 8446 §B.4).
TLS13_SCAN_SUITES: tuple[int, ...] = (0x1301, 0x1302, 0x1303, 0x1304, 0x1305)
_PROTOCOL_VERSION_ALERT = 70
_ABSENT_SUITES = frozenset({0x00FF, 0x5600})  # the SCSVs: signals, not suites
_GRACE_S = 0.1


@frozen
class ScanOptions:
    """What to scan and within which bounds.

    Attributes:
        server_name: SNI for every probe (None: none).
        versions: the versions to probe, raw (``SCAN_VERSIONS`` by default).
        enumerate_ciphers: enumerate the accepted suites of each accepted version; False
            gives the version matrix alone (one probe per version, usually).
        check_stapling: also read one full server flight asking for a stapled OCSP response.
        starttls: protocol to upgrade every connection with first (smtp, imap, ...).
        workers: concurrent probes.
        probe_timeout_s: bound of one probe (the overall deadline bounds it too).
        max_probes: the most probes one scan may send; past it the scan is incomplete.
        split_above: after an answer, split a remaining list longer than this in two, probed in
            parallel (more probes, fewer round trips in a row); None never splits (best when
            round trips cost little, e.g. on loopback).
    """

    server_name: Optional[str] = None
    versions: tuple[int, ...] = SCAN_VERSIONS
    enumerate_ciphers: bool = True
    check_stapling: bool = True
    starttls: Optional[str] = None
    workers: int = 10
    probe_timeout_s: float = 3.0
    max_probes: int = 400
    split_above: Optional[int] = SPLIT_ABOVE


@frozen
class VersionScan:
    """What the server said to hellos offering one version.

    Attributes:
        version: raw version (0x0300 ... 0x0304).
        accepted: the server answered with a ServerHello of this version; None when we could
            not tell (probes timed out or the budget ran out before any answer).
        suites: accepted suites (raw): the preferred one first, then in our offering order.
        preferred: the suite the server picks among its accepted suites whatever the order
            we offer them in; None when it follows our order or has one suite only.
        server_order: True when the server enforces its own order, False when it follows the
            client's, None when that cannot be told (fewer than two suites).
        secure_renegotiation: the ServerHello carried renegotiation_info (RFC 5746; None for TLS 1.3).
        extended_master_secret: the ServerHello acknowledged EMS (RFC 7627; None for TLS 1.3).
        refusal: how the server refused the version (the first probe's failure), when it did.
        errors: probes that failed in another way (timeouts, resets), one line each.
        complete: the enumeration ran to its end (not cut by the deadline, the budget or errors).
        probes: probes sent for this version.
        enumerated: the suites were enumerated (else ``suites`` holds the first one found only).
    """

    version: int
    accepted: Optional[bool]
    suites: tuple[int, ...] = ()
    preferred: Optional[int] = None
    server_order: Optional[bool] = None
    secure_renegotiation: Optional[bool] = None
    extended_master_secret: Optional[bool] = None
    refusal: Optional[str] = None
    errors: tuple[str, ...] = ()
    complete: bool = True
    probes: int = 0
    enumerated: bool = False


@frozen
class ScanResult:
    """A finished scan.

    Attributes:
        versions: one entry per probed version, lowest first.
        ocsp_stapled: a full flight asking for status_request carried an OCSP response;
            None when not checked or that probe failed.
        stapling_error: why the stapling probe failed, if it did.
        probes: probes sent in all.
        elapsed_s: wall time of the scan.
        cut_short: the deadline or the probe budget ended the scan early.
    """

    versions: tuple[VersionScan, ...]
    ocsp_stapled: Optional[bool] = None
    stapling_error: Optional[str] = None
    probes: int = 0
    elapsed_s: float = 0.0
    cut_short: bool = False

    def get(self, version: int) -> Optional[VersionScan]:
        return next((v for v in self.versions if v.version == version), None)

    @property
    def accepted_versions(self) -> tuple[int, ...]:
        return tuple(v.version for v in self.versions if v.accepted)


@frozen
class PlatformOffer:
    """What the platform TLS library (Python's ``ssl``, OpenSSL) offers in its default ClientHello.

    Attributes:
        versions: raw versions it may negotiate.
        suites: raw cipher suites, in its order (TLS 1.3 suites included).
        library: e.g. ``OpenSSL 3.0.19 27 Jan 2026``.
    """

    versions: tuple[int, ...]
    suites: tuple[int, ...]
    library: str = ""


_SSL_VERSIONS = {
    ssl.TLSVersion.SSLv3: SSL3, ssl.TLSVersion.TLSv1: TLS10, ssl.TLSVersion.TLSv1_1: TLS11,
    ssl.TLSVersion.TLSv1_2: TLS12, ssl.TLSVersion.TLSv1_3: TLS13,
}


def platform_offer() -> PlatformOffer:
    """The versions and suites a default client context of the platform library offers."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    lo = _SSL_VERSIONS.get(ctx.minimum_version, SSL3)
    hi = _SSL_VERSIONS.get(ctx.maximum_version, TLS13 if ssl.HAS_TLSv1_3 else TLS12)
    versions = tuple(v for v in SCAN_VERSIONS if lo <= v <= hi and (v != SSL3 or ssl.HAS_SSLv3))
    suites = tuple(int(c["id"]) & 0xFFFF for c in ctx.get_ciphers())
    return PlatformOffer(versions, suites, ssl.OPENSSL_VERSION)


def _usable_before_tls12(code: int) -> bool:
    """SSL 3.0 - TLS 1.1 suites: no AEAD, no SHA-2 MAC (except the PSK ones, RFC 5487), no GOST."""
    t = suite_traits(code)
    if t is None or t.mac == "AEAD":
        return False
    if t.mac in ("SHA256", "SHA384"):
        return t.authentication == "PSK"
    return t.mac in ("SHA", "MD5", "NULL")


def suites_for(version: int) -> tuple[int, ...]:
    """Every suite a hello for ``version`` offers, the ones common servers pick first."""
    if version == TLS13:
        return TLS13_SCAN_SUITES
    eligible = []
    for suite in CipherSuite:
        t = suite_traits(suite.value)
        if t is None or t.is_tls13 or t.is_scsv or suite.value in _ABSENT_SUITES:
            continue
        if version < TLS12 and not _usable_before_tls12(suite.value):
            continue
        eligible.append(suite.value)
    common = [s for s in DEFAULT_TLS12_SUITES if s in eligible]
    return tuple(common + sorted(s for s in eligible if s not in common))


def _chunks(suites: Sequence[int], size: int = MAX_SUITES_PER_HELLO) -> list[tuple[int, ...]]:
    n = max(1, -(-len(suites) // size))
    step = -(-len(suites) // n)
    return [tuple(suites[i : i + step]) for i in range(0, len(suites), step)]


_PADDING_CACHE: dict[tuple, tuple] = {}
_PADDING_LOCK = threading.Lock()


def _hello_options(version: int, suites: tuple[int, ...], server_name: Optional[str],
                   status_request: bool = False) -> HelloOptions:
    """Hello options for one probe, padded (RFC 7685) out of the 256-511 byte range some servers choke on."""
    opts = HelloOptions(versions=(version,), cipher_suites=suites, server_name=server_name,
                        status_request=status_request)
    if version <= SSL3:
        return opts  # no extensions in an SSL 3.0 hello
    key = (version, len(suites), server_name, status_request)
    with _PADDING_LOCK:
        extra = _PADDING_CACHE.get(key)
    if extra is None:
        shares = [ext.KeyShareEntry(29, bytes(32))] if version == TLS13 else []
        size = len(build_handshake(build_client_hello_message(opts, bytes(32), bytes(32), shares)))
        extra = ()
        if 0xFF < size < 0x200:  # as BoringSSL and NSS do: pad to 512 bytes
            pad = 0x200 - size
            pad = pad - 4 if pad >= 5 else 1
            extra = (ext.Extension(21, bytes(pad)),)  # RFC 7685 padding
        with _PADDING_LOCK:
            _PADDING_CACHE[key] = extra
    return HelloOptions(versions=(version,), cipher_suites=suites, server_name=server_name,
                        status_request=status_request, extra_extensions=extra) if extra else opts


# --- the scheduler ---------------------------------------------------------------------------------

Job = Callable[[], Sequence["Job"]]


class _Pool:
    """Worker threads draining a queue of probe jobs; a job may return follow-up jobs."""

    def __init__(self, workers: int, deadline: float, clock: Callable[[], float]) -> None:
        self._jobs: Deque[Job] = deque()
        self._cond = threading.Condition()
        self._pending = 0
        self._workers = max(1, workers)
        self._deadline = deadline
        self._clock = clock
        self.failure: Optional[BaseException] = None

    def submit(self, jobs: Sequence[Job]) -> None:
        with self._cond:
            self._jobs.extend(jobs)
            self._pending += len(jobs)
            self._cond.notify_all()

    def run(self) -> bool:
        """Run until no job is left, or the deadline; True when every job ran."""
        threads = [threading.Thread(target=self._work, name=f"scan-{i}", daemon=True) for i in range(self._workers)]
        for t in threads:
            t.start()
        with self._cond:
            while self._pending:
                # A little grace: probes end at the deadline too, and their answers are still wanted.
                remaining = self._deadline + _GRACE_S - self._clock()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            done = self._pending == 0
            self._pending = -1  # tells the workers to leave
            self._cond.notify_all()
        return done

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._jobs and self._pending > 0:
                    self._cond.wait()
                if self._pending <= 0:
                    return
                job = self._jobs.popleft()
            follow: Sequence[Job] = ()
            try:
                follow = job()
            except Exception as exc:  # noqa: BLE001 - a bug in a job: handed to the caller, not printed
                with self._cond:
                    self.failure = self.failure or exc
            finally:
                with self._cond:
                    if self._pending > 0:
                        self._jobs.extend(follow)
                        self._pending += len(follow) - 1
                    self._cond.notify_all()


@dataclass
class _VersionRun:
    """Mutable bookkeeping of one version's probes (guarded by ``lock``)."""

    version: int
    chunks: list[tuple[int, ...]]
    lock: threading.Lock = field(default_factory=threading.Lock)
    found: list[int] = field(default_factory=list)
    hello: Optional[HandshakeObservation] = None
    refusal: Optional[str] = None
    refused_version: bool = False
    errors: list[str] = field(default_factory=list)
    complete: bool = True
    probes: int = 0
    outstanding: int = 1
    order: dict[str, int] = field(default_factory=dict)

    def freeze(self, enumerated: bool) -> VersionScan:
        accepted: Optional[bool] = bool(self.found)
        if not self.found and (self.errors or not self.complete) and not self.refused_version:
            accepted = None  # no answer we can read: we cannot tell
        offering = {s: i for i, s in enumerate(suites_for(self.version))}
        forward, reverse = self.order.get("forward"), self.order.get("reverse")
        preferred: Optional[int] = None
        server_order: Optional[bool] = None
        if len(self.found) == 1:
            preferred = self.found[0]
        elif forward is not None and reverse is not None:
            server_order = forward == reverse
            preferred = forward if server_order else None
        rest = sorted((s for s in self.found if s != preferred), key=lambda s: offering.get(s, 1 << 20))
        suites = ((preferred,) if preferred is not None else ()) + tuple(rest)
        hello = self.hello
        return VersionScan(
            version=self.version,
            accepted=accepted,
            suites=suites,
            preferred=preferred,
            server_order=server_order,
            secure_renegotiation=hello.secure_renegotiation if hello is not None else None,
            extended_master_secret=hello.extended_master_secret if hello is not None else None,
            refusal=self.refusal if not self.found else None,
            errors=tuple(self.errors),
            complete=self.complete,
            probes=self.probes,
            enumerated=enumerated and bool(self.found),
        )


class _Scanner:
    def __init__(self, target: ProbeTarget, opts: ScanOptions, deadline: float, clock: Callable[[], float],
                 rng: Callable[[int], bytes]) -> None:
        self.target, self.opts, self.deadline, self.clock, self.rng = target, opts, deadline, clock, rng
        self._lock = threading.Lock()
        self.probes = 0
        self.budget_exhausted = False
        self.stapled: Optional[bool] = None
        self.stapling_error: Optional[str] = None

    # --- one probe --------------------------------------------------------------------------------

    def _probe(self, run: Optional[_VersionRun], hello: HelloOptions, *, full: bool = False) \
            -> Optional[HandshakeObservation]:
        if self.deadline - self.clock() <= 0:
            return None
        with self._lock:
            if self.probes >= self.opts.max_probes:
                self.budget_exhausted = True
                return None
            self.probes += 1
        if run is not None:
            with run.lock:
                run.probes += 1
        return probe(self.target, hello, deadline=min(self.deadline, self.clock() + self.opts.probe_timeout_s),
                     clock=self.clock, rng=self.rng, stop_after_server_hello=not full, starttls=self.opts.starttls)

    def _hello(self, version: int, suites: tuple[int, ...]) -> HelloOptions:
        return _hello_options(version, suites, self.opts.server_name)

    # --- jobs -------------------------------------------------------------------------------------

    def discover(self, run: _VersionRun, suites: tuple[int, ...], rest: Sequence[tuple[int, ...]] = ()) -> Job:
        """A job: offer ``suites``; on an answer, go on without the suite picked."""

        def job() -> Sequence[Job]:
            obs = self._probe(run, self._hello(run.version, suites))
            follow: list[Job] = []
            with run.lock:
                if obs is None:
                    run.complete = False
                elif obs.outcome is Outcome.COMPLETED and obs.version == run.version and obs.cipher_suite in suites:
                    picked = obs.cipher_suite
                    run.found.append(picked)
                    run.hello = run.hello or obs
                    if self.opts.enumerate_ciphers:
                        remaining = tuple(s for s in suites if s != picked)
                        split = self.opts.split_above
                        if split is not None and len(remaining) > split:
                            # Two halves in parallel, interleaved: accepted suites cluster near the front.
                            follow += [self.discover(run, remaining[0::2]), self.discover(run, remaining[1::2])]
                        elif remaining:
                            follow.append(self.discover(run, remaining))
                        follow.extend(self.discover(run, chunk) for chunk in rest)
                elif _refuses_version(obs):
                    run.refused_version = True
                    run.refusal = run.refusal or _reason(obs)
                elif _refuses(obs):
                    run.refusal = run.refusal or _reason(obs)
                    if rest and self.opts.enumerate_ciphers:
                        follow.extend(self.discover(run, chunk) for chunk in rest)
                    elif rest:  # version matrix alone: the next chunk may hold what it accepts
                        follow.append(self.discover(run, rest[0], rest[1:]))
                else:
                    run.errors.append(_reason(obs))
                    run.complete = False
                run.outstanding += len(follow) - 1
                last = run.outstanding == 0
            if last:
                follow.extend(self._after_discovery(run))
            return follow

        return job

    def _after_discovery(self, run: _VersionRun) -> list[Job]:
        if not self.opts.enumerate_ciphers or len(run.found) < 2:
            return []
        offered = tuple(sorted(run.found, key=suites_for(run.version).index))
        return [self._order(run, "forward", offered), self._order(run, "reverse", offered[::-1])]

    def _order(self, run: _VersionRun, name: str, suites: tuple[int, ...]) -> Job:
        def job() -> Sequence[Job]:
            obs = self._probe(run, self._hello(run.version, suites))
            with run.lock:
                if obs is not None and obs.outcome is Outcome.COMPLETED and obs.cipher_suite in suites:
                    run.order[name] = obs.cipher_suite
                elif obs is not None:
                    run.errors.append(f"{name} order probe: {_reason(obs)}")
            return ()

        return job

    def stapling(self) -> Job:
        def job() -> Sequence[Job]:
            hello = HelloOptions(versions=(TLS13, TLS12), server_name=self.opts.server_name, status_request=True)
            obs = self._probe(None, hello, full=True)
            if obs is None:
                self.stapling_error = "not probed (deadline or probe budget)"
            elif obs.outcome is Outcome.COMPLETED:
                self.stapled = obs.ocsp_response is not None
            else:
                self.stapling_error = _reason(obs)
            return ()

        return job


def _refuses_version(obs: HandshakeObservation) -> bool:
    return obs.outcome is Outcome.ALERT and obs.alert is not None and obs.alert.description == _PROTOCOL_VERSION_ALERT


def _refuses(obs: HandshakeObservation) -> bool:
    """An answer that says no: an alert, a close, a reset, or a ServerHello for something not offered."""
    return obs.outcome in (Outcome.ALERT, Outcome.CLOSED, Outcome.RESET, Outcome.PROTOCOL_ERROR)


def _reason(obs: HandshakeObservation) -> str:
    """``alert protocol_version(70)``, ``closed``, ``timeout: timed out waiting for ServerHello`` ..."""
    if obs.outcome is Outcome.ALERT and obs.alert is not None:
        return f"alert {alert_name(obs.alert.description)}"
    if obs.outcome is Outcome.CLOSED:
        return "closed without an alert"
    return f"{obs.outcome.value}: {obs.error or 'no details'}"


def scan(
    target: ProbeTarget,
    opts: Optional[ScanOptions] = None,
    *,
    timeout_s: float = 10.0,
    deadline: Optional[float] = None,
    clock: Callable[[], float] = time.monotonic,
    rng: Callable[[int], bytes] = os.urandom,
) -> ScanResult:
    """Probe every version in ``opts.versions`` and, if asked, enumerate its suites.

    Args:
        target: where to connect; give an address (resolved once by the caller) to avoid a
            name lookup per probe.
        opts: what to scan, concurrency and bounds.
        timeout_s: bound for the whole scan, unless ``deadline`` is given.
        deadline: absolute ``clock()`` time by which the scan ends.
        clock: monotonic clock (seconds).
        rng: randomness for the hellos.

    Returns:
        The result; probes that failed are described in it, never raised.
    """
    opts = opts if opts is not None else ScanOptions()
    start = clock()
    end = deadline if deadline is not None else start + timeout_s
    scanner = _Scanner(target, opts, end, clock, rng)
    runs = [_VersionRun(v, _chunks(suites_for(v))) for v in sorted(opts.versions)]
    pool = _Pool(opts.workers, end, clock)
    jobs: list[Job] = [scanner.discover(run, run.chunks[0], run.chunks[1:]) for run in runs]
    if opts.check_stapling:
        jobs.append(scanner.stapling())
    pool.submit(jobs)
    finished = pool.run()
    if pool.failure is not None:
        raise pool.failure
    versions = []
    for run in runs:
        with run.lock:
            if not finished:
                run.complete = run.complete and run.outstanding == 0
            if scanner.budget_exhausted and run.outstanding:
                run.complete = False
            versions.append(run.freeze(opts.enumerate_ciphers))
    return ScanResult(
        versions=tuple(versions),
        ocsp_stapled=scanner.stapled,
        stapling_error=scanner.stapling_error,
        probes=scanner.probes,
        elapsed_s=clock() - start,
        cut_short=not finished or scanner.budget_exhausted,
    )


def resolve_once(target: ProbeTarget, deadline: float, clock: Callable[[], float] = time.monotonic) -> ProbeTarget:
    """The target with its first address in place of a name, so that probes skip DNS.

    Raises:
        net.Failure: the name does not resolve within the deadline.
    """
    from . import net

    addrs = net.resolve(target.host, target.port, target.family, deadline, clock)
    fam, _type, _proto, _canon, sockaddr = addrs[0]
    return ProbeTarget(str(sockaddr[0]), target.port, socket.AF_INET6 if fam == socket.AF_INET6 else socket.AF_INET)
