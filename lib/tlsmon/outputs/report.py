"""``Report``: a frozen snapshot of a finished check, rendered by every output format.

Built once from the ``nagiosplugin.Check`` after it ran, so that Nagios text, JSON
and the other formats show the same numbers. Outputs never evaluate again.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any, Optional

from ..frozen import frozen

__all__ = ["MetricLine", "ResultLine", "Report", "STATE_NAMES", "from_check", "failure"]

STATE_NAMES = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}


@frozen
class MetricLine:
    """One perfdata item."""

    label: str
    value: Any
    uom: str = ""
    warn: str = ""
    crit: str = ""
    min: str = ""
    max: str = ""

    def __str__(self) -> str:
        parts = [f"{self.label}={self.value}{self.uom}", self.warn, self.crit, self.min, self.max]
        while parts and parts[-1] == "":
            parts.pop()
        return ";".join(str(p) for p in parts)


@frozen
class ResultLine:
    """One evaluated aspect: its name, state and the reason."""

    name: str
    state: str
    hint: str


@frozen
class Report:
    """A finished check.

    Attributes:
        name: the status-line prefix (``TLS_CERT``).
        exit_code: 0..3.
        summary: the status line's text after ``STATE - ``.
        metrics: perfdata, in a stable order.
        results: every evaluated aspect, worst first.
        details: long-output lines (shown by Nagios after the status line).
        facts: structured facts for JSON and other machine formats.
    """

    name: str
    exit_code: int
    summary: str
    metrics: tuple[MetricLine, ...] = ()
    results: tuple[ResultLine, ...] = ()
    details: tuple[str, ...] = ()
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def state(self) -> str:
        return STATE_NAMES.get(self.exit_code, "UNKNOWN")


def _metric_line(perf: Any) -> MetricLine:
    return MetricLine(perf.label, perf.value, perf.uom or "", str(perf.warn or ""), str(perf.crit or ""),
                      str(perf.min if perf.min not in (None, "") else ""),
                      str(perf.max if perf.max not in (None, "") else ""))


def from_check(check: Any, name: str, details: tuple[str, ...] = (), facts: Optional[dict[str, Any]] = None) -> Report:
    """Snapshot a ``nagiosplugin.Check`` that has been called."""
    metrics = []
    results = []
    for result in sorted(check.results, key=lambda r: -int(r.state)):
        metric = result.metric
        label = metric.name if metric is not None else "check"
        results.append(ResultLine(label, STATE_NAMES.get(int(result.state), "UNKNOWN"), str(result.hint or "")))
    # Perfdata in the order the resource produced its metrics (stable), not sorted by state.
    for result in getattr(check.results, "results", check.results):
        metric = result.metric
        if metric is None or metric.contextobj is None:
            continue
        perf = metric.contextobj.performance(metric, metric.resource)
        if perf is not None:
            metrics.append(_metric_line(perf))
    return Report(name, int(check.exitcode), check.summary_str, tuple(metrics), tuple(results), details,
                  facts or {})


def failure(name: str, exit_code: int, summary: str) -> Report:
    """A report for a run that could not evaluate at all (usage, internal error, timeout)."""
    return Report(name, exit_code, summary, (), (ResultLine("check", STATE_NAMES[exit_code], summary),))
