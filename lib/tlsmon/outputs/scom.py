"""The Report as a SCOM property bag: the ``System.PropertyBagData`` XML that MOM.ScriptAPI writes.

``$api.Return($bag)`` prints a bag as one ``DataItem`` element; a SCOM script monitor reads
its values by XPath (``Property[@Name='State']``). This module writes the same shape, so that a
plugin's ``--output scom`` can be read by hand, by the PowerShell wrapper in
``packaging/scom/`` (which turns it into a real bag with ``AddValue``) or by any XML reader::

    <DataItem type="System.PropertyBagData" time="2026-12-04T17:27:03.1234560+00:00"
              sourceHealthServiceId="00000000-0000-0000-0000-000000000000">
      <Property Name="Check" VariantType="8">TLS_CERT</Property>
      <Property Name="State" VariantType="8">Warning</Property>
      <Property Name="NagiosState" VariantType="8">WARNING</Property>
      <Property Name="ExitCode" VariantType="3">1</Property>
      <Property Name="Message" VariantType="8">localhost:443 CN=localhost expires in 9.8 days ...</Property>
      <Property Name="Target" VariantType="8">localhost:443</Property>
      <Property Name="Details" VariantType="8">1) CN=localhost, not after ...</Property>
      <Property Name="PerfData" VariantType="8">days_chain_elem1=9.8;20:;15:;0 days_left=9.8;20:;15:;0</Property>
      <Property Name="days_chain_elem1" VariantType="5">9.8</Property>
      <Property Name="days_left" VariantType="5">9.8</Property>
    </DataItem>

``State`` is the SCOM health word (Healthy, Warning, Critical, Unknown); ``ExitCode`` the
plugin's exit code (0..3). Every perfdata metric follows as its own property, named by its
perfdata label, typed by its value (3 Integer, 5 Double). ``Details`` holds the lines
Nagios shows after the status line, joined by newlines. The plugin cannot know the agent's
health service id: ``sourceHealthServiceId`` is the nil GUID (a real bag made by the
wrapper gets the agent's own). Characters that XML 1.0 cannot carry become U+FFFD.

No I/O here; the time of the bag is an argument.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from typing import Any, Optional

from . import nagios
from .report import Report

__all__ = ["render", "HEALTH_STATES", "VARIANT_INTEGER", "VARIANT_DOUBLE", "VARIANT_STRING", "VARIANT_BOOLEAN",
           "variant_of"]

HEALTH_STATES = {0: "Healthy", 1: "Warning", 2: "Critical", 3: "Unknown"}

# COM VARIANT types, as MOM.ScriptAPI writes them in VariantType.
VARIANT_INTEGER = 3
VARIANT_DOUBLE = 5
VARIANT_STRING = 8
VARIANT_BOOLEAN = 11

NIL_GUID = "00000000-0000-0000-0000-000000000000"
_INT32 = range(-(2**31), 2**31)
# XML 1.0 §2.2 Char: everything else (C0 controls but tab/LF/CR, lone surrogates, U+FFFE/F) is illegal.
_NOT_XML_CHAR = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML_CHAR.sub("\ufffd", text)


def variant_of(value: Any) -> tuple[int, str]:
    """(VariantType, text) for a property value: bool 11, int 3 (Double beyond 32 bits), float 5, else 8."""
    if isinstance(value, bool):
        return VARIANT_BOOLEAN, "true" if value else "false"
    if isinstance(value, int):
        return (VARIANT_INTEGER, str(value)) if value in _INT32 else (VARIANT_DOUBLE, repr(float(value)))
    if isinstance(value, float):
        return VARIANT_DOUBLE, repr(value)
    return VARIANT_STRING, _xml_text(str(value))


def _time_text(when: datetime) -> str:
    """``2026-12-04T17:27:03.1234560+00:00``: .NET round-trip style, as the agent writes it."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    offset = when.strftime("%z")
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0" + f"{offset[:3]}:{offset[3:]}"


def render(report: Report, verbose: int = 0, *, when: Optional[datetime] = None, target: str = "") -> str:
    """The property bag of a finished check.

    Args:
        report: the finished check.
        verbose: as for the Nagios output (more detail lines in ``Details``).
        when: the bag's time (default: now, local time zone).
        target: the target to name when the report's facts have none (a run that failed early).

    Returns:
        One ``DataItem`` element, without an XML declaration.
    """
    when = when or datetime.now(timezone.utc).astimezone()
    root = ET.Element("DataItem", {"type": "System.PropertyBagData", "time": _time_text(when),
                                   "sourceHealthServiceId": NIL_GUID})

    def add(name: str, value: Any) -> None:
        variant, text = variant_of(value)
        prop = ET.SubElement(root, "Property", {"Name": _xml_text(name), "VariantType": str(variant)})
        prop.text = text

    details = nagios.render(report, verbose).split("\n")[1:]
    add("Check", report.name)
    add("State", HEALTH_STATES.get(report.exit_code, "Unknown"))
    add("NagiosState", report.state)
    add("ExitCode", int(report.exit_code))
    add("Message", report.summary)
    add("Target", str(report.facts.get("target") or target or ""))
    add("Details", "\n".join(details))
    add("PerfData", " ".join(str(m) for m in report.metrics))
    for metric in report.metrics:
        value = metric.value
        if not isinstance(value, (int, float)):
            try:
                value = float(value)
            except (TypeError, ValueError):
                value = str(value)
        add(metric.label, value)
    return ET.tostring(root, encoding="unicode", short_empty_elements=False)
