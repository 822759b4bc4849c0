"""The Debian package and the RPM: built from this tree, inspected, and their plugins run.

``packaging/build-deb.sh`` runs ``dpkg-buildpackage -us -uc -b`` (dh-python, pybuild's PEP 517
plugin) on a staged copy of the tree; ``packaging/build-rpm.sh`` runs ``rpmbuild -bb``. Each
package is unpacked and its check_tls_cert, on Debian's /usr/bin/python3 and the unpacked
modules only, checks loopback servers. Installing the .deb with apt is a CI step (.ci/run), see
test_installed_deb.py.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from integration.conftest import run_argv
from integration.engines import PluginResult
from integration.scenarios import PLUGINS, ROOT, Targets
from peers.tools import missing, require_tool

DEBIAN_PYTHON = "/usr/bin/python3"
TEST_TOOLS = ("pytest", "trustme", "hypothesis", "prometheus", "ruff", "mypy")
BUILD_HINT = ("apt-get install dpkg-dev debhelper dh-python pybuild-plugin-pyproject python3-all "
              "python3-setuptools python3-wheel python3-cryptography python3-nagiosplugin python3-requests")


def _version() -> str:
    text = (ROOT / "lib" / "tlsmon" / "__init__.py").read_text()
    match = re.search(r'^__version__ = "([^"]+)"', text, re.M)
    assert match
    return match.group(1)


def _build(script: str, out: Path) -> Path:
    env = dict(os.environ, TMPDIR=str(out.parent))
    run = subprocess.run(["sh", str(ROOT / "packaging" / script), str(out)], capture_output=True, text=True,
                         timeout=600, env=env)
    assert run.returncode == 0, f"{script} failed:\n{run.stdout[-6000:]}\n{run.stderr[-6000:]}"
    built = sorted(out.iterdir())
    assert len(built) == 1, built
    return built[0]


def _run_unpacked(root: Path, site: str, plugin: str, args: list[str]) -> PluginResult:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root / site.lstrip("/"))}
    plugin_path = root / "usr/lib/nagios/plugins" / plugin
    first = plugin_path.read_text().splitlines()[0]
    assert first == "#!/usr/bin/python3", first
    proc = subprocess.run([DEBIAN_PYTHON, str(plugin_path), *args], capture_output=True, text=True, timeout=60,
                          env=env, cwd="/")
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    return PluginResult.from_stdout(proc.returncode, proc.stdout)


def _require_debian_python() -> None:
    probe = subprocess.run([DEBIAN_PYTHON, "-c", "import cryptography, nagiosplugin, requests"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        missing("Debian's python3 lacks its modules; install them with: "
                "apt-get install python3-cryptography python3-nagiosplugin python3-requests")


def _checks_like_the_source_tree(root: Path, site: str, targets: Targets) -> None:
    """The packaged check_tls_cert gives OK / WARNING / CRITICAL as this tree's does."""
    _require_debian_python()
    for scenario in targets.scenarios():
        if scenario.plugin != "check_tls_cert":
            continue
        args = ["-H", "127.0.0.1", *scenario.args]
        packaged = _run_unpacked(root, site, "check_tls_cert", args)
        source = run_argv([DEBIAN_PYTHON, str(ROOT / "plugins" / "check_tls_cert"), *args],
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT / "lib")})
        assert packaged.state == scenario.state, (scenario.name, packaged)
        assert packaged.same_reading(source), (scenario.name, packaged, source)


# -- .deb ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def deb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    require_tool("dpkg-buildpackage", "apt-get install dpkg-dev")
    require_tool("dh", "apt-get install debhelper")
    require_tool("dh_python3", "apt-get install dh-python")
    if not Path("/usr/share/dh-python/dhpython/build/plugin_pyproject.py").exists():
        missing("pybuild's PEP 517 plugin is missing; install it with: apt-get install pybuild-plugin-pyproject")
    work = tmp_path_factory.mktemp("deb")
    yield _build("build-deb.sh", work / "out")


def test_deb_control_fields(deb: Path) -> None:
    assert deb.name == f"tlsmon_{_version()}_all.deb"
    fields = subprocess.run(["dpkg-deb", "-f", str(deb)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Package: tlsmon$", fields, re.M)
    assert re.search(rf"^Version: {re.escape(_version())}$", fields, re.M)
    assert re.search(r"^Architecture: all$", fields, re.M)
    depends = re.search(r"^Depends: (.*)$", fields, re.M)
    assert depends, fields
    items = {d.strip() for d in depends.group(1).split(",")}
    assert {"python3-cryptography (>= 38)", "python3-nagiosplugin (>= 1.3.2)", "python3-requests (>= 2.25)"} <= items
    assert not [d for d in items if any(tool in d for tool in TEST_TOOLS)], items  # no test tools pulled


def test_deb_installs_plugins_into_the_nagios_plugin_directory(deb: Path) -> None:
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True).stdout
    files = {line.split()[-1].lstrip(".") for line in listing.splitlines()}
    for plugin in PLUGINS:
        assert f"/usr/lib/nagios/plugins/{plugin}" in files
        assert f"/usr/bin/{plugin}" not in files
    assert "/usr/bin/tlsmon" in files
    assert "/usr/lib/python3/dist-packages/tlsmon/__init__.py" in files
    for shared in ("icinga2/tlsmon.conf", "nagios/tlsmon-commands.cfg", "nagios/tlsmon-services.cfg",
                   "nrpe/tlsmon.cfg", "scom/Invoke-TlsmonCheck.ps1", "scom/README.md",
                   "scom/Tlsmon.Unix.Monitors.mpx", "scom/Tlsmon.Windows.Monitors.mpx"):
        assert f"/usr/share/tlsmon/{shared}" in files
    assert not [f for f in files if "/tests/" in f or f.endswith((".pyc", ".egg-info"))]


def test_deb_plugin_checks_loopback_servers(deb: Path, targets: Targets, tmp_path: Path) -> None:
    root = tmp_path / "root"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    _checks_like_the_source_tree(root, "/usr/lib/python3/dist-packages", targets)
    tlsmon = root / "usr/bin/tlsmon"
    assert tlsmon.read_text().splitlines()[0] == "#!/usr/bin/python3"
    probe = subprocess.run([DEBIAN_PYTHON, str(tlsmon), "probe", f"127.0.0.1:{targets.valid_server.port}",
                            "--sni", "localhost"], capture_output=True, text=True, timeout=60,
                           env={"PYTHONPATH": str(root / "usr/lib/python3/dist-packages")})
    assert probe.returncode == 0, probe.stdout + probe.stderr
    assert "handshake OK" in probe.stdout


# -- .rpm ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rpm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_tool("rpmbuild", "apt-get install rpm")
    work = tmp_path_factory.mktemp("rpm")
    return _build("build-rpm.sh", work / "out")


def test_rpm_is_noarch_with_python_requires(rpm: Path) -> None:
    assert rpm.name == f"tlsmon-{_version()}-1.noarch.rpm"
    requires = subprocess.run(["rpm", "-qpR", str(rpm)], capture_output=True, text=True, check=True).stdout
    lines = {line.strip() for line in requires.splitlines()}
    assert {"python3-cryptography >= 38", "python3-nagiosplugin >= 1.3.2", "python3-requests >= 2.25"} <= lines
    assert not [r for r in lines if any(tool in r for tool in TEST_TOOLS)], lines
    arch = subprocess.run(["rpm", "-qp", "--qf", "%{ARCH}", str(rpm)], capture_output=True, text=True, check=True)
    assert arch.stdout == "noarch"
    files = set(subprocess.run(["rpm", "-qpl", str(rpm)], capture_output=True, text=True,
                               check=True).stdout.split())
    for plugin in PLUGINS:
        assert f"/usr/lib/nagios/plugins/{plugin}" in files
    assert "/usr/bin/tlsmon" in files
    assert "/usr/share/tlsmon/icinga2/tlsmon.conf" in files


def test_rpm_plugin_checks_loopback_servers(rpm: Path, targets: Targets, tmp_path: Path) -> None:
    require_tool("rpm2cpio", "apt-get install rpm2cpio")
    require_tool("cpio", "apt-get install cpio")
    root = tmp_path / "root"
    root.mkdir()
    subprocess.run(f"rpm2cpio {rpm} | cpio -idm --quiet", shell=True, cwd=root, check=True)
    # Debian's rpm has no Python macros: the spec's fallback site-packages path
    _checks_like_the_source_tree(root, "/usr/lib/python3/site-packages", targets)


def test_package_versions_agree() -> None:
    version = _version()
    changelog = (ROOT / "packaging" / "debian" / "changelog").read_text().splitlines()[0]
    assert changelog.startswith(f"tlsmon ({version}) "), changelog
    spec = (ROOT / "packaging" / "rpm" / "tlsmon.spec").read_text()
    assert re.search(rf"^Version:\s+{re.escape(version)}$", spec, re.M)
