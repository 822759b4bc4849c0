"""Where a ``tlsmon probe`` run spends its time: interpreter start, imports, the probe itself.

Run from ``run.py`` when the probe misses its target (or with ``--profile``). Every view runs in
fresh interpreters with the benchmark's environment (bytecode cached):

- phases: a child that imports only ``sys`` and ``time`` before its clock starts, then imports
  ``tlsmon.cli.main``, then the modules ``tlsmon probe`` loads on the way, then calls ``main()``
  twice (the second call shows the probe's own work, with nothing left to import or warm up);
- import steps: ``-X importtime`` gives the order in which modules finish importing; a child
  then imports them one by one in that order and times each step without importtime's own
  overhead, which makes each step about one module's own cost (its imports are already done);
- cProfile over the whole run (imports included) and over ``main()`` with everything imported;
- exit experiments: the console script's own code next to variants that keep the cyclic garbage
  collector out of the way (``gc.freeze()`` before exit, ``gc.disable()`` from the start) or skip
  interpreter finalization (``os._exit``), run in rotating rounds like the main benchmark.

Children print ``repr()`` of plain data, read back with ``ast.literal_eval``, so that they need
not import ``json`` (tlsmon imports it, and a preloaded module would hide its cost).
"""

from __future__ import annotations

import ast
import re
import statistics
import subprocess
from typing import Any, Callable, Mapping, Sequence

__all__ = ["profile_probe"]

_IMPORTTIME_RE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)\s*$")
_LAZY_MODULES = ("tlsmon.codec.hello", "tlsmon.outputs.ladder", "tlsmon.sources.probe", "tlsmon.x509facts")
_TIMEOUT_S = 120

_CONSOLE_SCRIPT = "import sys; from tlsmon.cli.main import main; sys.exit(main({argv!r}))"

_PHASES_CHILD = """
import sys, time
t0 = time.perf_counter()
import tlsmon.cli.main
t1 = time.perf_counter()
for name in {lazy!r}:
    __import__(name)
t2 = time.perf_counter()
real_stdout, sys.stdout = sys.stdout, open("/dev/null", "w")
rc1 = tlsmon.cli.main.main({argv!r})
t3 = time.perf_counter()
rc2 = tlsmon.cli.main.main({argv!r})
t4 = time.perf_counter()
sys.stdout = real_stdout
print(repr({{"rc": (rc1, rc2), "import tlsmon.cli.main": t1 - t0,
             "import what probe loads (codec, cryptography, x509facts, outputs)": t2 - t1,
             "main(): first probe in the process": t3 - t2,
             "main(): second probe, same process (the work itself)": t4 - t3}}))
"""

_STEPS_CHILD = """
import sys, time
out = []
for name in sys.stdin.read().split():
    t0 = time.perf_counter()
    try:
        __import__(name)
    except Exception:
        out.append((name, None))
        continue
    out.append((name, time.perf_counter() - t0))
print(repr(out))
"""

_CPROFILE_CHILD = """
import sys, cProfile, pstats
if {preload!r}:
    import tlsmon.cli.main
    for name in {lazy!r}:
        __import__(name)
real_stdout, sys.stdout = sys.stdout, open("/dev/null", "w")
profile = cProfile.Profile()
profile.enable()
from tlsmon.cli.main import main
rc = main({argv!r})
profile.disable()
sys.stdout = real_stdout
rows = [(f, line, fn, nc, tt, ct) for (f, line, fn), (_cc, nc, tt, ct, _callers) in pstats.Stats(profile).stats.items()]
print(repr({{"rc": rc, "rows": rows}}))
"""


def _run_child(python: str, args: Sequence[str], env: Mapping[str, str], stdin: str = "") -> Any:
    proc = subprocess.run([python, *args], input=stdin, capture_output=True, text=True, timeout=_TIMEOUT_S, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"profile child failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return ast.literal_eval(proc.stdout.strip().splitlines()[-1])


def _group(name: str) -> str:
    if name.startswith("tlsmon"):
        return "tlsmon"
    if name.startswith(("cryptography", "_cffi_backend")):
        return "cryptography"
    return "stdlib and others"


def _importtime(python: str, argv: Sequence[str], runs: int, env: Mapping[str, str]) -> dict[str, Any]:
    """Medians over ``runs`` of ``-X importtime``; ``order`` is the completion order of the first run."""
    selfs: dict[str, list[int]] = {}
    cumuls: dict[str, list[int]] = {}
    order: list[str] = []
    totals = []
    for i in range(runs):
        code = _CONSOLE_SCRIPT.format(argv=list(argv))
        proc = subprocess.run([python, "-X", "importtime", "-c", code], capture_output=True, text=True,
                              timeout=_TIMEOUT_S, env=env)
        total = 0
        for line in proc.stderr.splitlines():
            m = _IMPORTTIME_RE.match(line)
            if not m:
                continue
            self_us, cumul_us, name = int(m[1]), int(m[2]), m[4]
            selfs.setdefault(name, []).append(self_us)
            cumuls.setdefault(name, []).append(cumul_us)
            total += self_us
            if i == 0:
                order.append(name)
        totals.append(total)
    cumul_med = {k: statistics.median(v) / 1000 for k, v in cumuls.items()}
    tlsmon_cumul = sorted(((k, v) for k, v in cumul_med.items() if k.startswith("tlsmon")), key=lambda kv: -kv[1])
    return {
        "runs": runs,
        "total_self_ms": statistics.median(totals) / 1000,
        "tlsmon_cumulative_ms": tlsmon_cumul[:15],
        "order": order,
        "note": "-X importtime adds its own overhead to every entry",
    }


def _parents_first(order: Sequence[str]) -> list[str]:
    """Put each package just before its first submodule.

    Importing ``a.b`` runs ``a/__init__`` first; if that imports siblings, the cost belongs to
    ``a`` (as with ``cryptography.x509``, whose ``__init__`` imports the whole subpackage).
    """
    out: list[str] = []
    seen: set[str] = set()
    for name in order:
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            prefix = ".".join(parts[:i])
            if prefix not in seen:
                seen.add(prefix)
                out.append(prefix)
    return out


def _import_steps(python: str, order: Sequence[str], runs: int, env: Mapping[str, str]) -> dict[str, Any]:
    """Each module's own import cost in ms (median over ``runs``), by group and the largest ones.

    A package's entry includes the submodules its ``__init__`` imports.
    """
    samples: dict[str, list[float]] = {}
    steps = "\n".join(_parents_first(order))
    for _ in range(runs):
        for name, seconds in _run_child(python, ["-c", _STEPS_CHILD], env, stdin=steps):
            if seconds is not None:
                samples.setdefault(name, []).append(seconds * 1000)
    own = {k: statistics.median(v) for k, v in samples.items()}
    groups: dict[str, float] = {}
    for name, ms in own.items():
        groups[_group(name)] = groups.get(_group(name), 0.0) + ms
    top = sorted(own.items(), key=lambda kv: -kv[1])
    return {
        "runs": runs,
        "total_ms": sum(own.values()),
        "by_group_ms": dict(sorted(groups.items(), key=lambda kv: -kv[1])),
        "top_ms": top[:20],
        "tlsmon_ms": [(k, v) for k, v in top if k.startswith("tlsmon")],
    }


def _short(filename: str) -> str:
    for marker in ("/site-packages/", "/lib/tlsmon/", "/lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def _cprofile(python: str, argv: Sequence[str], env: Mapping[str, str], *, preload: bool) -> dict[str, Any]:
    code = _CPROFILE_CHILD.format(preload=preload, lazy=_LAZY_MODULES, argv=list(argv))
    res = _run_child(python, ["-c", code], env)
    if res["rc"]:
        raise RuntimeError(f"tlsmon {' '.join(argv)} exited with {res['rc']} under cProfile")
    rows = [
        {"function": f"{_short(f)}:{line}({fn})", "calls": nc, "tottime_ms": tt * 1000, "cumtime_ms": ct * 1000}
        for f, line, fn, nc, tt, ct in res["rows"]
    ]
    return {
        "by_tottime": sorted(rows, key=lambda r: -r["tottime_ms"])[:15],
        "by_cumtime": sorted(rows, key=lambda r: -r["cumtime_ms"])[:25],
    }


_EXIT_VARIANTS = {
    "as the console script (baseline)": "import sys; from tlsmon.cli.main import main; sys.exit(main({argv!r}))",
    "gc.freeze() before exit": "import gc, sys; from tlsmon.cli.main import main; rc = main({argv!r}); gc.freeze(); "
                               "sys.exit(rc)",
    "gc.disable() first, gc.freeze() before exit": "import gc, sys; gc.disable(); from tlsmon.cli.main import main; "
                                                   "rc = main({argv!r}); gc.freeze(); sys.exit(rc)",
    "os._exit() after flushing": "import os, sys; from tlsmon.cli.main import main; rc = main({argv!r}); "
                                 "sys.stdout.flush(); sys.stderr.flush(); os._exit(rc)",
}


def _exit_experiments(
    python: str, argv: Sequence[str], rounds: int, spawn: Callable[[Sequence[str]], tuple[float, float]]
) -> dict[str, dict[str, float]]:
    codes = {k: v.format(argv=list(argv)) for k, v in _EXIT_VARIANTS.items()}
    keys = list(codes)
    walls: dict[str, list[float]] = {k: [] for k in keys}
    cpus: dict[str, list[float]] = {k: [] for k in keys}
    for i in range(rounds + 1):  # round 0 warms up
        for key in keys[i % len(keys):] + keys[: i % len(keys)]:
            wall, cpu = spawn([python, "-c", codes[key]])
            if i:
                walls[key].append(wall)
                cpus[key].append(cpu)
    return {
        k: {"wall_median_ms": statistics.median(walls[k]) * 1000, "cpu_median_ms": statistics.median(cpus[k]) * 1000}
        for k in keys
    }


def profile_probe(
    python: str,
    argv: Sequence[str],
    runs: int,
    env: Mapping[str, str],
    spawn: Callable[[Sequence[str]], tuple[float, float]],
) -> dict[str, Any]:
    """Profile ``tlsmon <argv>`` (``argv`` like ``["probe", "127.0.0.1:PORT", "--sni", "localhost"]``).

    Args:
        python: the interpreter the ``tlsmon`` script runs on.
        argv: the tlsmon arguments.
        runs: fresh processes per view (medians are reported).
        env: the children's environment (the benchmark's bytecode-cache settings).
        spawn: runs a command once (in ``env``) and returns its wall and CPU seconds; it must
            fail if the command exits non-zero.
    """
    phases = []
    for _ in range(runs):
        p = _run_child(python, ["-c", _PHASES_CHILD.format(lazy=_LAZY_MODULES, argv=list(argv))], env)
        if any(p.pop("rc")):
            raise RuntimeError(f"tlsmon {' '.join(argv)} failed in the phases child")
        phases.append(p)
    bare = statistics.median(spawn([python, "-c", "pass"])[0] for _ in range(runs * 2))
    phase_ms = {"python -c pass (wall, whole process)": bare * 1000}
    phase_ms.update({k: statistics.median(p[k] for p in phases) * 1000 for k in phases[0]})
    importtime = _importtime(python, argv, runs, env)
    return {
        "phases_ms": phase_ms,
        "import_steps": _import_steps(python, importtime["order"], runs, env),
        "importtime": importtime,
        "cprofile_whole_run": _cprofile(python, argv, env, preload=False),
        "cprofile_main_only": _cprofile(python, argv, env, preload=True),
        "exit_experiments": _exit_experiments(python, argv, runs * 3, spawn),
    }
