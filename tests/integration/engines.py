"""Private, throw-away monitoring engines on loopback: Nagios 4, Icinga 2 (with its API), NRPE.

Each instance lives in its own temporary directory with its own configuration, listens on
127.0.0.1 only (Nagios listens on nothing), runs in the foreground under ``subprocess.Popen``
and is stopped by its pid (SIGTERM, then SIGKILL). No system service is used or touched.
See /work/shared/INTEGRATION-RECIPES.md for the settings and why they are there.
"""

from __future__ import annotations

import base64
import getpass
import grp
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

POLL_S = 0.1
DEADLINE_S = 60.0


@dataclass(frozen=True)
class PluginResult:
    """What a monitoring system records of one plugin run."""

    state: int
    output: str  # the status line without perfdata
    perfdata: str  # space-separated perfdata items
    long_output: str  # the lines after the status line, joined by newlines

    @classmethod
    def from_stdout(cls, code: int, stdout: str) -> PluginResult:
        """Split plugin output as Nagios does: first line, '|' perfdata, the rest."""
        first, _, rest = stdout.rstrip("\n").partition("\n")
        output, _, perfdata = first.partition("|")
        return cls(code, output.strip(), " ".join(perfdata.split()), rest.rstrip())

    def as_nagios_records_it(self) -> PluginResult:
        """Nagios 4 turns ';' into ':' in the status line (not in perfdata, not in long output).

        base/checks.c: "replace semicolons in plugin output (but not performance data) with
        colons". Applied to a command-line result, this is what status.dat must then hold.
        """
        return PluginResult(self.state, self.output.replace(";", ":"), self.perfdata, self.long_output)

    def masked(self) -> PluginResult:
        """Timings blanked (they differ from run to run); everything else as it was."""
        return PluginResult(self.state, mask_timings(self.output), _mask_perfdata(self.perfdata),
                            mask_timings(self.long_output))


    def same_reading(self, other: PluginResult) -> bool:
        """Equal, timings aside and up to the clock moving between two runs.

        Two runs a moment apart may round a day count differently in its last decimal
        (``days_chain_elem2=355408.27`` then ``355408.26``): a number with a decimal point may
        differ by one unit in its last place. Everything else (states, words, counts, ports,
        labels) must be identical.
        """
        a, b = self.masked(), other.masked()
        return a.state == b.state and all(_close(x, y) for x, y in (
            (a.output, b.output), (a.perfdata, b.perfdata), (a.long_output, b.long_output)))


_DECIMAL = re.compile(r"-?\d+\.\d+")


def _close(x: str, y: str) -> bool:
    if _DECIMAL.split(x) != _DECIMAL.split(y):
        return False
    for p, q in zip(_DECIMAL.findall(x), _DECIMAL.findall(y)):
        places = min(len(p.partition(".")[2]), len(q.partition(".")[2]))
        if abs(float(p) - float(q)) > 10.0 ** -places + 1e-9:
            return False
    return True


_MS = re.compile(r"\b\d+(?:\.\d+)? ms\b")
_PERF_TIME = re.compile(r"^(?P<label>[^=]*_time)=(?P<value>[-0-9.]+)(?P<uom>[a-zA-Z%]*)")


def mask_timings(text: str) -> str:
    return _MS.sub("<ms>", text)


def _mask_perfdata(perfdata: str) -> str:
    return " ".join(_PERF_TIME.sub(r"\g<label>=<t>\g<uom>", item) for item in perfdata.split())


def free_port() -> int:
    """A port the kernel hands out for 127.0.0.1:0 (the engine binds it right after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(what: str, probe: Callable[[], Any], deadline_s: float = DEADLINE_S, log: Optional[Path] = None) -> Any:
    """Poll `probe` every 0.1 s until it returns something true; fail with `what` at the deadline."""
    end = time.monotonic() + deadline_s
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > end:
            tail = log.read_text(errors="replace")[-3000:] if log is not None and log.exists() else ""
            raise TimeoutError(f"{what} within {deadline_s:g} s\n{tail}")
        time.sleep(POLL_S)


def stop_process(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    """SIGTERM to the pid we started, wait; SIGKILL if it does not go."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


def write_plugin_wrappers(directory: Path, plugins: Sequence[str], python: str, lib: Path, plugin_dir: Path) -> Path:
    """One executable per plugin in `directory` that runs it with `python` and `lib` first on the path.

    Engines run checks with their own environment and working directory (/tmp for Nagios):
    every path in the wrapper is absolute.
    """
    directory.mkdir(parents=True, exist_ok=True)
    for name in plugins:
        wrapper = directory / name
        wrapper.write_text(f'#!/bin/sh\nPYTHONPATH={lib} exec {python} {plugin_dir / name} "$@"\n')
        wrapper.chmod(0o755)
    return directory


# -- Nagios 4 --------------------------------------------------------------------------------------

NAGIOS_CFG = """\
log_file={d}/nagios.log
cfg_file={d}/objects.cfg
{extra_cfg}
object_cache_file={d}/objects.cache
precached_object_file={d}/objects.precache
resource_file={d}/resource.cfg
status_file={d}/status.dat
status_update_interval=1
nagios_user={user}
nagios_group={group}
check_external_commands=1
command_file={d}/nagios.cmd
query_socket={d}/nagios.qh
lock_file={d}/nagios.pid
temp_file={d}/nagios.tmp
temp_path={d}
check_result_path={d}/spool
check_result_reaper_frequency=1
use_syslog=0
retain_state_information=0
interval_length=1
check_for_updates=0
service_inter_check_delay_method=n
host_inter_check_delay_method=n
max_service_check_spread=1
max_host_check_spread=1
enable_notifications=0
enable_flap_detection=0
check_service_freshness=0
service_check_timeout=60
"""

NAGIOS_OBJECTS = """\
define timeperiod {
  timeperiod_name 24x7
  alias 24x7
  sunday 00:00-24:00
  monday 00:00-24:00
  tuesday 00:00-24:00
  wednesday 00:00-24:00
  thursday 00:00-24:00
  friday 00:00-24:00
  saturday 00:00-24:00
}
define command {
  command_name noop
  command_line /bin/true
}
define contact {
  contact_name nobody
  host_notifications_enabled 0
  service_notifications_enabled 0
  host_notification_period 24x7
  service_notification_period 24x7
  host_notification_options n
  service_notification_options n
  host_notification_commands noop
  service_notification_commands noop
}
define host {
  host_name lo
  address 127.0.0.1
  check_command noop
  max_check_attempts 1
  check_interval 3600
  check_period 24x7
  contacts nobody
  notification_period 24x7
  notifications_enabled 0
}
"""

NAGIOS_SERVICE = """\
define service {{
  host_name lo
  service_description {name}
  check_command {check_command}
  max_check_attempts 1
  check_interval 3600
  retry_interval 1
  check_period 24x7
  contacts nobody
  notification_period 24x7
  notification_interval 0
  notifications_enabled 0
}}
"""


def _unescape_status(value: str) -> str:
    # status.dat escapes '\' as '\\' and a newline as '\n'
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), value)


def parse_status_dat(text: str) -> dict[str, dict[str, str]]:
    """{service_description: {key: value}} of the services that have been checked."""
    out: dict[str, dict[str, str]] = {}
    current: Optional[dict[str, str]] = None
    for line in text.splitlines():
        s = line.strip()
        if s.endswith("{"):
            current = {"_type": s[:-1].strip()}
        elif s == "}" and current is not None:
            if current["_type"] == "servicestatus" and current.get("has_been_checked") == "1":
                out[current["service_description"]] = current
            current = None
        elif current is not None and "=" in s:
            key, _, value = s.partition("=")
            current[key] = value
    return out


class Nagios:
    """A private Nagios 4: host ``lo`` (127.0.0.1) and one service per check command.

    Args:
        nagios: the nagios4 binary.
        directory: an empty directory for everything the instance writes.
        user1: what ``$USER1$`` stands for (the plugin directory).
        services: service description -> check_command (``check_tls_cert!-p 8443 ...``).
        cfg_files: further object files (the shipped command definitions).
    """

    def __init__(self, nagios: str, directory: Path, user1: Path, services: dict[str, str],
                 cfg_files: Sequence[Path] = ()) -> None:
        self.nagios = nagios
        self.d = directory
        (self.d / "spool").mkdir(parents=True, exist_ok=True)
        extra = "\n".join(f"cfg_file={f}" for f in cfg_files)
        self.cfg = self.d / "nagios.cfg"
        self.cfg.write_text(NAGIOS_CFG.format(d=self.d, extra_cfg=extra, user=getpass.getuser(),
                                              group=grp.getgrgid(os.getgid()).gr_name))
        (self.d / "resource.cfg").write_text(f"$USER1$={user1}\n")
        (self.d / "objects.cfg").write_text(NAGIOS_OBJECTS + "".join(
            NAGIOS_SERVICE.format(name=name, check_command=command) for name, command in services.items()))
        self.services = dict(services)
        self.proc: Optional[subprocess.Popen] = None

    def verify(self) -> str:
        """``nagios4 -v``: the configuration pre-flight; returns its report, raises if it fails."""
        run = subprocess.run([self.nagios, "-v", str(self.cfg)], capture_output=True, text=True, timeout=60)
        if run.returncode != 0:
            raise AssertionError(f"nagios4 -v failed:\n{run.stdout}{run.stderr}")
        return run.stdout

    def start(self) -> None:
        self.verify()
        self.proc = subprocess.Popen([self.nagios, str(self.cfg)], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)  # its workers exit with it

    def status(self) -> dict[str, dict[str, str]]:
        path = self.d / "status.dat"
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"nagios4 exited with {self.proc.returncode}:\n{self._log()}")
        return parse_status_dat(path.read_text(errors="replace")) if path.exists() else {}

    def _log(self) -> str:
        log = self.d / "nagios.log"
        return log.read_text(errors="replace")[-3000:] if log.exists() else ""

    def wait_for_results(self, names: Sequence[str], newer_than: Optional[dict[str, int]] = None
                         ) -> dict[str, PluginResult]:
        """Wait until every named service has a result (newer than `newer_than[name]`, if given)."""
        newer = newer_than or {}

        def ready() -> Optional[dict[str, dict[str, str]]]:
            st = self.status()
            if all(n in st and int(st[n]["last_check"]) > newer.get(n, 0) for n in names):
                return st
            return None

        st = wait_until(f"Nagios results for {list(names)}", ready, log=self.d / "nagios.log")
        return {n: self.result(st[n]) for n in names}

    @staticmethod
    def result(entry: dict[str, str]) -> PluginResult:
        return PluginResult(int(entry["current_state"]), entry["plugin_output"].strip(),
                            " ".join(entry.get("performance_data", "").split()),
                            _unescape_status(entry.get("long_plugin_output", "")).rstrip())

    def last_check(self, name: str) -> int:
        return int(self.status()[name]["last_check"])

    def force_check(self, name: str) -> int:
        """SCHEDULE_FORCED_SVC_CHECK through the command pipe; returns the previous last_check.

        last_check has 1-second resolution: wait into the next second before forcing, so that
        the new result is told apart by its time.
        """
        previous = self.last_check(name)
        while int(time.time()) <= previous:
            time.sleep(POLL_S)
        now = int(time.time())
        with open(self.d / "nagios.cmd", "w") as pipe:
            pipe.write(f"[{now}] SCHEDULE_FORCED_SVC_CHECK;lo;{name};{now}\n")
        return previous


# -- Icinga 2 --------------------------------------------------------------------------------------


class Icinga2:
    """A private Icinga 2 tree from ``-D`` path constants; with ``api=True`` a REST API on 127.0.0.1.

    Args:
        icinga2: the icinga2 binary.
        directory: an empty directory for the tree.
        config: the body of icinga2.conf after the constants (includes, objects).
        plugin_dir: the value of the PluginDir constant.
        api: run an ApiListener on a free loopback port (needed to read results back).
    """

    NODE = "tlsmon-it-node"

    def __init__(self, icinga2: str, directory: Path, config: str, plugin_dir: Path, api: bool = False) -> None:
        self.icinga2 = icinga2
        self.d = directory
        for sub in ("etc", "data/certs", "log", "cache", "spool", "run"):
            (self.d / sub).mkdir(parents=True, exist_ok=True)
        self.defines = [f"-DConfigDir={self.d}/etc", f"-DDataDir={self.d}/data", f"-DLogDir={self.d}/log",
                        f"-DCacheDir={self.d}/cache", f"-DSpoolDir={self.d}/spool", f"-DInitRunDir={self.d}/run",
                        f"-DRunAsUser={getpass.getuser()}", f"-DRunAsGroup={grp.getgrgid(os.getgid()).gr_name}"]
        head = [f'const PluginDir = "{plugin_dir}"', f'const PluginContribDir = "{plugin_dir}"',
                f'const NodeName = "{self.NODE}"', "const ZoneName = NodeName", 'const TicketSalt = ""',
                "include <itl>", "include <plugins>"]
        self.api = api
        self.port = 0
        self.password = base64.b16encode(os.urandom(12)).decode()
        if api:
            self.port = free_port()
            self._make_api_certificate()
            head += [
                'object CheckerComponent "checker" { }',
                "object Endpoint NodeName { }",
                "object Zone ZoneName { endpoints = [ NodeName ] }",
                f'object ApiListener "api" {{ bind_host = "127.0.0.1"; bind_port = {self.port} }}',
                f'object ApiUser "tlsmon-it" {{ password = "{self.password}"; permissions = [ "*" ] }}',
            ]
        self.conf = self.d / "etc" / "icinga2.conf"
        self.conf.write_text("\n".join(head) + "\n" + config + "\n")
        self.proc: Optional[subprocess.Popen] = None
        self._context: Optional[ssl.SSLContext] = None

    def _make_api_certificate(self) -> None:
        # The ApiListener reads DataDir/certs/<NodeName>.crt/.key and ca.crt.
        import trustme

        ca = trustme.CA()
        leaf = ca.issue_cert(self.NODE, common_name=self.NODE)
        certs = self.d / "data" / "certs"
        leaf.cert_chain_pems[0].write_to_path(str(certs / f"{self.NODE}.crt"))
        leaf.private_key_pem.write_to_path(str(certs / f"{self.NODE}.key"))
        ca.cert_pem.write_to_path(str(certs / "ca.crt"))

    def validate(self) -> subprocess.CompletedProcess:
        """``icinga2 daemon -C`` on the private tree (exit 0 when valid)."""
        return subprocess.run([self.icinga2, "daemon", "-C", "-c", str(self.conf), *self.defines],
                              capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        check = self.validate()
        if check.returncode != 0:
            raise AssertionError(f"icinga2 daemon -C failed:\n{check.stdout}{check.stderr}")
        log = open(self.d / "daemon.log", "wb")
        self.proc = subprocess.Popen([self.icinga2, "daemon", "-c", str(self.conf), *self.defines],
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        if self.api:
            wait_until("the Icinga 2 API answering", lambda: self._answers(), log=self.d / "daemon.log")

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)  # the parent stops its re-executed child

    def _answers(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"icinga2 exited with {self.proc.returncode}:\n"
                                 + (self.d / "daemon.log").read_text(errors="replace")[-3000:])
        try:
            self.request("GET", "/v1/status/IcingaApplication")
        except OSError:
            return False
        return True

    def request(self, method: str, path: str, body: Optional[dict] = None) -> Any:
        if self._context is None:
            self._context = ssl.create_default_context(cafile=str(self.d / "data" / "certs" / "ca.crt"))
            self._context.check_hostname = False  # the certificate names the node; we dial 127.0.0.1
        token = base64.b64encode(f"tlsmon-it:{self.password}".encode()).decode()
        req = urllib.request.Request(f"https://127.0.0.1:{self.port}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Accept": "application/json", "Authorization": f"Basic {token}"})
        with urllib.request.urlopen(req, context=self._context, timeout=10) as resp:
            return json.loads(resp.read())

    def reschedule(self, service: str) -> None:
        self.request("POST", "/v1/actions/reschedule-check",
                     {"type": "Service", "filter": f'service.name=="{service}"', "force": True})

    def check_result(self, host: str, service: str) -> Optional[dict[str, Any]]:
        answer = self.request("GET", f"/v1/objects/services/{host}!{service}?attrs=last_check_result")
        return answer["results"][0]["attrs"]["last_check_result"]

    def run_now(self, host: str, services: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Reschedule each service now and wait for a result of each."""
        before = {s: (self.check_result(host, s) or {}).get("execution_end", 0.0) for s in services}
        for s in services:
            self.reschedule(s)

        def done() -> Optional[dict[str, dict[str, Any]]]:
            results = {s: self.check_result(host, s) for s in services}
            if all(r and r.get("execution_end", 0.0) > before[s] for s, r in results.items()):
                return results  # type: ignore[return-value]
            return None

        return wait_until(f"Icinga 2 results for {list(services)}", done, log=self.d / "daemon.log")


def icinga_result(result: dict[str, Any]) -> PluginResult:
    """An Icinga check result as Nagios would record it (Icinga keeps a space before the '|')."""
    lines = result["output"].split("\n")
    return PluginResult(int(result["exit_status"]), lines[0].strip(),
                        " ".join(str(p) for p in result.get("performance_data") or []),
                        "\n".join(lines[1:]).rstrip())


# -- NRPE ------------------------------------------------------------------------------------------


class Nrpe:
    """A private nrpe on 127.0.0.1 with fixed command lines (Debian's nrpe takes no arguments).

    As root nrpe drops to user nagios: every path in a command must be usable by that user.
    """

    def __init__(self, nrpe: str, directory: Path, commands: dict[str, str]) -> None:
        self.nrpe = nrpe
        self.d = directory
        self.d.mkdir(parents=True, exist_ok=True)
        self.d.chmod(0o755)
        self.port = free_port()
        user, group = ("nagios", "nagios") if os.geteuid() == 0 else (getpass.getuser(),
                                                                       grp.getgrgid(os.getgid()).gr_name)
        lines = [f"pid_file={self.d}/nrpe.pid", "server_address=127.0.0.1", f"server_port={self.port}",
                 f"nrpe_user={user}", f"nrpe_group={group}", "allowed_hosts=127.0.0.1", "dont_blame_nrpe=0",
                 "command_timeout=60", "connection_timeout=120", "disable_syslog=1", f"log_file={self.d}/nrpe.log",
                 "debug=0"]
        lines += [f"command[{name}]={command}" for name, command in commands.items()]
        self.cfg = self.d / "nrpe.cfg"
        self.cfg.write_text("\n".join(lines) + "\n")
        self.cfg.chmod(0o644)
        (self.d / "nrpe.log").touch()
        if os.geteuid() == 0:
            shutil.chown(self.d, user, group)  # pid and log are written after the switch of user
            shutil.chown(self.d / "nrpe.log", user, group)
        self.proc: Optional[subprocess.Popen] = None

    def start(self, check_nrpe: str) -> None:
        self.proc = subprocess.Popen([self.nrpe, "-c", str(self.cfg), "-f"], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def answers() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"nrpe exited with {self.proc.returncode}:\n"
                                     + (self.d / "nrpe.log").read_text(errors="replace"))
            return subprocess.run([check_nrpe, "-H", "127.0.0.1", "-p", str(self.port)],
                                  capture_output=True, timeout=30).returncode == 0

        wait_until("nrpe answering", answers, log=self.d / "nrpe.log")

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
