"""The Report as OpenMetrics text, for the node_exporter textfile collector (or any scraper).

Every family is a gauge named ``tlsmon_...``; every sample carries the labels ``check`` (the
plugin, ``tls_cert``) and ``target`` (``host:port``, or the file checked)::

    # HELP tlsmon_check_state Check state: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
    # TYPE tlsmon_check_state gauge
    tlsmon_check_state{check="tls_cert",target="localhost:443"} 1
    # HELP tlsmon_chain_element_days_left Days until a certificate of the chain expires, per element in the order sent.
    # TYPE tlsmon_chain_element_days_left gauge
    tlsmon_chain_element_days_left{check="tls_cert",target="localhost:443",chain_element="1"} 9.8
    tlsmon_chain_element_days_left{check="tls_cert",target="localhost:443",chain_element="2"} 1825.0
    # HELP tlsmon_days_left Days left of the chain element that expires first.
    # TYPE tlsmon_days_left gauge
    tlsmon_days_left{check="tls_cert",target="localhost:443"} 9.8
    # EOF

Perfdata labels map to family names: ``days_chain_elemN`` becomes
``tlsmon_chain_element_days_left`` with ``chain_element="N"``, ``alert_NAME`` (alerts counted
in a capture) ``tlsmon_handshake_alerts`` with ``alert="NAME"``; any other label ``x`` becomes
``tlsmon_x``, with the unit as a suffix (``s`` -> ``_seconds``, ``ms`` converted to seconds,
``B`` -> ``_bytes``, ``%`` -> ``_percent``) and a ``# UNIT`` line where OpenMetrics defines one.
The numbers are the perfdata values; thresholds stay in the alerting rules.

Only gauges and no timestamps: the Prometheus text parser that the textfile collector uses
reads this text too (``# UNIT`` and ``# EOF`` are comments there), and the collector refuses
samples with timestamps. HELP texts depend on the family alone, so that files written by
different plugins merge in one collector.

No I/O here.
"""

from __future__ import annotations

import math
import re
from typing import Any, Optional

from .report import Report

__all__ = ["render", "family_of"]

PREFIX = "tlsmon_"
_CHAIN_ELEMENT = re.compile(r"^(?P<base>.+?)_chain_elem(?P<n>\d+)$")
_ALERT = re.compile(r"^alert_(?P<alert>[a-z0-9_]+)$")  # check_tls_capture: handshakes ended by this alert
_NOT_NAME = re.compile(r"[^a-zA-Z0-9_]")
# Perfdata unit -> (family suffix, OpenMetrics unit, factor to the base unit).
_UNITS: dict[str, tuple[str, str, float]] = {
    "s": ("_seconds", "seconds", 1.0),
    "ms": ("_seconds", "seconds", 1e-3),
    "us": ("_seconds", "seconds", 1e-6),
    "B": ("_bytes", "bytes", 1.0),
    "KB": ("_bytes", "bytes", 1024.0),
    "MB": ("_bytes", "bytes", 1024.0**2),
    "GB": ("_bytes", "bytes", 1024.0**3),
    "TB": ("_bytes", "bytes", 1024.0**4),
    "%": ("_percent", "percent", 1.0),
}
_HELP = {
    "tlsmon_check_state": "Check state: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
    "tlsmon_chain_element_days_left": "Days until a certificate of the chain expires, per element in the order sent.",
    "tlsmon_days_left": "Days left of the chain element that expires first.",
    "tlsmon_connect_time_seconds": "Seconds from the start to the TCP connection, DNS included.",
    "tlsmon_server_hello_time_seconds": "Seconds from the start to the first byte of the server's answer.",
    "tlsmon_handshake_time_seconds": "Seconds from the start to the end of the TLS handshake.",
    "tlsmon_tls_version": "Negotiated TLS version (1.0 ... 1.3; SSL 3.0 is 0.3).",
    "tlsmon_cert_request": "1 if the server requested a client certificate (in the handshake or later), else 0.",
    "tlsmon_ca_names": "Number of CA names in the server's CertificateRequest.",
    "tlsmon_client_cert_days_left": "Days until the client certificate used for mutual TLS expires.",
    "tlsmon_handshake_alerts": "Handshakes that ended with this TLS alert.",
}
# Reserved by OpenMetrics for the samples of other types: a gauge must not end so.
_RESERVED_SUFFIXES = ("_total", "_created", "_count", "_sum", "_bucket", "_gcount", "_gsum", "_info")


def family_of(label: str, uom: str = "") -> tuple[str, dict[str, str], str, float]:
    """(family name, extra labels, OpenMetrics unit or "", factor) for a perfdata label and unit."""
    extra: dict[str, str] = {}
    match = _CHAIN_ELEMENT.match(label)
    alert = _ALERT.match(label)
    if match:
        base = match.group("base")
        label = "chain_element_days_left" if base == "days" else f"chain_element_{base}"
        extra["chain_element"] = match.group("n")
    elif alert:
        label = "handshake_alerts"
        extra["alert"] = alert.group("alert")
    suffix, unit, factor = _UNITS.get(uom, ("", "", 1.0))
    name = PREFIX + _NOT_NAME.sub("_", label).strip("_").lower()
    if suffix and not name.endswith(suffix):
        name += suffix
    if name.endswith(_RESERVED_SUFFIXES):
        name += "_value"
    return name, extra, unit, factor


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: Any) -> Optional[str]:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "+Inf" if number > 0 else "-Inf"
    return repr(number)


def _labels(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items()) + "}"


def render(report: Report, *, target: str = "") -> str:
    """OpenMetrics text of a finished check, ending in ``# EOF``.

    Args:
        report: the finished check.
        target: the target to name when the report's facts have none (a run that failed early).
    """
    common = {"check": report.name.lower(), "target": str(report.facts.get("target") or target or "")}
    # family -> (unit, {label set: value}); insertion order is the perfdata order, the state first.
    families: dict[str, tuple[str, dict[str, str]]] = {
        "tlsmon_check_state": ("", {_labels(common): str(report.exit_code)}),
    }
    for metric in report.metrics:
        name, extra, unit, factor = family_of(metric.label, metric.uom)
        value = metric.value
        if factor != 1.0:
            try:
                value = float(value) * factor
            except (TypeError, ValueError):
                value = None
        text = _number(value)
        if text is None:
            continue  # not a number: nothing a scraper could use
        samples = families.setdefault(name, (unit, {}))[1]
        samples.setdefault(_labels({**common, **extra}), text)  # a label set once per family: the first wins
    lines = []
    for name, (unit, samples) in families.items():
        lines.append(f"# HELP {name} {_HELP.get(name, 'tlsmon perfdata ' + name[len(PREFIX):])}")
        lines.append(f"# TYPE {name} gauge")
        if unit:
            lines.append(f"# UNIT {name} {unit}")
        lines.extend(f"{name}{labels} {value}" for labels, value in samples.items())
    lines.append("# EOF")
    return "\n".join(lines)
