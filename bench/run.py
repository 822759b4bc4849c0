#!/usr/bin/env python3
"""tlsmon benchmarks against real loopback peers, side by side, as ratios (``make bench``).

1. Codec throughput: a TLS 1.2 server flight (leaf + 2 intermediates, RSA 2048) recorded from a
   loopback Python ``ssl`` server, parsed over and over on one pinned core.
2. ``tlsmon probe`` end to end against ``openssl s_server`` (TLS 1.3, then TLS 1.2), in rounds
   with ``openssl s_client`` and a bare interpreter start; wall, CPU and peak RSS per run.
3. If the probe misses its 100 ms target (or with ``--profile``): where the time goes.

Only 127.0.0.1, servers on port 0, every process started here stopped by its pid.
Usage: ``.venv/bin/python bench/run.py [--quick] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import ssl
import sys
import tempfile
from pathlib import Path
from typing import Any, Optional, Sequence

import cli_bench
import codec_bench
import cryptography
import loopback
from cli_bench import Command, Spawner
from pki import make_chain
from profile_probe import profile_probe

import tlsmon

ROOT = Path(__file__).resolve().parent.parent
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
    p.add_argument("--rounds", type=int, help="probe rounds per server (default 20, --quick 5)")
    prof = p.add_mutually_exclusive_group()
    prof.add_argument("--profile", action="store_true", help="profile the probe even if it meets its target")
    prof.add_argument("--no-profile", action="store_true", help="never profile the probe")
    p.add_argument("--no-inherited", action="store_true",
                   help="skip the extra tlsmon row that runs in the inherited environment")
    p.add_argument("--openssl", default=shutil.which("openssl") or "openssl", help="the openssl program")
    p.add_argument("--tlsmon", type=Path, default=_default_tlsmon(), help="the tlsmon console script")
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
    }


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
    cached = (ROOT / "lib" / "tlsmon" / "__pycache__").is_dir()
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
    if "profile" in p:
        _print_profile(p["profile"], w)


def _print_profile(prof: dict[str, Any], w: Any) -> None:
    w()
    w(f"3. Where a probe's time goes ({prof['against']}; fresh interpreters, bytecode cached)")
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
    python = _interpreter_of(args.tlsmon)
    results: dict[str, Any] = {"schema": 1, "mode": "quick" if args.quick else "full",
                               "machine": _machine(args.openssl, python)}
    with tempfile.TemporaryDirectory(prefix="tlsmon-bench-") as tmp_name:
        tmp = Path(tmp_name)
        results["codec"] = codec_section(tmp / "chain3", args.quick)
        results["probe"] = probe_section(args, tmp, args.quick)
    print_report(results)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nresults written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
