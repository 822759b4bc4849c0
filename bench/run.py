#!/usr/bin/env python3
"""tlsmon benchmarks against real loopback peers, side by side, as ratios (``make bench``).

1. Codec throughput: a TLS 1.2 server flight (leaf + 2 intermediates, RSA 2048) recorded from a
   loopback Python ``ssl`` server, parsed over and over on one pinned core.
2. ``tlsmon probe`` end to end against ``openssl s_server`` (TLS 1.3, then TLS 1.2), in rounds
   with ``openssl s_client`` and a bare interpreter start; wall, CPU and peak RSS per run.
3. The ``check_tls_cert`` plugin end to end against ``openssl s_server`` (leaf + 1 intermediate,
   leaf valid 90 days), in rounds with ``check_ssl_cert`` (nagios-plugins-contrib) and
   ``check_http -C`` (monitoring-plugins); CPU and peak RSS of whole process trees. A peer that
   is not installed is left out with a note.
4. If the probe misses its 100 ms target (or with ``--profile``): where the time goes.
5. The same for ``check_tls_cert`` when it misses one of its targets (or with ``--profile``).

Only 127.0.0.1, servers on port 0, every process started here stopped by its pid.
Usage: ``.venv/bin/python bench/run.py [--quick] [--json FILE] [--rev REV]``. With ``--rev`` the
code of commit REV is measured (lib/ and plugins/ from ``git archive``, first on PYTHONPATH, in
this process, re-executed, and in every child) instead of the working tree, which others may be
editing while the benchmark runs; the results name the code measured either way.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import shutil
import ssl
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Optional, Sequence

import cert_bench
import cli_bench
import codec_bench
import cryptography
import loopback
from cli_bench import Command, Spawner
from pki import make_chain
from profile_cert import profile_cert
from profile_probe import profile_probe

import tlsmon

ROOT = Path(__file__).resolve().parent.parent
_SNAPSHOT_ENV = "TLSMON_BENCH_SNAPSHOT"  # set by --rev: "REV SHA DIRECTORY" of the extracted code
# the code under test: the working tree, or the snapshot extracted for --rev
CODE_ROOT = Path(os.environ[_SNAPSHOT_ENV].split(" ", 2)[2]) if os.environ.get(_SNAPSHOT_ENV) else ROOT
PARSE_TARGET_PER_S = 20_000
PROBE_TARGET_S = 0.100
_MESSAGE_NAMES = {2: "ServerHello", 11: "Certificate", 12: "ServerKeyExchange", 13: "CertificateRequest",
                  14: "ServerHelloDone", 22: "CertificateStatus"}
_CODEC_LABELS = {
    "parse_flight": "RecordReader > HandshakeReassembler > parse_handshake",
    "client_handshake_feed": "ClientHandshake: feed + drain (object pre-built)",
    "client_handshake_with_hello": "ClientHandshake: construct + feed + drain",
    "client_handshake_construction": "ClientHandshake: construct only (ClientHello)",
}


def _default_tlsmon() -> Path:
    """The ``tlsmon`` script beside this interpreter (``make bench`` runs $(VENV)/bin/python)."""
    beside = Path(sys.executable).parent / "tlsmon"
    return beside if beside.exists() else ROOT / ".venv" / "bin" / "tlsmon"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--quick", action="store_true", help="a short run: fewer repetitions and rounds")
    p.add_argument("--json", metavar="FILE", type=Path, help="also write the results as JSON to FILE")
    p.add_argument("--rounds", type=int, help="rounds per server, probe and check_tls_cert (default 20, --quick 5)")
    prof = p.add_mutually_exclusive_group()
    prof.add_argument("--profile", action="store_true",
                      help="profile the probe and check_tls_cert even if they meet their targets")
    prof.add_argument("--no-profile", action="store_true", help="never profile them")
    p.add_argument("--no-inherited", action="store_true",
                   help="skip the extra tlsmon row that runs in the inherited environment")
    p.add_argument("--openssl", default=shutil.which("openssl") or "openssl", help="the openssl program")
    p.add_argument("--tlsmon", type=Path, default=_default_tlsmon(), help="the tlsmon console script")
    p.add_argument("--rev", metavar="REV",
                   help="measure commit REV (git archive of lib/ and plugins/) instead of the working tree")
    p.add_argument("--check-tls-cert", type=Path, default=CODE_ROOT / "plugins" / "check_tls_cert",
                   help="the plugin script, run as PYTHON SCRIPT (PYTHON: the tlsmon script's interpreter)")
    p.add_argument("--check-tls-cert-script", type=Path,
                   help="the installed check_tls_cert script, run directly (default: beside --tlsmon)")
    p.add_argument("--check-ssl-cert", default=cert_bench.CHECK_SSL_CERT, help="check_ssl_cert (peer)")
    p.add_argument("--check-http", default=cert_bench.CHECK_HTTP, help="check_http (peer)")
    return p


def _interpreter_of(script: Path) -> str:
    """The interpreter in a console script's ``#!`` line (the one ``tlsmon`` really runs on)."""
    with script.open("rb") as f:
        first = f.readline().decode("utf-8", "replace").strip()
    if first.startswith("#!") and Path(first[2:].split()[0]).exists():
        return first[2:].split()[0]
    return sys.executable


def _machine(openssl: str, python: str) -> dict[str, Any]:
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "probe_interpreter": python,
        "openssl": loopback.openssl_version(openssl),
        "python_ssl": ssl.OPENSSL_VERSION,
        "cryptography": cryptography.__version__,
        "tlsmon": tlsmon.__version__,
        "tlsmon_imported_from": {"bench": str(Path(tlsmon.__file__).parent), "children": _child_tlsmon(python)},
    }


def _child_tlsmon(python: str) -> str:
    """Where the interpreter of the children finds tlsmon (the working tree, or the --rev snapshot)."""
    try:
        out = subprocess.run([python, "-c", "import os, tlsmon; print(os.path.dirname(tlsmon.__file__))"],
                             capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc})"
    return out.stdout.strip() or f"unknown: {out.stderr.strip()[-300:]}"


def _source_digest() -> str:
    """sha256 (12 hex) over the code under test: lib/tlsmon/**/*.py and plugins/*."""
    h = hashlib.sha256()
    files = sorted([*(CODE_ROOT / "lib" / "tlsmon").rglob("*.py"), *(CODE_ROOT / "plugins").glob("*")])
    for f in files:
        if f.is_file():
            h.update(str(f.relative_to(CODE_ROOT)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:12]


def _git(*cmd: str) -> str:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), *cmd], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def _source_state() -> dict[str, Any]:
    """Which code is measured: a commit (--rev), or HEAD plus the changes under lib/ and plugins/."""
    if os.environ.get(_SNAPSHOT_ENV):
        rev, sha, where = os.environ[_SNAPSHOT_ENV].split(" ", 2)
        return {"rev": rev, "head": sha[:7], "snapshot": where, "uncommitted": [],
                "digest_at_start": _source_digest()}
    changed = [ln for ln in _git("status", "--porcelain", "--", "lib", "plugins").splitlines() if ln.strip()]
    return {"rev": "working tree", "head": _git("rev-parse", "--short", "HEAD") or "unknown", "uncommitted": changed,
            "digest_at_start": _source_digest()}


def _reexec_on_snapshot(rev: str, argv: Sequence[str]) -> None:
    """--rev: extract lib/ and plugins/ of REV, put lib/ first on PYTHONPATH and run again on it."""
    sha = _git("rev-parse", "--verify", f"{rev}^{{commit}}")
    if not sha:
        raise SystemExit(f"--rev {rev}: not a commit of {ROOT}")
    where = Path(tempfile.mkdtemp(prefix=f"tlsmon-bench-code-{sha[:7]}-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", sha, "lib", "plugins"],
                             capture_output=True, check=True, timeout=120).stdout
    subprocess.run(["tar", "-x", "-C", str(where)], input=archive, check=True, timeout=120)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(where / "lib"), env.get("PYTHONPATH")) if p)
    env[_SNAPSHOT_ENV] = f"{rev} {sha} {where}"
    # the same arguments: with _SNAPSHOT_ENV set, the new process does not extract again
    os.execve(sys.executable, [sys.executable, str(Path(__file__).resolve()), *argv], env)


# --- 1. codec -------------------------------------------------------------------------------


def codec_section(chain_dir: Path, quick: bool) -> dict[str, Any]:
    chain = make_chain(chain_dir, 2, datetime.datetime.now(datetime.timezone.utc))
    flight = codec_bench.record_tls12_flight(chain)
    repeats, min_time_s = (3, 0.05) if quick else (9, 0.25)
    with codec_bench.pinned_to_one_core() as pin:
        timings = dict(codec_bench.iter_timings(flight.data, repeats, min_time_s))
    rows = {
        key: {
            "label": _CODEC_LABELS[key],
            "best_per_s": t.best_per_s,
            "median_per_s": t.median_per_s,
            "best_us": t.best_us,
            "median_us": t.median_us,
            "loops_per_rep": t.loops,
            "reps": len(t.per_rep_s),
        }
        for key, t in timings.items()
    }
    parse = rows["parse_flight"]
    return {
        "flight": {
            "bytes": len(flight.data),
            "records": flight.records,
            "messages": [_MESSAGE_NAMES.get(t, str(t)) for t in flight.message_types],
            "certificates": flight.certificates,
            "cipher_suite": f"0x{flight.cipher_suite:04X}",
            "server": "Python ssl (TLS 1.2 only), leaf + 2 intermediates, RSA 2048",
        },
        "pinned_cpu": pin.cpu,
        "gc": "disabled while timing (as timeit)",
        "timings": rows,
        "client_handshake_notes": (
            "feed + drain: receive_data(flight) and next_event() until ServerFlightComplete, on a fresh "
            "ClientHandshake built before the clock starts (its ClientHello already built and taken). "
            "construct: ClientHandshake(HelloOptions(versions=(TLS12,), server_name='localhost'), os.urandom) "
            "-> two os.urandom(32), build_client_hello_message, build_handshake, transcript update, "
            "build_record, plus data_to_send(); no key share (TLS 1.2 only offered)."
        ),
        "target": {"metric": "parse_flight median_per_s", "min_per_s": PARSE_TARGET_PER_S,
                   "met": parse["median_per_s"] >= PARSE_TARGET_PER_S},
    }


# --- 2. probe end to end ------------------------------------------------------------------------


def bytecode_env(cache_dir: Path) -> dict[str, str]:
    """The children's environment: bytecode compiled once and cached, as in an installed package.

    pip and Debian's py3compile ship .pyc files, so a deployed ``tlsmon`` does not compile its
    sources at each start. Here the cache goes to a private directory (PYTHONPYCACHEPREFIX), so
    nothing is written next to the sources, and the warm-up rounds fill it.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(cache_dir)
    return env


def _inherited_bytecode_note() -> str:
    cached = (CODE_ROOT / "lib" / "tlsmon" / "__pycache__").is_dir()
    flag = os.environ.get("PYTHONDONTWRITEBYTECODE")
    prefix = os.environ.get("PYTHONPYCACHEPREFIX")
    return (f"PYTHONDONTWRITEBYTECODE={flag or '(unset)'}, PYTHONPYCACHEPREFIX={prefix or '(unset)'}, "
            f"lib/tlsmon/__pycache__ {'present' if cached else 'absent'}")


def _commands(args: argparse.Namespace, python: str, port: int, env: dict[str, str]) -> list[Command]:
    target = f"127.0.0.1:{port}"
    probe = (str(args.tlsmon), "probe", target, "--sni", "localhost")
    imports = "import tlsmon.cli.main, tlsmon.sources.probe, tlsmon.outputs.ladder, tlsmon.x509facts"
    commands = [
        Command("tlsmon", probe, f"tlsmon probe {target} --sni localhost", env),
        Command("s_client", (args.openssl, "s_client", "-connect", target, "-servername", "localhost"),
                "openssl s_client </dev/null", env),
        Command("python", (python, "-c", "import ssl, cryptography.x509"),
                'python -c "import ssl, cryptography.x509"', env),
        Command("imports", (python, "-c", imports), "python -c 'import <tlsmon probe modules>'", env),
    ]
    if not args.no_inherited:
        commands.append(Command("tlsmon_inherited_env", probe, "tlsmon probe, inherited env (see note)", None))
    return commands


def _check_outputs(spawner: Spawner, commands: Sequence[Command], tmp: Path, version: str) -> dict[str, str]:
    """Run each command once with its output kept: each must work, and against the right version."""
    seen = {}
    for cmd in commands:
        out = tmp / f"{cmd.key}.out"
        sample = spawner.run(cmd.argv, env=cmd.env, stdout=str(out))
        text = out.read_text(errors="replace")
        if sample.exit_code != 0:
            raise RuntimeError(f"{' '.join(cmd.argv)} exited with {sample.exit_code}:\n{text[-2000:]}")
        if cmd.key in ("tlsmon", "s_client", "tlsmon_inherited_env") and f"TLSv{version}" not in text:
            raise RuntimeError(f"{' '.join(cmd.argv)} did not report TLSv{version}:\n{text[-2000:]}")
        if cmd.key == "tlsmon":
            seen[cmd.key] = text.strip().splitlines()[-1]
    return seen


def probe_section(args: argparse.Namespace, tmp: Path, quick: bool) -> dict[str, Any]:
    chain = make_chain(tmp / "chain2", 1, datetime.datetime.now(datetime.timezone.utc))
    python = _interpreter_of(args.tlsmon)
    rounds = args.rounds or (5 if quick else 20)
    warmup = 1 if quick else 3
    env = bytecode_env(tmp / "pycache")
    results: dict[str, Any] = {
        "python": python,
        "rounds": rounds,
        "warmup_rounds": warmup,
        "bytecode": "cached in a private PYTHONPYCACHEPREFIX, filled by the warm-up (as an installed package)",
        "inherited_env": _inherited_bytecode_note(),
        "runs": {},
    }
    with Spawner(sys.executable) as spawner:
        results["rss_floor_kb"] = spawner.run(["/bin/true"]).maxrss_kb
        for version, flag in (("1.3", "-tls1_3"), ("1.2", "-tls1_2")):
            with loopback.OpenSSLServer(chain, flag, args.openssl) as server:
                commands = _commands(args, python, server.port, env)
                last_line = _check_outputs(spawner, commands, tmp, version)["tlsmon"]
                series = cli_bench.run_rounds(spawner, commands, rounds, warmup)
                summary = {key: {"command": s.command.label, **s.summary()} for key, s in series.items()}
                tl = summary["tlsmon"]
                run = {
                    "server": f"openssl s_server -www {flag}, leaf + 1 intermediate (RSA 2048)",
                    "tlsmon_says": last_line,
                    "commands": summary,
                    "tlsmon_ratio_medians": cli_bench.ratio_medians(series, "tlsmon"),
                    "target": {
                        "max_s": PROBE_TARGET_S,
                        "wall_met": tl["wall_median_s"] <= PROBE_TARGET_S,
                        "cpu_met": tl["cpu_median_s"] <= PROBE_TARGET_S,
                    },
                }
                results["runs"][f"TLSv{version}"] = run
                missed = not (run["target"]["wall_met"] and run["target"]["cpu_met"])
                if version == "1.3" and not args.no_profile and (args.profile or missed):
                    argv = ["probe", f"127.0.0.1:{server.port}", "--sni", "localhost"]
                    def spawn(cmd: Sequence[str]) -> tuple[float, float]:
                        sample = spawner.run(cmd, env=env)
                        if sample.exit_code != 0:
                            raise RuntimeError(f"{' '.join(cmd)} exited with {sample.exit_code}")
                        return sample.wall_s, sample.cpu_s

                    results["profile"] = profile_probe(python, argv, 1 if quick else 5, env, spawn)
                    results["profile"]["against"] = f"TLSv{version} server"
    return results


# --- 3. check_tls_cert vs check_ssl_cert and check_http ------------------------------------------


def cert_section(args: argparse.Namespace, tmp: Path, quick: bool) -> dict[str, Any]:
    python = _interpreter_of(args.tlsmon)
    env = bytecode_env(tmp / "pycache")

    def profiler(plugin_args: Sequence[str], missed: bool, spawner: Spawner) -> Optional[dict[str, Any]]:
        if args.no_profile or not (args.profile or missed):
            return None

        def spawn(cmd: Sequence[str]) -> tuple[float, float]:
            sample = spawner.run(cmd, env=env)
            if sample.exit_code != 0:
                raise RuntimeError(f"{' '.join(cmd[:2])} ... exited with {sample.exit_code}")
            return sample.wall_s, sample.cpu_s

        try:
            return profile_cert(python, args.check_tls_cert, plugin_args, env, 1 if quick else 5, spawn)
        except (RuntimeError, OSError, subprocess.SubprocessError, ValueError, SyntaxError) as exc:
            return {"error": f"{type(exc).__name__}: {exc}"[:2000]}

    return cert_bench.cert_section(args, python, tmp, quick, env, loopback.OpenSSLServer, profiler)


# --- output ---------------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def print_report(res: dict[str, Any], out: Any = sys.stdout) -> None:
    def w(line: str = "") -> None:
        print(line, file=out)

    m = res["machine"]
    w(f"tlsmon {m['tlsmon']} benchmarks, {m['date']}: {m['cpus']} CPUs ({m['cpus_usable']} usable), "
      f"Python {m['python']}, {m['openssl']}, cryptography {m['cryptography']}")
    w(f"  {m['platform']}; mode: {res['mode']}")
    src = res.get("source")
    if src:
        what = (f"commit {src['head']} (--rev {src['rev']}), extracted to {src['snapshot']}" if "snapshot" in src
                else f"working tree: HEAD {src['head']} + {len(src['uncommitted'])} uncommitted change(s) under "
                     "lib/ and plugins/")
        w(f"  code under test: {what}, digest {src['digest_at_start']}; tlsmon imported from "
          f"{m['tlsmon_imported_from']['children']}"
          + ("" if not src.get("changed_during_run") else
             f" -> {src['digest_at_end']}: WARNING, the code changed during the run"))
    w()
    c = res["codec"]
    f = c["flight"]
    w(f"1. Codec throughput: recorded TLS 1.2 flight, {f['bytes']} bytes in {f['records']} records: "
      f"{' '.join(f['messages'])} ({f['certificates']} certificates, suite {f['cipher_suite']})")
    w(f"   one core (CPU {c['pinned_cpu']}), {c['gc']}; per flight, best and median of repetitions")
    w(f"   {'':52} {'best/s':>9} {'median/s':>9} {'best':>9} {'median':>9}")
    for row in c["timings"].values():
        w(f"   {row['label']:52} {row['best_per_s']:9,.0f} {row['median_per_s']:9,.0f} "
          f"{row['best_us']:7.1f}us {row['median_us']:7.1f}us")
    t = c["target"]
    w(f"   target: parse >= {t['min_per_s']:,} flights/s (median): {_verdict(t['met'])}")
    w()
    p = res["probe"]
    w(f"2. tlsmon probe end to end: {p['rounds']} rounds after {p['warmup_rounds']} warm-up, order rotated "
      f"every round; interpreter {p['python']}")
    w(f"   peak RSS via wait4 from a lean helper; RSS floor of the helper's children: {p['rss_floor_kb']} KiB")
    w(f"   bytecode: {p['bytecode']}")
    w(f"   inherited env row: {p['inherited_env']}")
    for name, run in p["runs"].items():
        w(f"   {name}: {run['server']}")
        w(f"     tlsmon: {run['tlsmon_says']}")
        w(f"     {'command':44} {'wall med':>10} {'wall min':>10} {'CPU med':>10} {'RSS med':>9}"
          f" | tlsmon/x:  wall   CPU   RSS")
        ratios = run["tlsmon_ratio_medians"]
        for key, row in run["commands"].items():
            r = ratios.get(key)
            rtxt = f"{r['wall']:5.2f} {r['cpu']:5.2f} {r['maxrss']:5.2f}" if r else "    -     -     -"
            w(f"     {row['command'][:44]:44} {_ms(row['wall_median_s']):>10} {_ms(row['wall_min_s']):>10} "
              f"{_ms(row['cpu_median_s']):>10} {row['maxrss_median_kb'] / 1024:6.1f} MiB |           {rtxt}")
        tl, tg = run["commands"]["tlsmon"], run["target"]
        w(f"     target: median <= {tg['max_s'] * 1000:.0f} ms incl. interpreter start: wall "
          f"{tl['wall_median_s'] * 1000:.1f} ms {_verdict(tg['wall_met'])}, CPU {tl['cpu_median_s'] * 1000:.1f} ms "
          f"{_verdict(tg['cpu_met'])}")
    _print_cert(res.get("cert"), w)
    if "profile" in p:
        _print_profile(p["profile"], w)
    if res.get("cert") and "profile" in res["cert"]:
        _print_cert_profile(res["cert"]["profile"], w)


def _print_cert(c: Optional[dict[str, Any]], w: Any) -> None:
    if c is None:
        return
    w()
    w(f"3. check_tls_cert plugin vs check_ssl_cert and check_http -C: {c['rounds']} rounds after "
      f"{c['warmup_rounds']} warm-up, order rotated every round")
    w(f"   server: {c['server']}")
    w(f"   {c['measure']}")
    w(f"   RSS floor of the helper's children: {c['rss_floor_kb']} KiB; bytecode: {c['bytecode']}")
    for key, t in c["tools"].items():
        what = t.get("version") or ""
        if t.get("package"):
            what += f" (Debian package {t['package']})"
        if "skipped" in t:
            w(f"   {key}: SKIPPED: {t['skipped']}")
        else:
            w(f"   {key}: {what.strip() or t['path']}")
            w(f"     says: {t.get('says', '')[:150]}")
    rows, ratios = c["commands"], c["ratios"].get(cert_bench.SUBJECT, {})
    w(f"     {'command':52} {'wall med':>10} {'wall min':>10} {'CPU med':>10} {'RSS max':>9} {'orph':>4}"
      f" | check_tls_cert/x: wall   CPU   RSS")
    for key, row in rows.items():
        r = ratios.get(key)
        rtxt = f"{r['wall']:5.2f} {r['cpu']:5.2f} {r['maxrss']:5.2f}" if r else "    -     -     -"
        w(f"     {row['command'][:52]:52} {_ms(row['wall_median_s']):>10} {_ms(row['wall_min_s']):>10} "
          f"{_ms(row['cpu_median_s']):>10} {row['maxrss_max_kb'] / 1024:5.1f} MiB {row['orphans_total']:4d} |"
          f"                  {rtxt}")
    for key, tg in c["targets"].items():
        cpu = tg["cpu_ratio_vs_check_ssl_cert"]
        cpu_txt = ("CPU vs check_ssl_cert: not evaluated (check_ssl_cert missing)" if cpu["value"] is None else
                   f"CPU/check_ssl_cert {cpu['value']:.3f} (<= {cpu['max']}) {_verdict(cpu['met'])}")
        w(f"     targets, {key}: wall {tg['wall']['value_s'] * 1000:.1f} ms (<= {tg['wall']['max_s'] * 1000:.0f}) "
          f"{_verdict(tg['wall']['met'])}; peak RSS {tg['rss']['value_kb'] / 1024:.1f} MiB "
          f"(<= {tg['rss']['max_kb'] / 1024:.0f}) {_verdict(tg['rss']['met'])}; {cpu_txt}")


def _print_cert_profile(prof: dict[str, Any], w: Any) -> None:
    w()
    w("5. Where a check_tls_cert run's time goes (fresh interpreters, bytecode cached)")
    if "error" in prof:
        w(f"   profiling failed: {prof['error']}")
        return
    w("   phases (medians):")
    for k, v in prof["phases_ms"].items():
        w(f"     {k:66} {v:7.1f} ms")
    w("   experiments, medians over rotating rounds (CPU of the process tree):")
    for k, v in prof["experiments"].items():
        w(f"     {k:66} wall {v['wall_median_ms']:6.1f} ms  CPU {v['cpu_median_ms']:6.1f} ms")
    st = prof["import_steps"]
    w(f"   imports ({prof['modules_loaded']} modules), each module's own cost (timed one by one in import order, "
      f"median of {st['runs']}): {st['total_ms']:.1f} ms")
    w("     by group: " + ", ".join(f"{k} {v:.1f} ms" for k, v in st["by_group_ms"].items()))
    w("     largest:  " + ", ".join(f"{k} {v:.1f}" for k, v in st["top_ms"][:12]))
    w("     tlsmon:   " + ", ".join(f"{k.replace('tlsmon.', '')} {v:.1f}" for k, v in st["tlsmon_ms"] if v >= 0.3))
    w("   -X importtime, largest cumulative (ms, inflated by importtime itself): "
      + ", ".join(f"{k} {v:.1f}" for k, v in prof["importtime"]["top_cumulative_ms"][:12]))
    w("   modules loaded by the run itself (after the script's imports): "
      + ", ".join(prof["late_imports"][:20]) + (" ..." if len(prof["late_imports"]) > 20 else ""))
    w("   cProfile of main() with everything imported (second run in the process), by cumulative time:")
    for row in prof["cprofile_second_run"]["by_cumtime"][:12]:
        w(f"     {row['cumtime_ms']:7.2f} ms {row['calls']:>6} calls  {row['function']}")
    w("   cProfile of one whole run (imports included), by own time:")
    for row in prof["cprofile_whole_run"]["by_tottime"][:12]:
        w(f"     {row['tottime_ms']:7.2f} ms {row['calls']:>6} calls  {row['function']}")


def _print_profile(prof: dict[str, Any], w: Any) -> None:
    w()
    w(f"4. Where a probe's time goes ({prof['against']}; fresh interpreters, bytecode cached)")
    w("   phases (medians):")
    for k, v in prof["phases_ms"].items():
        w(f"     {k:66} {v:7.1f} ms")
    st = prof["import_steps"]
    w(f"   imports, each module's own cost (timed one by one in import order, median of {st['runs']}): "
      f"{st['total_ms']:.1f} ms")
    w("     by group: " + ", ".join(f"{k} {v:.1f} ms" for k, v in st["by_group_ms"].items()))
    w("     largest:  " + ", ".join(f"{k} {v:.1f}" for k, v in st["top_ms"][:12]))
    w("     tlsmon:   " + ", ".join(f"{k.replace('tlsmon.', '')} {v:.1f}" for k, v in st["tlsmon_ms"] if v >= 0.3))
    it = prof["importtime"]
    w("   -X importtime, tlsmon cumulative (ms, inflated by importtime itself): "
      + ", ".join(f"{k.replace('tlsmon.', '')} {v:.1f}" for k, v in it["tlsmon_cumulative_ms"][:8]))
    w("   cProfile of main() with modules loaded, by cumulative time:")
    for row in prof["cprofile_main_only"]["by_cumtime"][:14]:
        w(f"     {row['cumtime_ms']:7.2f} ms {row['calls']:>6} calls  {row['function']}")
    w("   cProfile of the whole run (imports included), by own time:")
    for row in prof["cprofile_whole_run"]["by_tottime"][:10]:
        w(f"     {row['tottime_ms']:7.2f} ms {row['calls']:>6} calls  {row['function']}")
    w("   exit experiments: the same probe via python -c, medians over rotating rounds:")
    for k, v in prof["exit_experiments"].items():
        w(f"     {k:48} wall {v['wall_median_ms']:6.1f} ms  CPU {v['cpu_median_ms']:6.1f} ms")


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    if args.rev and not os.environ.get(_SNAPSHOT_ENV):
        _reexec_on_snapshot(args.rev, sys.argv[1:] if argv is None else list(argv))
    try:
        return _run(args)
    finally:
        if os.environ.get(_SNAPSHOT_ENV):
            shutil.rmtree(CODE_ROOT, ignore_errors=True)  # the directory _reexec_on_snapshot made


def _run(args: argparse.Namespace) -> int:
    if args.check_tls_cert_script is None:
        args.check_tls_cert_script = args.tlsmon.with_name("check_tls_cert")
    python = _interpreter_of(args.tlsmon)
    results: dict[str, Any] = {"schema": 1, "mode": "quick" if args.quick else "full",
                               "machine": _machine(args.openssl, python), "source": _source_state()}
    with tempfile.TemporaryDirectory(prefix="tlsmon-bench-") as tmp_name:
        tmp = Path(tmp_name)
        results["codec"] = codec_section(tmp / "chain3", args.quick)
        results["probe"] = probe_section(args, tmp, args.quick)
        results["cert"] = cert_section(args, tmp, args.quick)
    src = results["source"]
    src["digest_at_end"] = _source_digest()
    src["changed_during_run"] = src["digest_at_end"] != src["digest_at_start"]
    print_report(results)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nresults written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
