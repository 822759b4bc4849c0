"""packaging/icinga2/tlsmon.conf in a private Icinga 2: validated, then one service per scenario run.

The shipped file is included unchanged into a private tree (``-D`` path constants: nothing under
/etc, /var or /run is read or written); PluginDir points at wrappers that run this tree's plugins.
A running instance with its API on 127.0.0.1 checks every scenario once; each result is read back
and must equal what the exact argv Icinga ran prints on the command line, timings aside.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from integration.conftest import run_argv
from integration.engines import Icinga2, icinga_result
from integration.scenarios import OK, PLUGINS, ROOT, Scenario, Targets, load_generator
from peers.tools import require_tool

CONF = ROOT / "packaging" / "icinga2" / "tlsmon.conf"
HINT = "apt-get install icinga2-bin icinga2-common"


def _value(value: Any) -> str:
    if value is True:
        return "true"
    if isinstance(value, list):
        return "[ " + ", ".join(_value(v) for v in value) + " ]"
    return json.dumps(str(value))  # an Icinga string literal: the same escapes as JSON for these values


def _service(name: str, command: str, variables: dict[str, Any]) -> str:
    lines = [f'object Service "{name}" {{', '  host_name = "lo"', f'  check_command = "{command}"',
             "  check_interval = 1h", "  max_check_attempts = 1"]
    lines += [f"  vars.{k} = {_value(v)}" for k, v in variables.items()]
    return "\n".join(lines + ["}"])


def test_tlsmon_conf_validates_with_icinga2_daemon_C(tmp_path: Path, wrappers: Path) -> None:
    icinga2 = require_tool("icinga2", HINT)
    instance = Icinga2(icinga2, tmp_path / "ok", f'include "{CONF}"', plugin_dir=wrappers)
    check = instance.validate()
    assert check.returncode == 0, check.stdout + check.stderr
    assert "Finished validating the configuration file(s)." in check.stdout
    for plugin in PLUGINS:
        assert f'object CheckCommand "{plugin.replace("check_", "", 1)}"' in CONF.read_text()
        assert f'PluginDir + "/{plugin}"' in CONF.read_text()

    # negative control: the same check rejects a broken copy, so the pass above means something
    broken = tmp_path / "broken.conf"
    broken.write_text(CONF.read_text().replace("repeat_key = true", "repeat_keys = true", 1))
    failing = Icinga2(icinga2, tmp_path / "broken", f'include "{broken}"', plugin_dir=wrappers).validate()
    assert failing.returncode != 0
    assert "Invalid attribute: repeat_keys" in failing.stdout


@pytest.fixture(scope="module")
def icinga(targets: Targets, wrappers: Path, tmp_path_factory: pytest.TempPathFactory):
    icinga2 = require_tool("icinga2", HINT)
    generate = load_generator()
    services = {s.name: (s.plugin, generate.icinga_vars(s.plugin, list(s.args))) for s in targets.scenarios()}
    # a CA name with spaces and commas: an array element is one argument, whatever it holds
    clientauth = next(s for s in targets.scenarios() if s.name == "clientauth")
    ca_vars = generate.icinga_vars(clientauth.plugin, [a for a in clientauth.args if a != "--require-client-cert"])
    ca_vars["tls_clientauth_require_client_cert"] = [targets.client_ca.subject_rfc4514]
    services["clientauth_ca"] = (clientauth.plugin, ca_vars)
    config = "\n".join([
        f'include "{CONF}"',
        'object Host "lo" { address = "127.0.0.1"; check_command = "dummy"; enable_active_checks = false }',
        *(_service(name, plugin.replace("check_", "", 1), variables) for name, (plugin, variables) in services.items()),
    ])
    instance = Icinga2(icinga2, tmp_path_factory.mktemp("icinga2"), config, plugin_dir=wrappers, api=True)
    instance.start()
    try:
        yield instance, services
    finally:
        instance.stop()


def test_every_plugin_runs_under_icinga2_and_its_result_reads_back(icinga: Any, targets: Targets,
                                                                    wrappers: Path) -> None:
    instance, services = icinga
    results = instance.run_now("lo", list(services))
    expected: dict[str, Scenario] = {s.name: s for s in targets.scenarios()}
    problems = []
    for name, result in results.items():
        argv = result["command"]
        assert isinstance(argv, list) and argv[0] == str(wrappers / services[name][0]), result
        got = icinga_result(result)
        cli = run_argv(argv)
        if not got.same_reading(cli):
            problems.append(f"{name}:\n  icinga2:      {got}\n  command line: {cli}")
        want = expected[name].state if name in expected else OK
        if got.state != want:
            problems.append(f"{name}: state {got.state}, expected {want}: {got}")
        if name in expected:  # the CheckCommand passed exactly the scenario's options (in its own order)
            scenario_opts = sorted(_pairs(expected[name].argv("plugin")[1:]))
            assert sorted(_pairs(argv[1:])) == scenario_opts, (argv, expected[name].args)
    assert not problems, "\n".join(problems)
    assert "--require-client-cert" in results["clientauth_ca"]["command"]
    assert targets.client_ca.subject_rfc4514 in results["clientauth_ca"]["command"]
    assert results["handshake"]["command"].count("--forbid-cipher") == 2  # repeat_key


_LONG = {"-H": "--host", "-p": "--port", "-r": "--rootcert", "-w": "--warning", "-c": "--critical"}


def _pairs(argv: list[str]) -> list[tuple[str, str]]:
    """(option, value or "") pairs, short options spelled long as the CheckCommand passes them."""
    out = []
    i = 0
    while i < len(argv):
        value = argv[i + 1] if i + 1 < len(argv) and not argv[i + 1].startswith("-") else ""
        out.append((_LONG.get(argv[i], argv[i]), value))
        i += 2 if value else 1
    return out
