"""A private nrpe on 127.0.0.1 runs every scenario; check_nrpe must bring back what the plugin prints.

Debian's nrpe takes no command arguments, so each scenario is a fixed ``command[name]=`` line.
nrpe drops to user nagios: the plugins run from a world-readable copy of plugins/ and lib/ with
Debian's /usr/bin/python3 and its python3-cryptography, -nagiosplugin and -requests, as on a
monitored host with the package installed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from integration.conftest import run_argv
from integration.engines import Nrpe, write_plugin_wrappers
from integration.scenarios import LIB, PLUGIN_DIR, PLUGINS, Targets
from peers.tools import missing, require_tool

DEBIAN_PYTHON = "/usr/bin/python3"
CHECK_NRPE = "/usr/lib/nagios/plugins/check_nrpe"


def _readable_copy(targets: Targets) -> Path:
    """plugins/ and lib/tlsmon under the targets' world-readable directory, with wrappers."""
    base = targets.dir / "nrpe-tree"
    shutil.copytree(LIB / "tlsmon", base / "lib" / "tlsmon", ignore=shutil.ignore_patterns("__pycache__"))
    (base / "plugins").mkdir()
    for name in PLUGINS:
        shutil.copy2(PLUGIN_DIR / name, base / "plugins" / name)
    wrappers = write_plugin_wrappers(base / "bin", PLUGINS, DEBIAN_PYTHON, base / "lib", base / "plugins")
    for path in [base, *base.rglob("*")]:
        path.chmod(0o755 if path.is_dir() or path.parent.name in ("bin", "plugins") else 0o644)
    return wrappers


def test_check_nrpe_returns_what_the_plugins_print(targets: Targets, tmp_path: Path) -> None:
    nrpe_bin = require_tool("nrpe", "apt-get install nagios-nrpe-server")
    if not Path(CHECK_NRPE).exists():
        missing(f"{CHECK_NRPE} not found; install it with: apt-get install nagios-nrpe-plugin")
    probe = subprocess.run([DEBIAN_PYTHON, "-c", "import cryptography, nagiosplugin, requests"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        missing("Debian's python3 lacks its modules; install them with: "
                "apt-get install python3-cryptography python3-nagiosplugin python3-requests")
    wrappers = _readable_copy(targets)
    scenarios = targets.scenarios()
    commands = {s.name: " ".join(s.argv(str(wrappers / s.plugin))) for s in scenarios}
    nrpe = Nrpe(nrpe_bin, targets.dir / "nrpe", commands)
    nrpe.start(CHECK_NRPE)
    try:
        problems = []
        for scenario in scenarios:
            through_nrpe = run_argv([CHECK_NRPE, "-H", "127.0.0.1", "-p", str(nrpe.port), "-t", "60",
                                     "-c", scenario.name])
            direct = run_argv(scenario.argv(str(wrappers / scenario.plugin)))
            if through_nrpe.state != scenario.state or not through_nrpe.same_reading(direct):
                problems.append(f"{scenario.name} (expected {scenario.state}):\n  nrpe:         {through_nrpe}\n"
                                f"  command line: {direct}")
        assert not problems, "\n".join(problems)
    finally:
        nrpe.stop()
