"""The Report as JSON: one object, the same facts and numbers as the Nagios output."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from enum import Enum
from typing import Any

from .report import Report

__all__ = ["render", "to_jsonable"]


def to_jsonable(value: Any) -> Any:
    """Enums as names, bytes as hex, datetimes as ISO 8601 UTC, tuples as lists."""
    if isinstance(value, Enum):
        return value.name.lower() if not isinstance(value.value, str) else value.value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value


def render(report: Report) -> str:
    doc = {
        "name": report.name,
        "state": report.state,
        "exit_code": report.exit_code,
        "summary": report.summary,
        "metrics": [asdict(m) for m in report.metrics],
        "results": [asdict(r) for r in report.results],
        "details": list(report.details),
        "facts": to_jsonable(report.facts),
    }
    return json.dumps(doc, indent=2, sort_keys=False)
