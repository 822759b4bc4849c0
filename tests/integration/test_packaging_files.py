"""The files under packaging/ agree with the plugins: generated parts current, samples valid.

Every plugin script is covered everywhere (setup.cfg, the generator, these tests); every sample
command line in the Nagios, NRPE and SCOM files parses with the plugin's own options; the Nagios
samples pass ``nagios4 -v``; the SCOM fragments are well-formed and map 0/1/2 (or the bag's
State) to Healthy/Warning/Critical.
"""

from __future__ import annotations

import configparser
import importlib
import re
import shlex
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from integration.engines import Nagios
from integration.scenarios import PLUGINS, ROOT, load_generator
from peers.tools import require_tool

PACKAGING = ROOT / "packaging"
PLUGIN_PATH = "/usr/lib/nagios/plugins/"


def _parses(plugin: str, args: list[str]) -> None:
    """The plugin's own option parser accepts `args` (it exits 3 on a usage error)."""
    module = importlib.import_module(f"tlsmon.cli.{plugin}")
    try:
        module.parse(args)
    except SystemExit as exc:  # pragma: no cover - the failure message is the point
        pytest.fail(f"{plugin} {' '.join(args)}: usage error (exit {exc.code})")


def test_every_plugin_is_covered() -> None:
    scripts = sorted(p.name for p in (ROOT / "plugins").iterdir() if p.name.startswith("check_"))
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    packaged = sorted(Path(s).name for s in cfg["options"]["scripts"].split())
    generated = sorted(p.name for p in load_generator().PLUGINS)
    assert scripts == packaged, "setup.cfg [options] scripts must list every plugin"
    assert scripts == generated, "add the plugin to PLUGINS in packaging/generate.py (one line), then run it"
    assert scripts == sorted(PLUGINS), "add the plugin to PLUGINS in tests/integration/scenarios.py (one line)"


def test_generated_files_are_current() -> None:
    generate = load_generator()
    for path, text in ((generate.ICINGA_FILE, generate.icinga_file()), (generate.NAGIOS_FILE, generate.nagios_file()),
                       (generate.SCOM_UNIX_FILE, generate.scom_file(generate.SCOM_UNIX_FILE)),
                       (generate.SCOM_WINDOWS_FILE, generate.scom_file(generate.SCOM_WINDOWS_FILE))):
        assert path.read_text() == text, f"{path.relative_to(ROOT)} is stale: run python3 packaging/generate.py"


def test_icinga2_conf_has_every_option_of_every_plugin() -> None:
    generate = load_generator()
    conf = (PACKAGING / "icinga2" / "tlsmon.conf").read_text()
    for plugin in generate.PLUGINS:
        prefix = plugin.name.replace("check_", "", 1)
        block = conf[conf.index(f'object CheckCommand "{prefix}"'):]
        block = block[:block.index("\n}\n")]
        for opt in generate.plugin_options(generate.plugin_parser(plugin.name)):
            assert f'"{opt.key}" = {{' in block, (plugin.name, opt.key)
            entry = block[block.index(f'"{opt.key}" = {{'):]
            entry = entry[:entry.index("}\n")]
            if opt.flag:
                assert f'set_if = "${prefix}_{opt.var}$"' in entry
            else:
                assert f'value = "${prefix}_{opt.var}$"' in entry
            if opt.repeat:
                assert "repeat_key = true" in entry


def test_nagios_samples_pass_nagios4_v(tmp_path: Path) -> None:
    nagios4 = require_tool("nagios4", "apt-get install nagios4-core")
    templates = tmp_path / "templates.cfg"
    templates.write_text("""\
define host {
  name generic-host
  register 0
  check_command noop
  max_check_attempts 1
  check_interval 5
  check_period 24x7
  contacts nobody
  notification_period 24x7
}
define service {
  name generic-service
  register 0
  max_check_attempts 3
  check_interval 5
  retry_interval 1
  check_period 24x7
  contacts nobody
  notification_period 24x7
  notification_interval 0
}
""")
    nagios = Nagios(nagios4, tmp_path / "nagios", user1=Path("/usr/lib/nagios/plugins"), services={},
                    cfg_files=[PACKAGING / "nagios" / "tlsmon-commands.cfg", templates,
                               PACKAGING / "nagios" / "tlsmon-services.cfg"])
    report = nagios.verify()
    assert re.search(r"Total Errors:\s+0", report), report
    assert re.search(r"Checked 6 services\.", report), report


def test_nagios_sample_services_parse() -> None:
    text = (PACKAGING / "nagios" / "tlsmon-services.cfg").read_text()
    commands = re.findall(r"^\s*check_command\s+(\S+?)!(.*)$", text, re.M)
    assert len(commands) == 6
    with_host = {p.name for p in load_generator().PLUGINS if p.host}  # their command adds -H $HOSTADDRESS$
    for command, arg1 in commands:
        plugin = command[: -len("_args")] if command.endswith("_args") else command
        host = plugin in with_host and not command.endswith("_args")
        args = ["-H", "www.example.org", *arg1.split()] if host else arg1.split()
        assert ";" not in arg1 and "!" not in arg1
        _parses(plugin, args)


def test_nrpe_samples_parse() -> None:
    lines = re.findall(r"^command\[(\w+)\]=(.*)$", (PACKAGING / "nrpe" / "tlsmon.cfg").read_text(), re.M)
    assert len(lines) >= len(PLUGINS)
    seen = set()
    for _name, command in lines:
        argv = shlex.split(command)
        assert argv[0].startswith(PLUGIN_PATH), command
        seen.add(argv[0][len(PLUGIN_PATH):])
        _parses(argv[0][len(PLUGIN_PATH):], argv[1:])
    assert seen == set(PLUGINS)


def _fragment(name: str) -> ET.Element:
    root = ET.parse(PACKAGING / "scom" / name).getroot()
    assert root.tag == "ManagementPackFragment"
    return root


def _detections(root: ET.Element) -> dict[str, str]:
    """MonitorTypeState -> the condition module that decides it."""
    return {d.get("MonitorTypeStateID", ""): d.find("Node").get("ID", "")  # type: ignore[union-attr]
            for d in root.iter("RegularDetection")}


def _values(root: ET.Element, module_id: str) -> tuple[str, set[str]]:
    module = next(m for m in root.iter("ConditionDetection") if m.get("ID") == module_id)
    queries = {q.text for q in module.iter("XPathQuery")}
    assert len(queries) == 1, queries
    return queries.pop() or "", {f"{e.findtext('Operator')} {e.findall('ValueExpression')[1].findtext('Value')}"
                                 for e in module.iter("SimpleExpression")}


def test_scom_unix_fragment_maps_exit_codes() -> None:
    root = _fragment("Tlsmon.Unix.Monitors.mpx")
    detections = _detections(root)
    assert _values(root, detections["ExitOK"]) == ('//*[local-name()="ReturnCode"]', {"Equal 0"})
    assert _values(root, detections["ExitWarning"]) == ('//*[local-name()="ReturnCode"]',
                                                        {"Equal 1", "Equal 3", "Less 0"})
    assert _values(root, detections["ExitCritical"]) == ('//*[local-name()="ReturnCode"]', {"Equal 2"})
    monitors = list(root.iter("UnitMonitor"))
    assert len(monitors) == len(PLUGINS)
    for monitor in monitors:
        states = {s.get("HealthState"): s.get("MonitorTypeStateID") for s in monitor.iter("OperationalState")}
        assert states == {"Success": "ExitOK", "Warning": "ExitWarning", "Error": "ExitCritical"}
        assert monitor.get("Enabled") == "false"
        command = monitor.findtext("Configuration/ShellCommand") or ""
        assert "\n" not in command and "'" not in command, command
        argv = command.split()
        assert argv[0].startswith(PLUGIN_PATH)
        _parses(argv[0][len(PLUGIN_PATH):], argv[1:])
    assert sorted(m.findtext("Configuration/ShellCommand", "").split()[0][len(PLUGIN_PATH):]
                  for m in monitors) == sorted(PLUGINS)


def test_scom_windows_fragment_maps_the_bag_state() -> None:
    root = _fragment("Tlsmon.Windows.Monitors.mpx")
    detections = _detections(root)
    assert _values(root, detections["Healthy"]) == ("Property[@Name='State']", {"Equal Healthy"})
    assert _values(root, detections["Warning"]) == ("Property[@Name='State']", {"Equal Warning", "Equal Unknown"})
    assert _values(root, detections["Critical"]) == ("Property[@Name='State']", {"Equal Critical"})
    monitors = list(root.iter("UnitMonitor"))
    assert len(monitors) == len(PLUGINS)
    for monitor in monitors:
        plugin = (monitor.findtext("Configuration/Plugin") or "").split("\\")[-1]
        _parses(plugin, (monitor.findtext("Configuration/Arguments") or "").split())
    script = (PACKAGING / "scom" / "Invoke-TlsmonCheck.ps1").read_text()
    for needle in ("'--output', 'scom'", "New-Object -ComObject 'MOM.ScriptAPI'", "CreatePropertyBag()",
                   ".AddValue(", "$api.Return($bag)", "'State', 'Unknown'"):
        assert needle in script, needle


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__]))
