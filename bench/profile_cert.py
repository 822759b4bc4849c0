"""Where a ``check_tls_cert`` run spends its time: interpreter start, imports, the check itself.

Run from ``run.py`` when the plugin misses a target (or with ``--profile``), against the
benchmark's server, in fresh interpreters with the benchmark's environment (bytecode cached):

- phases: ``python -c pass`` and a whole plugin run (wall, from here); then a child that imports
  only ``sys`` and ``time`` before its clock starts, loads the plugin script as a module (its
  ``gc.disable()`` and imports), and calls its ``main()`` twice: the first call includes what the
  check imports lazily, the second is the check's own work with nothing left to import;
- ``-X importtime`` of a whole run: the modules with the largest cumulative and own times, and
  each module's own cost timed step by step without importtime's overhead (as for the probe);
- cProfile of one whole run (the script run as ``__main__``, imports included) and of the
  second ``main()`` call in a process (the work alone);
- experiments, in rotating rounds through the benchmark's helper: the plugin as it is, the same
  ending in ``os._exit()`` (no interpreter finalization), a process that only imports the
  modules a run loads (with and without ``os._exit()``), ``import ssl, cryptography.x509`` and
  ``python -c pass``: what is start-up, imports, work and exit.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from profile_probe import _IMPORTTIME_RE, _import_steps, _run_child, _short

__all__ = ["profile_cert"]

_TIMEOUT_S = 120

_LOAD = """
import importlib.machinery, importlib.util
_loader = importlib.machinery.SourceFileLoader("check_tls_cert_script", {script!r})
_spec = importlib.util.spec_from_loader(_loader.name, _loader)
plugin = importlib.util.module_from_spec(_spec)
_loader.exec_module(plugin)
"""

_PHASES_CHILD = """
import sys, time
t0 = time.perf_counter()
{load}
t1 = time.perf_counter()
before = set(sys.modules)
real_stdout, sys.stdout = sys.stdout, open("/dev/null", "w")
rc1 = plugin.main({argv!r})
t2 = time.perf_counter()
late = sorted(set(sys.modules) - before)
rc2 = plugin.main({argv!r})
t3 = time.perf_counter()
sys.stdout = real_stdout
print(repr({{"rc": (rc1, rc2), "late": late,
             "load the script (gc.disable + its imports)": t1 - t0,
             "main(): first check in the process (incl. lazy imports)": t2 - t1,
             "main(): second check, same process (the work itself)": t3 - t2}}))
"""

_CPROFILE_WHOLE = """
import sys, cProfile, pstats, runpy
sys.argv = [{script!r}, *{argv!r}]
real_stdout, sys.stdout = sys.stdout, open("/dev/null", "w")
profile = cProfile.Profile()
profile.enable()
try:
    runpy.run_path({script!r}, run_name="__main__")
    rc = 0
except SystemExit as exc:
    rc = exc.code
profile.disable()
sys.stdout = real_stdout
rows = [(f, line, fn, nc, tt, ct) for (f, line, fn), (_cc, nc, tt, ct, _callers) in pstats.Stats(profile).stats.items()]
print(repr({{"rc": rc, "rows": rows}}))
"""

_CPROFILE_SECOND = """
import sys, cProfile, pstats
{load}
real_stdout, sys.stdout = sys.stdout, open("/dev/null", "w")
rc1 = plugin.main({argv!r})
profile = cProfile.Profile()
profile.enable()
rc = plugin.main({argv!r})
profile.disable()
sys.stdout = real_stdout
rows = [(f, line, fn, nc, tt, ct) for (f, line, fn), (_cc, nc, tt, ct, _callers) in pstats.Stats(profile).stats.items()]
print(repr({{"rc": rc or rc1, "rows": rows}}))
"""

_MODULES_CHILD = """
import sys, io, runpy
sys.argv = [{script!r}, *{argv!r}]
real_stdout, sys.stdout = sys.stdout, io.StringIO()
try:
    runpy.run_path({script!r}, run_name="__main__")
except SystemExit:
    pass
sys.stdout = real_stdout
print(repr(sorted(m for m in sys.modules if not m.startswith("__") and m != "runpy")))
"""

_RUN_OS_EXIT = """
import gc, os, sys, runpy
gc.disable()
sys.argv = [{script!r}, *{argv!r}]
try:
    runpy.run_path({script!r}, run_name="__main__")
    rc = 0
except SystemExit as exc:
    rc = exc.code
sys.stdout.flush()
os._exit(rc)
"""

_IMPORT_ALL = """
import gc
gc.disable()
for name in {modules!r}:
    try:
        __import__(name)
    except ImportError:
        pass
"""


def _wall(argv: Sequence[str], env: Mapping[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(list(argv), capture_output=True, timeout=_TIMEOUT_S, env=dict(env))
    t1 = time.perf_counter()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited with {proc.returncode}: {proc.stdout[-500:]!r}")
    return t1 - t0


def _rows(res: Any, what: str) -> dict[str, Any]:
    if res["rc"]:
        raise RuntimeError(f"check_tls_cert exited with {res['rc']} under cProfile ({what})")
    rows = [
        {"function": f"{_short(f)}:{line}({fn})", "calls": nc, "tottime_ms": tt * 1000, "cumtime_ms": ct * 1000}
        for f, line, fn, nc, tt, ct in res["rows"]
    ]
    return {
        "by_tottime": sorted(rows, key=lambda r: -r["tottime_ms"])[:20],
        "by_cumtime": sorted(rows, key=lambda r: -r["cumtime_ms"])[:25],
    }


def _importtime(python: str, script: str, argv: Sequence[str], runs: int, env: Mapping[str, str]) -> dict[str, Any]:
    selfs: dict[str, list[int]] = {}
    cumuls: dict[str, list[int]] = {}
    totals = []
    order: list[str] = []
    for i in range(runs):
        proc = subprocess.run([python, "-X", "importtime", script, *argv], capture_output=True, text=True,
                              timeout=_TIMEOUT_S, env=dict(env))
        total = 0
        for line in proc.stderr.splitlines():
            m = _IMPORTTIME_RE.match(line)
            if m:
                if i == 0:
                    order.append(m[4])
                selfs.setdefault(m[4], []).append(int(m[1]))
                cumuls.setdefault(m[4], []).append(int(m[2]))
                total += int(m[1])
        totals.append(total)

    def top(d: dict[str, list[int]]) -> list[tuple[str, float]]:
        return sorted(((k, statistics.median(v) / 1000) for k, v in d.items()), key=lambda kv: -kv[1])[:20]

    return {
        "runs": runs,
        "modules": len(selfs),
        "total_self_ms": statistics.median(totals) / 1000,
        "top_cumulative_ms": top(cumuls),
        "top_self_ms": top(selfs),
        "order": order,
        "note": "-X importtime adds its own overhead to every entry",
    }


def _experiments(python: str, script: str, argv: Sequence[str], modules: Sequence[str], rounds: int,
                 spawn: Callable[[Sequence[str]], tuple[float, float]]) -> dict[str, dict[str, float]]:
    variants = {
        "the plugin as installed (baseline)": [python, script, *argv],
        "the plugin, os._exit() after flushing (no finalization)": [
            python, "-c", _RUN_OS_EXIT.format(script=script, argv=list(argv))],
        f"import only the {len(modules)} modules a run loads": [
            python, "-c", _IMPORT_ALL.format(modules=list(modules))],
        "the same imports, then os._exit()": [
            python, "-c", _IMPORT_ALL.format(modules=list(modules)) + "import os\nos._exit(0)\n"],
        "import ssl, cryptography.x509": [python, "-c", "import ssl, cryptography.x509"],
        "python -c pass": [python, "-c", "pass"],
    }
    keys = list(variants)
    walls: dict[str, list[float]] = {k: [] for k in keys}
    cpus: dict[str, list[float]] = {k: [] for k in keys}
    for i in range(rounds + 1):  # round 0 warms up
        for key in keys[i % len(keys):] + keys[: i % len(keys)]:
            wall, cpu = spawn(variants[key])
            if i:
                walls[key].append(wall)
                cpus[key].append(cpu)
    return {
        k: {"wall_median_ms": statistics.median(walls[k]) * 1000, "cpu_median_ms": statistics.median(cpus[k]) * 1000}
        for k in keys
    }


def profile_cert(python: str, script: Path, argv: Sequence[str], env: Mapping[str, str], runs: int,
                 spawn: Callable[[Sequence[str]], tuple[float, float]]) -> dict[str, Any]:
    """Profile ``python SCRIPT ARGV`` (the check_tls_cert plugin) against a running server.

    Args:
        python: the interpreter.
        script: the plugin script (plugins/check_tls_cert).
        argv: its arguments (``-H localhost -p PORT -r CA.pem``).
        env: the children's environment (bytecode cached).
        runs: fresh processes per view (medians are reported).
        spawn: runs a command once (in ``env``) through the benchmark's helper and returns its
            wall and CPU seconds; it must fail if the command exits non-zero.
    """
    script_s, argv = str(script), list(argv)
    load = _LOAD.format(script=script_s)
    _wall([python, script_s, *argv], env)  # warm the bytecode cache
    bare = statistics.median(_wall([python, "-c", "pass"], env) for _ in range(runs * 2))
    whole = statistics.median(_wall([python, script_s, *argv], env) for _ in range(runs * 2))
    phases = []
    for _ in range(runs):
        p = _run_child(python, ["-c", _PHASES_CHILD.format(load=load, argv=argv)], env)
        if any(p.pop("rc")):
            raise RuntimeError("check_tls_cert failed in the phases child")
        phases.append(p)
    late = phases[0].pop("late")
    for p in phases[1:]:
        p.pop("late")
    phase_ms = {"python -c pass (wall, whole process, via subprocess)": bare * 1000,
                "python check_tls_cert ... (wall, whole process, via subprocess)": whole * 1000}
    phase_ms.update({k: statistics.median(p[k] for p in phases) * 1000 for k in phases[0]})
    importtime = _importtime(python, script_s, argv, runs, env)
    modules = _run_child(python, ["-c", _MODULES_CHILD.format(script=script_s, argv=argv)], env)
    return {
        "argv": [python, script_s, *argv],
        "phases_ms": phase_ms,
        "late_imports": late,
        "importtime": importtime,
        "import_steps": _import_steps(python, importtime["order"], runs, env),
        "modules_loaded": len(modules),
        "experiments": _experiments(python, script_s, argv, modules, runs * 3, spawn),
        "cprofile_whole_run": _rows(_run_child(python, ["-c", _CPROFILE_WHOLE.format(script=script_s, argv=argv)],
                                               env), "whole run"),
        "cprofile_second_run": _rows(_run_child(python, ["-c", _CPROFILE_SECOND.format(load=load, argv=argv)],
                                                env), "second run"),
    }
