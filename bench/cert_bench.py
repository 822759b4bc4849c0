"""The ``check_tls_cert`` plugin end to end, side by side with two peers that check the same server.

- ``check_ssl_cert`` (Debian's nagios-plugins-contrib / monitoring-plugins-contrib): a shell
  script that runs ``openssl s_client``, ``openssl x509`` and a few hundred small tools per
  check. It is kept off the network: ``--resolve 127.0.0.1`` (else it runs ``host localhost``,
  a DNS query to the configured resolver, to pick nmap's address family), ``--ignore-ocsp``,
  ``--ignore-sct`` (CRL checks are opt-in, ``--crl``, and stay off), and ``-m localhost``
  (with ``-H localhost`` it checks no name by default and refuses to run).
- ``check_http -C 20,15 --ssl`` (monitoring-plugins): one C process; with ``-C`` it does the TLS
  handshake, checks the leaf's expiry and exits, without an HTTP request and without verifying
  the chain.

Every command must say OK against the server before timing starts; a peer that is missing or
does not say OK is left out with a note (tlsmon itself must work). Rounds rotate the order as in
the probe benchmark. The helper runs as a child subreaper (``Spawner(tree=True)``): CPU is that
of the whole process tree and peak RSS that of its largest process (see spawner.py).
"""

from __future__ import annotations

import datetime
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import cli_bench
from cli_bench import Command, Spawner
from pki import make_chain

__all__ = ["CHECK_SSL_CERT", "CHECK_HTTP", "cert_section", "tool_version", "debian_package"]

CHECK_SSL_CERT = "/usr/lib/nagios/plugins/check_ssl_cert"
CHECK_HTTP = "/usr/lib/nagios/plugins/check_http"
LEAF_DAYS = 90
CPU_RATIO_TARGET = 0.10  # check_tls_cert CPU / check_ssl_cert CPU, median of per-round ratios
WALL_TARGET_S = 0.100
RSS_TARGET_KB = 40 * 1024
SUBJECT = "check_tls_cert"
_TIMEOUT_S = 60.0
_ROOT = Path(__file__).resolve().parent.parent


def tool_version(argv: Sequence[str]) -> str:
    """First non-empty line a ``--version``-style call prints, or why there is none."""
    try:
        out = subprocess.run(list(argv), capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc})"
    lines = [ln.strip() for ln in (out.stdout + out.stderr).splitlines() if ln.strip()]
    return lines[0] if lines else f"unknown (exit {out.returncode}, no output)"


def debian_package(path: str) -> Optional[str]:
    """``name version`` of the Debian package that installed ``path``, None off Debian."""
    if shutil.which("dpkg-query") is None:
        return None
    try:
        owner = subprocess.run(["dpkg-query", "-S", path], capture_output=True, text=True, timeout=30)
        if owner.returncode != 0:
            return None
        name = owner.stdout.split(":", 1)[0].strip()
        ver = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", name], capture_output=True, text=True,
                             timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return f"{name} {ver.stdout.strip()}" if ver.returncode == 0 else name


def _peers(args: Any, port: int, root: Path, env: dict[str, str]) -> tuple[list[Command], dict[str, Any]]:
    """The peer commands that exist here, and what is known about each (version, or why skipped)."""
    p = str(port)
    specs = [
        ("check_ssl_cert", args.check_ssl_cert,
         ("-H", "localhost", "--resolve", "127.0.0.1", "-p", p, "-r", str(root), "--ignore-ocsp", "--ignore-sct",
          "-m", "localhost"),
         "check_ssl_cert -H localhost --resolve 127.0.0.1 -r CA --ignore-ocsp --ignore-sct -m localhost",
         "--version"),
        ("check_http", args.check_http, ("-H", "localhost", "-p", p, "--ssl", "-C", "20,15"),
         "check_http -H localhost --ssl -C 20,15", "-V"),
    ]
    commands, info = [], {}
    for key, path, argv, label, version_flag in specs:
        if not path or not os.access(path, os.X_OK):
            info[key] = {"path": path, "skipped": f"{path or key} not found (Debian: apt-get install "
                         f"{'nagios-plugins-contrib' if key == 'check_ssl_cert' else 'monitoring-plugins-standard'})"}
            continue
        info[key] = {"path": path, "version": tool_version([path, version_flag]), "package": debian_package(path)}
        commands.append(Command(key, (path, *argv), label, env))
    return commands, info


def _shown(path: Path) -> str:
    """``path`` relative to the project when it is inside it (``.venv/bin/check_tls_cert``)."""
    try:
        return str(Path(path).resolve().relative_to(_ROOT))
    except ValueError:
        return str(path)


def _first_line(path: Path) -> str:
    text = path.read_text(errors="replace").strip()
    return text.splitlines()[0] if text else "(no output)"


def _check_outputs(spawner: Spawner, commands: Sequence[Command], tmp: Path, info: dict[str, Any]) -> list[Command]:
    """Run each command once with its output kept; drop a peer that does not say OK, fail for tlsmon."""
    kept = []
    for cmd in commands:
        out = tmp / f"cert-{cmd.key}.out"
        sample = spawner.run(cmd.argv, env=cmd.env, stdout=str(out), timeout_s=_TIMEOUT_S)
        line = _first_line(out)
        ok = sample.exit_code == 0 and " OK" in f" {line}"
        entry = info.setdefault(cmd.key, {"path": cmd.argv[0]})
        entry["says"] = line
        if cmd.key.startswith(SUBJECT):
            if not ok or not line.startswith("TLS_CERT OK"):
                raise RuntimeError(f"{' '.join(cmd.argv)} exited with {sample.exit_code}:\n{out.read_text()[-2000:]}")
        elif not ok:
            entry["skipped"] = f"exited {sample.exit_code}, not OK: {line[:200]}"
            continue
        kept.append(cmd)
    return kept


def cert_section(args: Any, python: str, tmp: Path, quick: bool, env: dict[str, str],
                 openssl_server: Any, profiler: Optional[Callable[[Sequence[str], bool, Spawner], Any]] = None
                 ) -> dict[str, Any]:
    """check_tls_cert (plugin script and installed console script) vs check_ssl_cert and check_http.

    Args:
        args: run.py's options (``rounds``, ``openssl``, ``check_tls_cert``, ``check_tls_cert_script``,
            ``check_ssl_cert``, ``check_http``).
        python: the interpreter that runs the plugin script.
        tmp: scratch directory (PKI, outputs).
        quick: fewer rounds.
        env: the children's environment (bytecode cached, see run.bytecode_env).
        openssl_server: ``loopback.OpenSSLServer``.
        profiler: called as ``profiler(plugin_args, missed, spawner)`` while the server still
            runs, with ``missed`` true when a target was missed; what it returns (if not None) is
            kept as ``profile``.
    """
    chain = make_chain(tmp / "chain-cert", 1, datetime.datetime.now(datetime.timezone.utc), leaf_days=LEAF_DAYS)
    rounds = args.rounds or (5 if quick else 20)
    warmup = 1 if quick else 3
    res: dict[str, Any] = {
        "rounds": rounds,
        "warmup_rounds": warmup,
        "server": f"openssl s_server -www (its defaults: TLS 1.3), leaf ({LEAF_DAYS} days) + 1 intermediate, "
                  "RSA 2048; clients trust the root (-r)",
        "measure": "wall: fork to wait4 of the child; CPU: user + sys of the child and all its descendants "
                   "(wait4 rusage covers waited-for descendants; the helper is a child subreaper and adds "
                   "orphans); peak RSS: the largest single process of the tree (ru_maxrss is a maximum)",
        "bytecode": "cached in a private PYTHONPYCACHEPREFIX, filled by the warm-up (as an installed package)",
        "tools": {},
    }
    with Spawner(python, tree=True) as spawner, openssl_server(chain, None, args.openssl) as server:
        res["rss_floor_kb"] = spawner.run(["/bin/true"]).maxrss_kb
        base = ("-H", "localhost", "-p", str(server.port), "-r", str(chain.root_pem))
        commands = [Command(SUBJECT, (python, str(args.check_tls_cert), *base),
                            "python plugins/check_tls_cert -H localhost -r CA", env)]
        res["tools"][SUBJECT] = {"path": f"{python} {args.check_tls_cert}"}
        script = args.check_tls_cert_script
        if script and os.access(script, os.X_OK):
            commands.append(Command(f"{SUBJECT}_script", (str(script), *base),
                                    f"{_shown(script)} (installed script)", env))
            res["tools"][f"{SUBJECT}_script"] = {"path": str(script)}
        else:
            res["tools"][f"{SUBJECT}_script"] = {"path": str(script), "skipped": "installed script not found"}
        peers, info = _peers(args, server.port, chain.root_pem, env)
        res["tools"].update(info)
        commands = _check_outputs(spawner, [*commands, *peers], tmp, res["tools"])
        series = cli_bench.run_rounds(spawner, commands, rounds, warmup)
        _summarize(res, series)
        if profiler is not None:
            missed = any(t["met"] is False for tg in res["targets"].values() for t in tg.values())
            prof = profiler(base, missed, spawner)
            if prof is not None:
                res["profile"] = prof
    return res


def _summarize(res: dict[str, Any], series: dict[str, cli_bench.Series]) -> None:
    summary = {}
    for key, s in series.items():
        row = {"command": s.command.label, "argv": list(s.command.argv), **s.summary()}
        row["orphans_total"] = sum(x.orphans for x in s.samples)
        row["cpu_vs_children_delta_max_s"] = max(abs(x.cpu_s - x.children_cpu_s) for x in s.samples
                                                 if x.children_cpu_s is not None)
        summary[key] = row
    res["commands"] = summary
    # per tlsmon row: median over rounds of tlsmon/x for every other command (pairs from the same round)
    ratios = {key: cli_bench.ratio_medians(series, key) for key in (SUBJECT, f"{SUBJECT}_script") if key in series}
    res["ratios"] = ratios
    res["targets"] = _targets(summary, ratios)


def _targets(summary: dict[str, Any], ratios: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in (SUBJECT, f"{SUBJECT}_script"):
        row = summary.get(key)
        if row is None:
            continue
        t: dict[str, Any] = {
            "wall": {"max_s": WALL_TARGET_S, "value_s": row["wall_median_s"],
                     "met": row["wall_median_s"] <= WALL_TARGET_S},
            "rss": {"max_kb": RSS_TARGET_KB, "value_kb": row["maxrss_max_kb"], "of": "largest over all runs",
                    "met": row["maxrss_max_kb"] <= RSS_TARGET_KB},
        }
        if "check_ssl_cert" in summary:
            r = ratios[key]["check_ssl_cert"]["cpu"]
            t["cpu_ratio_vs_check_ssl_cert"] = {"max": CPU_RATIO_TARGET, "value": r, "met": r <= CPU_RATIO_TARGET,
                                                "how": "median of per-round ratios"}
        else:
            t["cpu_ratio_vs_check_ssl_cert"] = {"max": CPU_RATIO_TARGET, "value": None, "met": None,
                                                "how": "not evaluated: check_ssl_cert missing"}
        out[key] = t
    return out
