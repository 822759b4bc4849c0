"""The Nagios plugin output: one status line, perfdata after ``|``, detail lines after it."""

from __future__ import annotations

from .report import Report

__all__ = ["render"]


def _clean(text: str) -> str:
    # A status line is one line, and '|' would start the perfdata.
    return " ".join(text.replace("|", "/").split())


def render(report: Report, verbose: int = 0) -> str:
    line = f"{report.name} {report.state} - {_clean(report.summary)}"
    if report.metrics:
        line += " | " + " ".join(str(m) for m in report.metrics)
    lines = [line]
    if verbose > 0 or report.exit_code != 0:
        problems = [r for r in report.results if r.state != "OK" and r.hint]
        if len(problems) > 1:
            lines.extend(f"{r.state}: {_clean(r.hint)}" for r in problems)
    lines.extend(d.replace("|", "/") for d in report.details)
    return "\n".join(lines)
