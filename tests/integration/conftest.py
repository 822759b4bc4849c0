"""Fixtures of the engine tests: loopback targets per module, plugin wrappers, command-line runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Callable, Iterator, Optional

import pytest

from integration.engines import PluginResult, write_plugin_wrappers
from integration.scenarios import LIB, PLUGIN_DIR, PLUGINS, Scenario, Targets
from peers.tools import require_tool


@pytest.fixture(scope="module")
def targets() -> Iterator[Targets]:
    made = Targets(require_tool("openssl", "apt-get install openssl"))
    yield made
    made.close()


@pytest.fixture(scope="module")
def wrappers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plugins as an engine runs them: one script each, this interpreter, this tree's lib/."""
    return write_plugin_wrappers(tmp_path_factory.mktemp("plugins"), PLUGINS, sys.executable, LIB, PLUGIN_DIR)


def run_argv(argv: list[str], timeout: float = 60, env: Optional[dict[str, str]] = None) -> PluginResult:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd="/tmp", env=env)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    return PluginResult.from_stdout(proc.returncode, proc.stdout)


@pytest.fixture(scope="module")
def command_line(wrappers: Path) -> Callable[[Scenario], PluginResult]:
    """Run a scenario's check on the command line, exactly as the engines' commands do."""

    def run(scenario: Scenario) -> PluginResult:
        return run_argv(scenario.argv(str(wrappers / scenario.plugin)))

    return run
