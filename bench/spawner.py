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
Wall time runs from just before fork() to the return of wait4() on the child.

What wait4() reports: Linux fills its rusage at reap time with the child's own usage plus that
of every descendant the child (or they, recursively) waited for (``getrusage(child,
RUSAGE_BOTH)`` in the kernel's wait_task_zombie), the very amount by which the waiter's own
``getrusage(RUSAGE_CHILDREN)`` grows. So ``user_s``/``sys_s`` cover a shell script's whole
tree of waited-for processes, and ``maxrss_kb`` is the largest single process among them (a
maximum, not a sum). Only descendants that outlive their parent escape it: they are
reparented and reaped elsewhere.

``--tree`` closes that gap: the helper makes itself a child subreaper (``prctl``, which needs
``ctypes`` and ``resource``: a few hundred KiB more floor, so only the sections that need it
start the helper this way). Orphaned descendants are then reparented to the helper, which
waits for all of them after the child exits (wall time still ends at the child's exit) and
adds ``orphans``, ``orphans_user_s``, ``orphans_sys_s``, ``orphans_maxrss_kb`` and, as a
cross-check, ``children_cpu_delta_s`` (its own RUSAGE_CHILDREN growth over the request).
"""

import json
import os
import signal
import sys
import time

resource = None  # imported by _become_subreaper() in --tree mode


def _become_subreaper():
    """Make orphaned descendants ours; import what --tree needs once, before any child is forked."""
    global resource
    import ctypes  # only in --tree mode: both raise the RSS floor a little
    import resource

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def _our_children():
    """Pids whose parent is this helper (orphans reparented to it, children not yet reaped)."""
    me, pids = os.getpid(), []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        if int(stat[stat.rindex(b")") + 2:].split()[1]) == me:  # field 4, after "pid (comm) state"
            pids.append(int(name))
    return pids


def _kill(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _reap_orphans(reply):
    """--tree: wait for every remaining descendant (reparented to us) and add up their rusage."""
    orphans, user, sys_, maxrss = 0, 0.0, 0.0, 0
    while True:
        try:
            _, _, usage = os.wait4(-1, 0)
        except ChildProcessError:
            break
        orphans += 1
        user += usage.ru_utime
        sys_ += usage.ru_stime
        maxrss = max(maxrss, usage.ru_maxrss)
    reply.update(orphans=orphans, orphans_user_s=user, orphans_sys_s=sys_, orphans_maxrss_kb=maxrss)


def _run(request, devnull, tree=False):
    argv = request["argv"]
    env = request.get("env") or dict(os.environ)
    out_path = request.get("stdout")
    state = {"pid": 0, "timed_out": False}

    def on_alarm(signum, frame):
        state["timed_out"] = True
        _kill(_our_children() if tree else [state["pid"]])

    if tree:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
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
        t1 = time.perf_counter()
        extra = {}
        if tree:
            _reap_orphans(extra)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            extra["children_cpu_delta_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return {
        **extra,
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
    tree = "--tree" in sys.argv[1:]
    if tree:
        _become_subreaper()
    devnull = os.open(os.devnull, os.O_RDWR)
    for line in sys.stdin:
        if not line.strip():
            continue
        reply = _run(json.loads(line), devnull, tree)
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
