"""A private Nagios 4 runs every plugin through the shipped command definitions.

One instance (temporary directory, no system service) with host ``lo`` = 127.0.0.1 and one
service per scenario: valid, expiring and expired certificates, the handshake, a server that
requires client certificates. What Nagios records in status.dat (state, status line, perfdata,
long output) must equal what the same command line prints, timings aside. Then the client-auth
server is restarted without -Verify and a forced re-check must turn CRITICAL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import pytest

from integration.engines import Nagios, PluginResult
from integration.scenarios import CLIENTAUTH_AFTER_RESTART, ROOT, Scenario, Targets
from peers.tools import require_tool

COMMANDS = ROOT / "packaging" / "nagios" / "tlsmon-commands.cfg"
STATE_WORDS = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}


@pytest.fixture(scope="module")
def nagios(targets: Targets, wrappers: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nagios]:
    binary = require_tool("nagios4", "apt-get install nagios4-core")
    services = {s.name: f"{s.plugin}!{s.nagios_args}" for s in targets.scenarios()}
    instance = Nagios(binary, tmp_path_factory.mktemp("nagios"), user1=wrappers, services=services,
                      cfg_files=[COMMANDS])
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()


def _compare(name: str, recorded: PluginResult, cli: PluginResult) -> list[str]:
    if recorded.same_reading(cli.as_nagios_records_it()):
        return []
    return [f"{name}:\n  nagios:       {recorded}\n  command line: {cli}"]


def test_status_dat_equals_the_command_line(nagios: Nagios, targets: Targets,
                                            command_line: Callable[[Scenario], PluginResult]) -> None:
    scenarios = targets.scenarios()
    recorded = nagios.wait_for_results([s.name for s in scenarios])
    problems = []
    for scenario in scenarios:
        got = recorded[scenario.name]
        prefix = scenario.plugin.upper().replace("CHECK_", "") + f" {STATE_WORDS[scenario.state]} - "
        if got.state != scenario.state or not got.output.startswith(prefix) or not got.perfdata:
            problems.append(f"{scenario.name}: expected state {scenario.state} ({prefix!r}), got {got}")
        problems += _compare(scenario.name, got, command_line(scenario))
    assert not problems, "\n".join(problems)
    # the long output came through too (chain elements, the version matrix)
    assert recorded["cert_valid"].long_output.count("\n") >= 1
    assert "TLS1.3" in recorded["handshake"].long_output


def test_server_that_stops_requesting_client_certificates_turns_critical(
        nagios: Nagios, targets: Targets, command_line: Callable[[Scenario], PluginResult]) -> None:
    scenario = next(s for s in targets.scenarios() if s.name == "clientauth")
    before = nagios.wait_for_results([scenario.name])[scenario.name]
    assert before.state == 0 and "client certificate required" in before.output, before

    targets.stop_requesting_client_certificates()
    previous = nagios.force_check(scenario.name)
    after = nagios.wait_for_results([scenario.name], newer_than={scenario.name: previous})[scenario.name]

    assert after.state == CLIENTAUTH_AFTER_RESTART, after
    assert after.output.startswith("TLS_CLIENTAUTH CRITICAL - ") and "no client certificate requested" in after.output
    assert "cert_request=0" in after.perfdata
    assert not _compare(scenario.name, after, command_line(scenario))
