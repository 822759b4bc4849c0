"""A lean fork-and-wait server: runs commands on request and reports their rusage.

Why a separate process: on Linux a child's ru_maxrss is at least the resident size of the
process it was forked (or vfork-spawned) from, because exec keeps the old memory map's
high-water mark. Spawned from the benchmark itself (cryptography and tlsmon loaded, ~40 MB),
every child would show that floor. This helper starts with ``python -I -S`` and imports only
``json``, ``os``, ``signal``, ``sys`` and ``time``, so the floor it leaves is a few MB
(``floor`` in the results measures it with /bin/true).

Protocol: one JSON request per line on stdin, ``{"argv": [...], "env": {...}, "stdout": path
or null, "timeout_s": float}``; one JSON reply per line on stdout, ``{"pid", "status",
"exit_code", "wall_s", "user_s", "sys_s", "maxrss_kb", "timed_out"}``. EOF on stdin ends it.
Wall time runs from just before fork() to the return of wait4(); CPU and peak RSS are the
child's own, from wait4().
"""

import json
import os
import signal
import sys
import time


def _run(request, devnull):
    argv = request["argv"]
    env = request.get("env") or dict(os.environ)
    out_path = request.get("stdout")
    state = {"pid": 0, "timed_out": False}

    def on_alarm(signum, frame):
        state["timed_out"] = True
        os.kill(state["pid"], signal.SIGKILL)

    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # child: stdin from /dev/null, output to the file or /dev/null, then exec
        try:
            os.dup2(devnull, 0)
            out = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600) if out_path else devnull
            os.dup2(out, 1)
            os.dup2(out, 2)
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    state["pid"] = pid
    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, float(request.get("timeout_s", 60.0)))
    try:
        _, status, usage = os.wait4(pid, 0)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    t1 = time.perf_counter()
    return {
        "pid": pid,
        "status": status,
        "exit_code": os.waitstatus_to_exitcode(status),
        "wall_s": t1 - t0,
        "user_s": usage.ru_utime,
        "sys_s": usage.ru_stime,
        "maxrss_kb": usage.ru_maxrss,
        "timed_out": state["timed_out"],
    }


def main():
    devnull = os.open(os.devnull, os.O_RDWR)
    for line in sys.stdin:
        if not line.strip():
            continue
        reply = _run(json.loads(line), devnull)
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
