"""Run a plugin's check under its deadline, render it, and map failures to UNKNOWN.

Deadlines are passed down to sockets and loops (SCOM agents run on Windows, which has
no SIGALRM); a watchdog thread is only the last resort if something overruns the
deadline anyway: it prints one UNKNOWN line naming the phase and exits 3.
No traceback reaches the monitoring system unless ``-vvv`` asks for it.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import traceback
from typing import Any, Callable, Optional

from ..errors import TlsmonError, UsageError
from ..outputs import report as _report

__all__ = ["Progress", "run", "render", "target_of"]


class Progress:
    """What the plugin is doing now, for the watchdog's message."""

    def __init__(self) -> None:
        self.phase = "start"

    def __call__(self, phase: str) -> None:
        self.phase = phase


def _renderer(output: str) -> Callable[[_report.Report, int, str], str]:
    """The output module's render, imported now: (report, verbose, target) -> text."""
    if output == "json":
        from ..outputs import jsonout

        return lambda rep, verbose, target: jsonout.render(rep)
    if output == "scom":
        from ..outputs import scom

        return lambda rep, verbose, target: scom.render(rep, verbose, target=target)
    if output == "openmetrics":
        from ..outputs import openmetrics

        return lambda rep, verbose, target: openmetrics.render(rep, target=target)
    from ..outputs import nagios

    return lambda rep, verbose, target: nagios.render(rep, verbose)


def render(rep: _report.Report, output: str, verbose: int, target: str = "") -> str:
    """The report in an output format (``options.OUTPUTS``).

    Args:
        rep: the finished check.
        output: ``nagios``, ``json``, ``scom`` or ``openmetrics``.
        verbose: more detail lines (Nagios text and the SCOM ``Details``).
        target: what the check was aimed at, for formats that label by target when the
            report's facts do not say (a run that failed before it connected).
    """
    return _renderer(output)(rep, verbose, target)


def target_of(args: argparse.Namespace) -> str:
    """``host:port``, else the file checked, else "": the label of a run that has no facts."""
    host = getattr(args, "host", None)
    if host:
        port = getattr(args, "port", None)
        return f"{host}:{port}" if port else str(host)
    for name in ("file", "capture", "files"):
        value = getattr(args, name, None)
        if isinstance(value, (list, tuple)):
            value = ",".join(str(v) for v in value)
        if value:
            return str(value)
    return ""


def _watchdog(name: str, seconds: float, progress: Progress, output: str = "nagios",
              target: str = "") -> threading.Timer:
    # In the format asked for (a SCOM bag or an OpenMetrics file must stay readable), with the
    # renderer imported here: the watchdog thread must not import while the check may be importing.
    renderer = _renderer(output)

    def fire() -> None:
        rep = _report.failure(name, 3, f"plugin timed out after {seconds:g} s (phase: {progress.phase})")
        sys.stdout.write(renderer(rep, 0, target) + "\n")
        sys.stdout.flush()
        os._exit(3)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    return timer


def run(name: str, build: Callable[[Progress], Any], args: argparse.Namespace) -> int:
    """Build and run the check, print it in ``args.output``, return the exit code.

    Args:
        name: status-line prefix, e.g. ``TLS_CERT``.
        build: returns a ``nagiosplugin.Check``; its first resource may offer
            ``detail_lines(verbose)`` and ``facts()`` for the long output and JSON.
        args: parsed options (``timeout``, ``verbose``, ``output``).
    """
    import nagiosplugin

    verbose = int(getattr(args, "verbose", 0) or 0)
    output = getattr(args, "output", "nagios")
    progress = Progress()
    target = target_of(args)
    timer = _watchdog(name, float(getattr(args, "timeout", 10.0)) + 1.0, progress, output, target)
    tb: Optional[str] = None
    try:
        check = build(progress)
        progress("evaluate")
        check()
        resource: Any = check.resources[0] if check.resources else None
        details = tuple(resource.detail_lines(verbose)) if hasattr(resource, "detail_lines") else ()
        facts = resource.facts() if hasattr(resource, "facts") else {}
        rep = _report.from_check(check, name, details, facts)
    except UsageError as exc:
        rep = _report.failure(name, 3, f"usage: {exc}")
    except (TlsmonError, nagiosplugin.CheckError) as exc:
        rep = _report.failure(name, 3, str(exc))
    except Exception as exc:  # noqa: BLE001 - the last guard: one UNKNOWN line, the traceback only with -vvv
        rep = _report.failure(name, 3, f"internal error: {type(exc).__name__}: {exc}")
        tb = traceback.format_exc()
    finally:
        timer.cancel()
    text = render(rep, output, verbose, target)
    if tb and verbose >= 3:
        text += "\n" + tb
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (e.g. `| head`): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return rep.exit_code
