"""The installed Debian package, as an operator gets it: run by .ci/run after
``apt-get install ./tlsmon_*.deb`` with TLSMON_TEST_INSTALLED_DEB=1 (skipped otherwise).

The installed /usr/lib/nagios/plugins/check_tls_cert, run by its own #!/usr/bin/python3 with
Debian's modules, checks loopback servers: OK, WARNING, CRITICAL as the source tree does. Then a
private Nagios with $USER1$=/usr/lib/nagios/plugins and the installed command definitions runs
every plugin, and Icinga 2 validates the installed CheckCommands.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from integration.conftest import run_argv
from integration.engines import Icinga2, Nagios
from integration.scenarios import LIB, PLUGIN_DIR, PLUGINS, ROOT, Targets
from peers.tools import require_tool

pytestmark = pytest.mark.skipif(os.environ.get("TLSMON_TEST_INSTALLED_DEB") != "1",
                                reason="run by .ci/run after apt-get install ./tlsmon_*.deb")

INSTALLED = Path("/usr/lib/nagios/plugins")
SHARE = Path("/usr/share/tlsmon")
SOURCE_ENV = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(LIB)}


def test_package_is_installed_at_this_version() -> None:
    status = subprocess.run(["dpkg-query", "-W", "-f=${Status} ${Version}", "tlsmon"], capture_output=True, text=True)
    version = re.search(r'^__version__ = "([^"]+)"', (ROOT / "lib/tlsmon/__init__.py").read_text(), re.M)
    assert version and status.stdout == f"install ok installed {version.group(1)}", status.stdout + status.stderr
    for plugin in PLUGINS:
        path = INSTALLED / plugin
        assert os.access(path, os.X_OK), path
        assert path.read_text().splitlines()[0] == "#!/usr/bin/python3"
    owner = subprocess.run(["dpkg", "-S", str(INSTALLED / "check_tls_cert")], capture_output=True, text=True)
    assert owner.stdout.startswith("tlsmon: "), owner.stdout


def test_installed_check_tls_cert_checks_loopback_servers(targets: Targets) -> None:
    for scenario in targets.scenarios():
        if scenario.plugin != "check_tls_cert":
            continue
        installed = run_argv(scenario.argv(str(INSTALLED / "check_tls_cert")), env={"PATH": "/usr/bin:/bin"})
        source = run_argv(["/usr/bin/python3", *scenario.argv(str(PLUGIN_DIR / "check_tls_cert"))], env=SOURCE_ENV)
        assert installed.state == scenario.state, (scenario.name, installed)
        assert installed.same_reading(source), (scenario.name, installed, source)


def test_installed_tlsmon_command(targets: Targets) -> None:
    probe = subprocess.run(["/usr/bin/tlsmon", "probe", f"127.0.0.1:{targets.valid_server.port}", "--sni", "localhost"],
                           capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert probe.returncode == 0 and "handshake OK" in probe.stdout, probe.stdout + probe.stderr


def test_installed_plugins_under_nagios(targets: Targets, tmp_path: Path) -> None:
    nagios4 = require_tool("nagios4", "apt-get install nagios4-core")
    scenarios = targets.scenarios()
    nagios = Nagios(nagios4, tmp_path / "nagios", user1=INSTALLED,
                    services={s.name: f"{s.plugin}!{s.nagios_args}" for s in scenarios},
                    cfg_files=[SHARE / "nagios" / "tlsmon-commands.cfg"])
    nagios.start()
    try:
        recorded = nagios.wait_for_results([s.name for s in scenarios])
    finally:
        nagios.stop()
    for scenario in scenarios:
        cli = run_argv(scenario.argv(str(INSTALLED / scenario.plugin)), env={"PATH": "/usr/bin:/bin"})
        assert recorded[scenario.name].state == scenario.state, (scenario.name, recorded[scenario.name])
        assert recorded[scenario.name].same_reading(cli.as_nagios_records_it()), scenario.name


def test_installed_icinga2_commands_validate(tmp_path: Path) -> None:
    icinga2 = require_tool("icinga2", "apt-get install icinga2-bin icinga2-common")
    check = Icinga2(icinga2, tmp_path / "icinga2", f'include "{SHARE / "icinga2" / "tlsmon.conf"}"',
                    plugin_dir=INSTALLED).validate()
    assert check.returncode == 0, check.stdout + check.stderr
