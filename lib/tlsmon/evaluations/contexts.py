"""Reusable nagiosplugin contexts: expiry in days, and findings decided by pure checks.

A ``Finding`` is one thing a pure check function concluded (state + one-line reason);
``FindingContext`` turns a metric whose value is a tuple of findings into a Result.
No I/O here.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import nagiosplugin
from nagiosplugin.state import Critical, Ok, ServiceState, Unknown, Warn

from ..frozen import frozen

__all__ = [
    "OK",
    "WARNING",
    "CRITICAL",
    "UNKNOWN",
    "Finding",
    "FindingContext",
    "ExpiryContext",
    "state_of",
    "problem_hints",
]

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
_STATES: dict[int, ServiceState] = {0: Ok, 1: Warn, 2: Critical, 3: Unknown}


def state_of(code: int) -> ServiceState:
    return _STATES[code]


@frozen
class Finding:
    """One conclusion: ``state`` 0..3 and a one-line ``text`` (empty for a silent OK)."""

    state: int
    text: str = ""


class FindingContext(nagiosplugin.Context):
    """Evaluates a metric whose value is a tuple of ``Finding``: the worst decides."""

    def evaluate(self, metric: Any, resource: Any) -> nagiosplugin.Result:
        findings: tuple[Finding, ...] = tuple(metric.value or ())
        if not findings:
            return nagiosplugin.Result(Ok, "", metric)
        worst = max(f.state for f in findings)
        texts = [f.text for f in sorted(findings, key=lambda f: -f.state) if f.text and (f.state > 0 or worst == 0)]
        return nagiosplugin.Result(state_of(worst), "; ".join(texts), metric)

    def performance(self, metric: Any, resource: Any) -> Optional[nagiosplugin.Performance]:
        return None


class ExpiryContext(nagiosplugin.ScalarContext):
    """Days left: OK at or above ``warning`` days, WARNING below it, CRITICAL below ``critical``.

    Perfdata carry the ranges as they mean (``20:`` not ``20``), so graphers read them as
    lower bounds. ``describe(metric)`` words the hint (which certificate, when).
    """

    def __init__(self, name: str, warning: Optional[float], critical: Optional[float],
                 describe: Callable[[Any], str], enabled: bool = True) -> None:
        super().__init__(
            name,
            warning=f"{warning:g}:" if warning is not None else None,
            critical=f"{critical:g}:" if critical is not None else None,
        )
        self._describe = describe
        self._enabled = enabled

    def evaluate(self, metric: Any, resource: Any) -> nagiosplugin.Result:
        if not self._enabled:
            return nagiosplugin.Result(Ok, self._describe(metric), metric)
        result = super().evaluate(metric, resource)
        return nagiosplugin.Result(result.state, self._describe(metric), metric)

    def performance(self, metric: Any, resource: Any) -> nagiosplugin.Performance:
        return nagiosplugin.Performance(metric.name, metric.value, "", self.warning, self.critical, 0, None)


def problem_hints(results: Any, skip: tuple[str, ...] = ()) -> list[str]:
    """The hints of the non-OK results, worst first, each once (metrics named in ``skip`` left out)."""
    hints: list[str] = []
    for r in sorted(results, key=lambda r: -int(r.state)):
        if int(r.state) == 0 or not r.hint or (r.metric is not None and r.metric.name in skip):
            continue
        if r.hint not in hints:
            hints.append(r.hint)
    return hints
