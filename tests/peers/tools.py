"""External tools and host capabilities that a test may need.

A missing prerequisite skips the test with a reason on a developer's machine, but fails it when
``CI=true``: nothing may silently skip in CI.
"""

from __future__ import annotations

import os
import shutil
import socket
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def missing(reason: str) -> NoReturn:
    """Skip the current test because of `reason`, or fail it in CI."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: missing prerequisites fail instead of skipping)", pytrace=False)
    pytest.skip(reason)


def require_tool(name: str, hint: str) -> str:
    """Return the path of the program `name`, or skip (fail in CI) naming how to install it.

    `hint` names the package, e.g. ``"apt-get install openssl"``.
    """
    path = shutil.which(name)
    if path is None:
        missing(f"{name} not found on PATH; install it with: {hint}")
    return path


def ipv6_loopback_available() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


def require_ipv6_loopback() -> None:
    if not ipv6_loopback_available():
        missing("IPv6 loopback (::1) is not available on this host")
