#!/usr/bin/env python3
"""Ring benchmark: an incremental run over a ring with one new 100 MB file, against reading that file.

    .venv/bin/python bench/ring_bench.py [--new-mb 100] [--old-mb 20] [--rounds 3] [--keep DIR] [--json FILE]

1. Generate a capture (bench/capture_bench.py's generator: real TLS handshakes made by OpenSSL in
   memory, 64 connections at a time, bulk transfers mixed in, 1500-byte frames) and cut it into a
   ring: two "old" files (``--old-mb``) and one new file (``--new-mb``). The cuts fall inside
   connections, as a rotation does: connections in flight cross from the old files into the new one.
2. Run ``check_tls_capture --ring`` once over the old files (the state then holds the connections
   in flight at their end), and keep that state.
3. Time, in rotating order, ``--rounds`` times each (fresh processes, bytecode cached):
   - ``check_tls_capture NEW`` — reading the new file alone, the cost to beat;
   - ``check_tls_capture --ring`` with the new file added, from the kept state — the incremental run
     (it re-reads, from the old files, only where the connections in flight began);
   - ``check_tls_capture --ring`` again with nothing new.
   Wall, CPU (user + sys of the process) and peak RSS; medians.
4. Check: the old run's counts plus the incremental run's equal one run over the three files.

Target (issue): the incremental run costs no more than reading the new file.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = ROOT / "plugins" / "check_tls_capture"
sys.path.insert(0, str(Path(__file__).resolve().parent))

COUNTED = ("handshakes", "failed", "incomplete", "cert_requests", "cert_requests_unseen", "empty_client_certs",
           "renegotiations", "midstream")


def split(source: Path, old_mb: float, targets: List[Path]) -> List[int]:
    """Cut a pcap into len(targets) files: the old ones ``old_mb`` together, the last the rest."""
    sizes = []
    with open(source, "rb") as f:
        header = f.read(24)
        limits = [old_mb * 1e6 * (i + 1) / (len(targets) - 1) for i in range(len(targets) - 1)] + [float("inf")]
        written = 0
        for target, limit in zip(targets, limits):
            with open(target, "wb") as out:
                out.write(header)
                size = 24
                while written < limit:
                    head = f.read(16)
                    if len(head) < 16:
                        break
                    data = f.read(struct.unpack("<IIII", head)[2])
                    out.write(head + data)
                    written += 16 + len(data)
                    size += 16 + len(data)
            sizes.append(size)
    return sizes


def measured(args: List[str]) -> Tuple[Dict[str, float], str]:
    """Wall, CPU and peak RSS of the plugin with ``args``, and its output (a small launcher waits for
    it alone with wait4, so that the numbers are the plugin's own)."""
    launcher = (
        "import os, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)\n"
        "out = p.stdout.read()\n"
        "_, status, ru = os.wait4(p.pid, 0)\n"
        "wall = time.perf_counter() - t\n"
        "sys.stderr.write(f'{wall} {ru.ru_utime + ru.ru_stime} {ru.ru_maxrss}\\n')\n"
        "sys.stdout.write(out.decode())\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT / "lib"))
    done = subprocess.run([sys.executable, "-c", launcher, sys.executable, str(PLUGIN), *args], capture_output=True,
                          text=True, env=env, check=True)
    wall, cpu, rss = done.stderr.split()[-3:]
    return {"wall_s": float(wall), "cpu_s": float(cpu), "rss_mib": int(rss) / 1024}, done.stdout


def counts(output: str) -> Dict[str, int]:
    f = json.loads(output)["facts"]
    out = {k: f["counts"][k] for k in COUNTED}
    out.update(f["alerts"])
    return out


def added(a: Dict[str, int], b: Dict[str, int]) -> Dict[str, int]:
    return {k: a.get(k, 0) + b.get(k, 0) for k in set(a) | set(b)}


def median(runs: List[Dict[str, float]]) -> Dict[str, float]:
    return {k: round(statistics.median(r[k] for r in runs), 3) for k in runs[0]}


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--new-mb", type=float, default=100.0)
    p.add_argument("--old-mb", type=float, default=20.0)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--keep", type=Path, help="work in this directory (the generated capture is reused)")
    p.add_argument("--json", type=Path, help="write the results here")
    args = p.parse_args(argv)
    tmp = tempfile.TemporaryDirectory()
    work = args.keep or Path(tmp.name)
    work.mkdir(parents=True, exist_ok=True)
    source = work / "capture.pcap"
    if not source.exists():
        from capture_bench import generate

        total = args.new_mb + args.old_mb
        bulk = round(total / 6)  # MiB of 1 MiB transfers; the rest in handshakes of about 6.8 kB
        generate(source, int((total - bulk) * 1e6 / 6800), bulk)
    ring = work / "ring"
    shutil.rmtree(ring, ignore_errors=True)
    ring.mkdir()
    old = [ring / "ring-0001.pcap", ring / "ring-0002.pcap"]
    new_outside = work / "ring-0003.pcap"
    sizes = split(source, args.old_mb, [*old, new_outside])
    state = work / "ring.state"
    saved = work / "ring.state.saved"
    for f in (state, saved):
        if f.exists():
            f.unlink()
    common = ("--min-handshakes", "0", "-t", "3600", "--output", "json")
    ring_args = ("--ring", str(ring), "--glob", "ring-*.pcap", "--state", str(state), *common)
    _, first = measured(list(ring_args))  # the old files: the state now holds their connections in flight
    old_counts = counts(first)
    shutil.copyfile(state, saved)
    new = ring / new_outside.name
    os.link(new_outside, new)
    results: Dict[str, Any] = {"python": sys.version.split()[0], "cpus": os.cpu_count(),
                               "old_bytes": sizes[:2], "new_bytes": sizes[2]}
    print(f"ring: 2 old files ({sum(sizes[:2]) / 1e6:.1f} MB, read before), 1 new file ({sizes[2] / 1e6:.1f} MB)")
    whole: List[Dict[str, float]] = []
    incremental: List[Dict[str, float]] = []
    nothing: List[Dict[str, float]] = []
    ratios = []
    ring_info: Dict[str, Any] = {}
    incr_counts: Dict[str, int] = {}
    for round_ in range(args.rounds):
        jobs = ["whole", "incremental"] if round_ % 2 == 0 else ["incremental", "whole"]
        pair = {}
        for job in jobs:
            if job == "whole":
                m, _ = measured([str(new), *common])
                whole.append(m)
            else:
                shutil.copyfile(saved, state)
                m, out = measured(list(ring_args))
                incremental.append(m)
                facts = json.loads(out)["facts"]
                ring_info = facts["source"]["ring"]
                incr_counts = counts(out)
                m2, _ = measured(list(ring_args))
                nothing.append(m2)
            pair[job] = m
        ratios.append(pair["incremental"]["cpu_s"] / pair["whole"]["cpu_s"])
    single = counts(measured([*(str(f) for f in [*old, new]), *common])[1])
    results.update(whole=median(whole), incremental=median(incremental), nothing_new=median(nothing),
                   cpu_ratio_median=round(statistics.median(ratios), 3), ring_run=ring_info)
    exact = added(old_counts, incr_counts) == single
    results["exact"] = exact
    w, i, n = results["whole"], results["incremental"], results["nothing_new"]
    print(f"{'check_tls_capture NEW (the new file alone)':48s} wall {w['wall_s']:6.2f} s  cpu {w['cpu_s']:6.2f} s  "
          f"peak RSS {w['rss_mib']:5.1f} MiB")
    print(f"{'check_tls_capture --ring (incremental)':48s} wall {i['wall_s']:6.2f} s  cpu {i['cpu_s']:6.2f} s  "
          f"peak RSS {i['rss_mib']:5.1f} MiB")
    print(f"{'check_tls_capture --ring (nothing new)':48s} wall {n['wall_s']:6.2f} s  cpu {n['cpu_s']:6.2f} s  "
          f"peak RSS {n['rss_mib']:5.1f} MiB")
    print(f"incremental run: {ring_info.get('read_bytes', 0) / 1e6:.1f} MB new, "
          f"{ring_info.get('replayed_bytes', 0) / 1e6:.2f} MB re-read for the connections in flight, "
          f"{ring_info.get('frames', 0):,} frames")
    print(f"CPU incremental / whole file: {results['cpu_ratio_median']} (median of {args.rounds} paired rounds; "
          f"target <= 1.0: {'met' if results['cpu_ratio_median'] <= 1.0 else 'missed'})")
    print(f"old run + incremental run == one run over the three files: {'yes' if exact else 'NO'} "
          f"({single['handshakes']} handshakes)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    tmp.cleanup()
    return 0 if exact else 1


if __name__ == "__main__":
    raise SystemExit(main())
