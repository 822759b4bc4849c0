"""check_tls_cert: the certificate chain of a live endpoint or a file, evaluated.

``CertificateResource`` gathers (one platform handshake, observed by the codec, or a
file), then yields metrics; the pure ``*_findings`` functions decide what is wrong;
``CertSummary`` words the status line. ``now`` is explicit.
"""

from __future__ import annotations

import argparse
from dataclasses import field
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, Optional

import nagiosplugin

from .. import certchecks as cc
from ..cli.options import family_of, read_secret
from ..errors import UsageError
from ..frozen import frozen
from ..observations import CertificateFacts, HandshakeObservation, Outcome
from .contexts import CRITICAL, OK, UNKNOWN, WARNING, ExpiryContext, Finding, FindingContext, problem_hints

__all__ = ["CertificateResource", "CertSummary", "build_check", "Gathered", "OCSP_PURPOSE"]

OCSP_PURPOSE = "1.3.6.1.5.5.7.3.9"
# OpenSSL X509_V_ERR_* codes the status line words in an operator's terms.
_SELF_SIGNED = {18, 19}  # DEPTH_ZERO_SELF_SIGNED_CERT, SELF_SIGNED_CERT_IN_CHAIN
_NO_ISSUER = {2, 20, 21}  # UNABLE_TO_GET_ISSUER_CERT(_LOCALLY), UNABLE_TO_VERIFY_LEAF_SIGNATURE


@frozen
class Gathered:
    """What the resource found before any evaluation."""

    target: str
    chain: tuple[CertificateFacts, ...]
    observation: Optional[HandshakeObservation] = None
    verified: Optional[bool] = None
    verify_code: Optional[int] = None
    verify_message: Optional[str] = None
    client_auth: str = "none"  # none | requested | required | rejected | accepted
    client_auth_detail: str = ""
    revocation: tuple[Any, ...] = ()
    stapled: Optional[bool] = None
    from_file: bool = False
    notes: tuple[str, ...] = field(default=())


def _when(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M UTC")


def _days(days: float) -> str:
    return f"{days:.1f}" if abs(days) < 100 else f"{days:.0f}"


def short_name(facts: CertificateFacts) -> str:
    """``CN=www.example.org`` when there is a CN, else the whole subject (RFC 4514)."""
    if facts.common_name:
        return f"CN={facts.common_name}"
    return facts.subject or "(empty subject)"


def expiry_text(facts: CertificateFacts, index: int, now: datetime) -> str:
    """``CN=localhost expires in 9.8 days (2026-12-14 10:00 UTC)``; chain elements after the first are named."""
    who = short_name(facts)
    if index > 1:
        who += f" (chain element {index})"
    days = cc.days_left(facts, now)
    if days < 0:
        return f"{who} expired {_days(-days)} days ago ({_when(facts.not_after)})"
    return f"{who} expires in {_days(days)} days ({_when(facts.not_after)})"


# --- pure findings ---------------------------------------------------------------------------------


def trust_findings(g: Gathered, allow_self_signed: bool) -> tuple[Finding, ...]:
    if g.from_file or g.verified is None:
        return ()
    if g.verified:
        return (Finding(OK, "chain trusted"),)
    code, msg = g.verify_code, g.verify_message or "verification failed"
    if code in _SELF_SIGNED:
        if allow_self_signed:
            return (Finding(OK, f"self-signed certificate accepted (-s): {msg}"),)
        return (Finding(CRITICAL, f"untrusted: {msg}"),)
    if code in _NO_ISSUER and g.chain and len(g.chain) == 1 and not g.chain[0].self_issued:
        return (Finding(CRITICAL, f"incomplete chain: the server sent no intermediate certificate ({msg})"),)
    if code in _NO_ISSUER:
        return (Finding(CRITICAL, f"untrusted: {msg} (issuer {g.chain[-1].issuer if g.chain else '?'})"),)
    return (Finding(CRITICAL, f"untrusted: {msg}"),)


def name_findings(leaf: CertificateFacts, names: list[str], require_san: bool) -> tuple[Finding, ...]:
    out = []
    for name in names:
        if not cc.hostname_matches(leaf, name):
            alt = ", ".join((*leaf.dns_names, *leaf.ip_addresses)) or f"CN={leaf.common_name}"
            out.append(Finding(CRITICAL, f"{name} does not match the certificate ({alt})"))
    if require_san and not (leaf.dns_names or leaf.ip_addresses):
        out.append(Finding(CRITICAL, "the certificate has no subjectAltName"))
    return tuple(out)


def algorithm_findings(chain: tuple[CertificateFacts, ...], ignore_sig_alg: bool) -> tuple[Finding, ...]:
    out = []
    for i, facts in enumerate(chain, 1):
        who = short_name(facts) if i == 1 else f"{short_name(facts)} (chain element {i})"
        weak = cc.weak_signature(facts)
        # A self-signed root's own signature is never checked by anyone: skip it.
        if weak and not ignore_sig_alg and not (facts.self_issued and i > 1):
            out.append(Finding(CRITICAL, f"{who} is signed with {weak.upper()}"))
        key = cc.weak_key(facts)
        if key:
            out.append(Finding(WARNING, f"{who} has a weak key ({key})"))
    return tuple(out)


def validity_findings(leaf: CertificateFacts, now: datetime, maximum_days: Optional[float],
                      check_eku: bool) -> tuple[Finding, ...]:
    out = []
    if cc.not_yet_valid(leaf, now):
        out.append(Finding(CRITICAL, f"{short_name(leaf)} is not valid before {_when(leaf.not_before)}"))
    if maximum_days is not None and cc.validity_days(leaf) > maximum_days:
        out.append(Finding(CRITICAL, f"validity of {cc.validity_days(leaf):.0f} days is longer than the maximum "
                                     f"{maximum_days:g}"))
    if check_eku and not cc.has_server_auth(leaf):
        out.append(Finding(CRITICAL, "the certificate is not for TLS servers (no serverAuth extended key usage)"))
    return tuple(out)


def pattern_findings(leaf: CertificateFacts, args: argparse.Namespace) -> tuple[Finding, ...]:
    out = []
    if args.issuer and not cc.matches_pattern(leaf.issuer, args.issuer):
        out.append(Finding(CRITICAL, f"issuer {leaf.issuer} does not match {args.issuer!r}"))
    if args.org and not cc.matches_pattern(cc.organization(leaf), args.org):
        out.append(Finding(CRITICAL, f"organization {cc.organization(leaf)!r} does not match {args.org!r}"))
    if args.serial and not cc.matches_pattern(leaf.serial, args.serial.replace(":", "")):
        out.append(Finding(CRITICAL, f"serial {leaf.serial} does not match {args.serial!r}"))
    if args.fingerprint and not cc.fingerprint_matches(leaf, args.fingerprint):
        out.append(Finding(CRITICAL, f"fingerprint SHA-256 {leaf.sha256} does not match {args.fingerprint!r}"))
    return tuple(out)


def revocation_findings(g: Gathered, errors_state: int, require_stapling: bool) -> tuple[Finding, ...]:
    out = []
    for r in g.revocation:
        where = f"{r.method.upper()} ({r.url})"
        if r.status == "revoked":
            when = f" on {_when(r.revoked_at)}" if r.revoked_at else ""
            reason = f", reason {r.reason}" if r.reason else ""
            out.append(Finding(CRITICAL, f"certificate revoked{when}{reason} according to {where}"))
        elif r.status == "unknown":
            out.append(Finding(WARNING, f"{where} does not know the certificate"))
        elif r.status == "error":
            out.append(Finding(errors_state, f"{where} check failed: {r.reason}"))
        else:
            out.append(Finding(OK, f"{r.method.upper()}: good"))
    if require_stapling and not g.stapled:
        out.append(Finding(CRITICAL, "the server staples no OCSP response"))
    return tuple(out)


def client_auth_findings(g: Gathered, have_client_cert: bool) -> tuple[Finding, ...]:
    if g.client_auth == "required":
        return (Finding(OK, "client certificate required by the server"),)
    if g.client_auth == "rejected":
        state = CRITICAL if have_client_cert else OK
        return (Finding(state, f"the server rejected our client certificate: {g.client_auth_detail}"),)
    return ()


def connection_findings(g: Gathered) -> tuple[Finding, ...]:
    obs = g.observation
    if obs is None or g.chain:
        return ()
    if obs.outcome is Outcome.COMPLETED:
        return (Finding(CRITICAL, "the server sent no certificate"),)
    return (Finding(CRITICAL, f"{obs.outcome.value} ({obs.phase}): {obs.error}"),)


# --- gathering --------------------------------------------------------------------------------------




def gather(args: argparse.Namespace, now: datetime, progress: Callable[[str], None]) -> Gathered:
    """Read the chain (file or live) and everything evaluations need; no evaluation here."""
    from ..sources.assemble import chain_facts

    if args.file:
        from ..sources.certfile import read_certificate_file

        progress("read file")
        password = read_secret(args.clientpass_file, "TLSMON_CLIENTPASS")
        chain = chain_facts(read_certificate_file(args.file, password))
        return Gathered(args.file, chain, from_file=True, notes=("trust is not checked for files",))
    from ..sources.net import ProbeTarget, default_sni
    from ..sources.tlsclient import ClientCredentials, TlsClientOptions, connect_tls

    host = args.host
    sni = default_sni(host, args.sni)
    client = None
    identity = None
    if args.clientcert:
        from ..sources.credentials import load_client_credentials

        # Checked before any traffic: a wrong password or mismatching key is UNKNOWN, never a prompt.
        identity = load_client_credentials(args.clientcert, args.clientkey,
                                           read_secret(args.clientpass_file, "TLSMON_CLIENTPASS"))
        client = ClientCredentials(identity.cert_path, identity.key_path, identity.password)
    opts = TlsClientOptions(server_name=sni, rootcert=args.rootcert, client=client,
                            starttls=args.protocol if args.protocol not in (None, "https", "tls") else None,
                            read_after_s=0.5, ignore_time=True)
    progress("TLS handshake")
    target = ProbeTarget(host, args.port, family_of(args))
    try:
        result = connect_tls(target, opts, timeout_s=args.deadline_left(), now=now)
    except (OSError, ValueError) as exc:  # local problems: an unreadable or bad CA file
        raise UsageError(f"cannot set up TLS: {getattr(exc, 'strerror', None) or exc}") from None
    finally:
        if identity is not None:
            identity.close()
    obs, verdict = result.observation, result.verdict
    client_auth, detail = "none", ""
    if obs.certificate_request is not None:
        client_auth = "requested"
        if obs.alert is not None and obs.alert.level == 2:
            client_auth = "rejected" if client else "required"
            detail = f"alert {obs.error}" if obs.error else ""
    stapled = None
    if args.require_ocsp_stapling:
        stapled = _stapled(args, target, sni)
    g = Gathered(
        str(obs.server), obs.certificates, obs, verdict.verified, verdict.verify_code, verdict.verify_message,
        client_auth, detail, stapled=stapled,
    )
    return _with_revocation(g, args, now, progress)


def _isdir(path: str) -> bool:
    import os

    return os.path.isdir(path)


def _stapled(args: argparse.Namespace, target: Any, sni: Optional[str]) -> bool:
    """Python's ssl cannot ask for a staple: one codec probe with status_request does."""
    from ..codec.hello import HelloOptions
    from ..sources.probe import probe

    obs = probe(target, HelloOptions(server_name=sni, status_request=True), timeout_s=args.deadline_left())
    return obs.ocsp_response is not None


def _with_revocation(g: Gathered, args: argparse.Namespace, now: datetime,
                     progress: Callable[[str], None]) -> Gathered:
    if len(g.chain) < 2 or args.ignore_ocsp and not args.crl:
        return g
    leaf, issuer = g.chain[0], g.chain[1]
    results = []
    budget = min(args.ocsp_timeout, max(0.1, args.deadline_left() - 0.2))
    from ..errors import RevocationError

    if not args.ignore_ocsp and leaf.ocsp_urls:
        from ..sources.revocation import RevocationFacts, check_ocsp

        progress("OCSP")
        try:
            results.append(check_ocsp(leaf.der, issuer.der, timeout_s=budget, family=family_of(args), now=now,
                                      ca_file=args.rootcert if args.rootcert and not _isdir(args.rootcert) else None))
        except RevocationError as exc:  # nothing could be asked (e.g. the server's chain is out of order)
            results.append(RevocationFacts("ocsp", "error", leaf.ocsp_urls[0], str(exc), None, None, None, None))
    if args.crl and leaf.crl_urls:
        from ..sources.revocation import RevocationFacts, check_crl

        progress("CRL")
        budget = min(args.ocsp_timeout, max(0.1, args.deadline_left() - 0.2))
        try:
            results.append(check_crl(leaf.der, issuer.der, timeout_s=budget, family=family_of(args), now=now))
        except RevocationError as exc:
            results.append(RevocationFacts("crl", "error", leaf.crl_urls[0], str(exc), None, None, None, None))
    return Gathered(**{**g.__dict__, "revocation": tuple(results)})


# --- nagiosplugin objects ------------------------------------------------------------------------------


class CertificateResource(nagiosplugin.Resource):
    """Yields the metrics of one certificate check."""

    def __init__(self, args: argparse.Namespace, now: datetime, progress: Callable[[str], None]) -> None:
        self.args, self.now, self.progress = args, now, progress
        self.gathered: Optional[Gathered] = None

    @property
    def name(self) -> str:
        return "TLS_CERT"

    def _names(self) -> list[str]:
        a = self.args
        if a.match:
            return list(a.match)
        if a.file:
            return []
        return [a.sni or a.host]

    def probe(self) -> Iterator[nagiosplugin.Metric]:
        a = self.args
        g = self.gathered = gather(a, self.now, self.progress)
        conn = connection_findings(g)
        if conn:
            yield nagiosplugin.Metric("connection", conn, context="findings")
            return
        chain = g.chain[:1] if a.first_element_only else g.chain
        leaf = g.chain[0]
        worst = None
        for i, facts in enumerate(chain, 1):
            days = round(cc.days_left(facts, self.now), 2)
            worst = days if worst is None else min(worst, days)
            yield nagiosplugin.Metric(f"days_chain_elem{i}", days, context="expiry")
        yield nagiosplugin.Metric("days_left", worst, context="days_left")
        yield nagiosplugin.Metric("trust", trust_findings(g, a.selfsigned), context="findings")
        yield nagiosplugin.Metric("hostname", name_findings(leaf, self._names(), a.require_san), context="findings")
        yield nagiosplugin.Metric("algorithms", algorithm_findings(chain, a.ignore_sig_alg), context="findings")
        maximum = None if a.ignore_maximum_validity else a.maximum_validity
        if maximum is None and not a.ignore_maximum_validity and not a.file and a.protocol in (None, "https"):
            maximum = 397.0
        yield nagiosplugin.Metric("validity", validity_findings(leaf, self.now, maximum, not a.file),
                                  context="findings")
        yield nagiosplugin.Metric("patterns", pattern_findings(leaf, a), context="findings")
        errors_state = UNKNOWN if a.ocsp_errors == "unknown" else WARNING
        yield nagiosplugin.Metric("revocation", revocation_findings(g, errors_state, a.require_ocsp_stapling),
                                  context="findings")
        yield nagiosplugin.Metric("client_auth", client_auth_findings(g, bool(a.clientcert)), context="findings")

    # --- long output and JSON -----------------------------------------------------------------------

    def detail_lines(self, verbose: int) -> list[str]:
        g = self.gathered
        if g is None:
            return []
        lines = []
        for i, c in enumerate(g.chain, 1):
            line = f"{i}) {c.subject} | issuer {c.issuer}" if verbose else f"{i}) {c.subject}"
            line += f", not after {_when(c.not_after)} ({_days(cc.days_left(c, self.now))} days)"
            if verbose:
                line += f", {c.signature_algorithm}, {c.key_type} {c.key_bits}"
            lines.append(line)
        if verbose >= 2 and g.observation is not None:
            from ..outputs.ladder import ladder_lines

            lines.extend(ladder_lines(g.observation, times=True))
        lines.extend(g.notes)
        return lines

    def facts(self) -> dict[str, Any]:
        g = self.gathered
        if g is None:
            return {}
        from ..outputs.ladder import certificate_dict

        certs = []
        for c in g.chain:
            d = certificate_dict(c)
            d["days_left"] = round(cc.days_left(c, self.now), 2)
            certs.append(d)
        return {
            "target": g.target,
            "now": self.now,
            "certificates": certs,
            "trusted": g.verified,
            "verify_message": g.verify_message,
            "client_auth": g.client_auth,
            "revocation": [r.__dict__ for r in g.revocation],
            "handshake": {
                "outcome": g.observation.outcome.value,
                "phase": g.observation.phase,
                "error": g.observation.error,
            } if g.observation is not None else None,
        }


class CertSummary(nagiosplugin.Summary):
    """``localhost:443 CN=localhost expires in 9.8 days (2026-12-14 10:00 UTC)``."""

    def __init__(self, resource: CertificateResource) -> None:
        self.resource = resource

    def _target(self) -> str:
        g = self.resource.gathered
        return g.target if g is not None else (self.resource.args.host or self.resource.args.file or "")

    def ok(self, results: Any) -> str:
        g = self.resource.gathered
        if g is None or not g.chain:
            return self._target()
        text = f"{self._target()} {expiry_text(g.chain[0], 1, self.resource.now)}"
        if g.client_auth == "required":
            text += "; client certificate required by the server"
        return text

    def problem(self, results: Any) -> str:
        return f"{self._target()} " + "; ".join(problem_hints(results, ("days_left",)))


def build_check(args: argparse.Namespace, progress: Callable[[str], None],
                now: Optional[datetime] = None) -> nagiosplugin.Check:
    """The check for parsed ``args`` (see ``check_tls_cert --help``)."""
    now = now or datetime.now(timezone.utc)
    resource = CertificateResource(args, now, progress)

    def describe(metric: Any) -> str:
        g = resource.gathered
        if g is None or not metric.name.startswith("days_chain_elem"):
            return ""
        index = int(metric.name[len("days_chain_elem"):])
        return expiry_text(g.chain[index - 1], index, now)

    enabled = not args.ignore_exp
    check = nagiosplugin.Check(
        resource,
        ExpiryContext("expiry", args.warning, args.critical, describe, enabled),
        ExpiryContext("days_left", args.warning, args.critical, lambda m: "", enabled),
        FindingContext("findings"),
        CertSummary(resource),
    )
    check.name = "TLS_CERT"
    return check
