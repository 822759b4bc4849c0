"""``tlsmon probe`` end to end, side by side with ``openssl s_client`` and a bare interpreter start.

Each round runs every command once, in an order that rotates from round to round, so that
neighbours share the machine's state (the host is noisy); ratios are taken within a round and
their median reported. Commands run through ``spawner.py`` (see there why), which measures
wall time around fork/wait4 and reads the child's CPU time and peak RSS from wait4.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

__all__ = ["Command", "Sample", "Spawner", "Series", "run_rounds", "ratio_medians"]

_SPAWNER = Path(__file__).with_name("spawner.py")
_STOP_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Command:
    """One command of a round.

    Attributes:
        key: short name used in tables and JSON.
        argv: what to run (argv[0] an absolute path).
        label: what the table shows.
        env: the environment to run it in; None: the benchmark's own.
    """

    key: str
    argv: tuple[str, ...]
    label: str
    env: Optional[dict[str, str]] = field(default=None, compare=False)


@dataclass(frozen=True)
class Sample:
    """One run of a command: wall and CPU seconds, peak RSS in KiB, exit code.

    CPU and peak RSS come from wait4() on the child, so they include every descendant it waited
    for (see spawner.py); from a ``tree=True`` spawner they also include orphaned descendants
    (``orphans`` of them), and ``children_cpu_s`` is the helper's RUSAGE_CHILDREN growth.
    """

    wall_s: float
    cpu_s: float
    maxrss_kb: int
    exit_code: int
    orphans: int = 0
    children_cpu_s: Optional[float] = None


class Spawner:
    """The lean helper process (``python -I -S spawner.py``), stopped by its pid."""

    def __init__(self, python: str = sys.executable, *, tree: bool = False) -> None:
        """``tree``: the helper becomes a child subreaper and counts orphaned descendants too."""
        argv = [python, "-I", "-S", str(_SPAWNER), *(["--tree"] if tree else [])]
        self._proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.pid = self._proc.pid
        self.tree = tree

    def run(
        self,
        argv: Sequence[str],
        *,
        env: Optional[dict[str, str]] = None,
        stdout: Optional[str] = None,
        timeout_s: float = 60.0,
    ) -> Sample:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        request = {"argv": list(argv), "env": dict(os.environ if env is None else env), "stdout": stdout,
                   "timeout_s": timeout_s}
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"spawner (pid {self.pid}) exited with {self._proc.poll()}")
        reply = json.loads(line)
        if reply["timed_out"]:
            raise RuntimeError(f"{' '.join(argv)} did not finish in {timeout_s} s")
        cpu = reply["user_s"] + reply["sys_s"]
        if "orphans" not in reply:
            return Sample(reply["wall_s"], cpu, reply["maxrss_kb"], reply["exit_code"])
        return Sample(
            reply["wall_s"],
            cpu + reply["orphans_user_s"] + reply["orphans_sys_s"],
            max(reply["maxrss_kb"], reply["orphans_maxrss_kb"]),
            reply["exit_code"],
            reply["orphans"],
            reply["children_cpu_delta_s"],
        )

    def stop(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()  # EOF: the helper's loop ends
        try:
            self._proc.wait(_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(_STOP_TIMEOUT_S)
        if self._proc.stdout is not None:
            self._proc.stdout.close()

    def __enter__(self) -> Spawner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Series:
    """All samples of one command, in round order."""

    command: Command
    samples: list[Sample] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        walls = [s.wall_s for s in self.samples]
        cpus = [s.cpu_s for s in self.samples]
        rss = [s.maxrss_kb for s in self.samples]
        return {
            "runs": len(self.samples),
            "wall_median_s": statistics.median(walls),
            "wall_min_s": min(walls),
            "wall_max_s": max(walls),
            "cpu_median_s": statistics.median(cpus),
            "cpu_min_s": min(cpus),
            "maxrss_median_kb": statistics.median(rss),
            "maxrss_max_kb": max(rss),
        }


def run_rounds(spawner: Spawner, commands: Sequence[Command], rounds: int, warmup: int) -> dict[str, Series]:
    """``warmup`` untimed rounds, then ``rounds`` rounds; each command must exit 0 every time.

    Round i runs the commands rotated by i (A B C, B C A, C A B, ...).
    """
    series = {c.key: Series(c) for c in commands}
    for i in range(warmup + rounds):
        k = i % len(commands)
        for cmd in [*commands[k:], *commands[:k]]:
            sample = spawner.run(cmd.argv, env=cmd.env)
            if sample.exit_code != 0:
                raise RuntimeError(f"{' '.join(cmd.argv)} exited with {sample.exit_code}")
            if i >= warmup:
                series[cmd.key].samples.append(sample)
    return series


def ratio_medians(series: dict[str, Series], subject: str) -> dict[str, dict[str, float]]:
    """Per reference command: the median over rounds of subject/reference, for wall, CPU and RSS."""
    mine = series[subject].samples
    out: dict[str, dict[str, float]] = {}
    for key, other in series.items():
        if key == subject:
            continue
        pairs = list(zip(mine, other.samples))
        cpu_pairs = [(a, b) for a, b in pairs if b.cpu_s > 0]
        out[key] = {
            "wall": statistics.median(a.wall_s / b.wall_s for a, b in pairs),
            "cpu": statistics.median(a.cpu_s / b.cpu_s for a, b in cpu_pairs) if cpu_pairs else float("nan"),
            "maxrss": statistics.median(a.maxrss_kb / b.maxrss_kb for a, b in pairs),
        }
    return out
