"""A live sample from a network interface: tcpdump (or dumpcap) as a subprocess, its pcap read from a pipe.

``LiveCapture`` starts the capture tool writing pcap to its stdout, stops it after the
duration (GNU ``timeout`` sends it SIGINT, so that it ends even if we die; a timer is
the fallback), and turns the tool's complaints into one-line reasons: no such interface,
capture not permitted, a bad filter. Every process it starts is stopped by its pid.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import subprocess
import threading
from typing import IO, Any, Callable, Optional, TypeVar

from ..errors import CaptureError, UsageError

__all__ = ["LiveCapture", "capture_command", "TOOLS"]

TOOLS = ("tcpdump", "dumpcap")
_T = TypeVar("_T")
_STOP_GRACE_S = 5.0


def capture_command(tool: str, interface: str, duration_s: float, bpf: Optional[str]) -> list[str]:
    """The command line that writes a pcap of ``interface`` to stdout for ``duration_s`` seconds."""
    if tool == "dumpcap":
        # -P: pcap, not pcapng; -a duration: dumpcap stops itself (whole seconds)
        cmd = ["dumpcap", "-i", interface, "-P", "-w", "-", "-q", "-a", f"duration:{max(1, math.ceil(duration_s))}"]
        if bpf:
            cmd += ["-f", bpf]
        return cmd
    cmd = ["tcpdump", "-i", interface, "-w", "-", "-U", "--immediate-mode", "-s", "0", "-B", "32768", "-n"]
    if bpf:
        cmd.append(bpf)
    return cmd


def _reason(tool: str, interface: str, bpf: Optional[str], stderr: str, code: Optional[int]) -> Exception:
    """The tool's complaint as one of our errors, with one line saying why."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    said = next((line for line in lines if line.lower().startswith(tool)), lines[0] if lines else "")
    low = stderr.lower()
    if "no such device" in low or "doesn't exist" in low or "there is no device" in low or "no such interface" in low:
        return CaptureError(f"no interface {interface!r}: {said}")
    if "permission" in low or "not permitted" in low:
        return CaptureError(f"capture on {interface!r} is not permitted: {said} (run as root, or give {tool} "
                            f"cap_net_raw,cap_net_admin with setcap, or add the user to its capture group)")
    if bpf and ("syntax error" in low or "can't parse filter" in low or "invalid capture filter" in low
                or "filter expression" in low):
        return UsageError(f"--bpf {bpf!r}: {said}")
    return CaptureError(f"{tool} failed (exit {code}): {said or 'no message'}")


class LiveCapture:
    """The capture tool as a context manager: ``stream`` is its pcap output.

    Args:
        interface: the interface (``lo``, ``eth0``, ``any``).
        duration_s: how long to capture.
        bpf: a capture filter (tcpdump/pcap syntax).
        tool: ``tcpdump`` or ``dumpcap``; None for the first found.

    Raises:
        CaptureError: no capture tool, or it cannot be started.
    """

    def __init__(self, interface: str, duration_s: float, bpf: Optional[str] = None, *,
                 tool: Optional[str] = None) -> None:
        self.interface, self.duration_s, self.bpf = interface, duration_s, bpf
        found = [t for t in ((tool,) if tool else TOOLS) if shutil.which(t)]
        if not found:
            wanted = tool or " or ".join(TOOLS)
            raise CaptureError(f"{wanted} not found on PATH (apt-get install tcpdump)")
        self.tool = found[0]
        self.command = capture_command(self.tool, interface, duration_s, bpf)
        self._proc: Optional[subprocess.Popen[bytes]] = None
        self._stderr: list[bytes] = []
        self._threads: list[threading.Thread] = []
        self._timer: Optional[threading.Timer] = None

    @property
    def stream(self) -> IO[bytes]:
        assert self._proc is not None and self._proc.stdout is not None, "use LiveCapture as a context manager"
        return self._proc.stdout

    def __enter__(self) -> LiveCapture:
        cmd = list(self.command)
        timeout = shutil.which("timeout")
        if self.tool == "tcpdump" and timeout:
            # GNU timeout ends tcpdump after the duration even if this process dies first.
            cmd = [timeout, "-s", "INT", "-k", f"{_STOP_GRACE_S:g}", f"{self.duration_s:g}", *cmd]
        try:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE)
        except OSError as exc:
            raise CaptureError(f"cannot start {self.tool}: {exc.strerror or exc}") from None
        reader = threading.Thread(target=self._drain, daemon=True)
        reader.start()
        self._threads.append(reader)
        if not (self.tool == "tcpdump" and timeout) and self.tool != "dumpcap":
            self._timer = threading.Timer(self.duration_s, self._interrupt)
            self._timer.daemon = True
            self._timer.start()
        return self

    def _drain(self) -> None:
        proc = self._proc
        assert proc is not None and proc.stderr is not None
        stderr: Any = proc.stderr
        for chunk in iter(lambda: stderr.read1(4096), b""):
            if sum(len(c) for c in self._stderr) < 64 * 1024:
                self._stderr.append(chunk)

    def _interrupt(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            try:
                os.kill(proc.pid, signal.SIGINT)
            except ProcessLookupError:
                pass

    def stop(self) -> Optional[int]:
        """Stop the tool (SIGINT, then SIGKILL by its pid) and return its exit code."""
        proc = self._proc
        if proc is None:
            return None
        if self._timer is not None:
            self._timer.cancel()
        if proc.poll() is None:
            self._interrupt()
            try:
                proc.wait(_STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        for thread in self._threads:
            thread.join(2.0)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        return proc.returncode

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def stderr(self) -> str:
        return b"".join(self._stderr).decode("utf-8", "replace")

    def _failure(self, code: Optional[int]) -> Optional[Exception]:
        """The tool's failure as one line, or None when it captured (stopped by SIGINT or timeout)."""
        err = _reason(self.tool, self.interface, self.bpf, self.stderr, code)
        if code in (0, 124, 130, -signal.SIGINT, None) and str(err).startswith(f"{self.tool} failed"):
            return None  # no complaint we know, and an exit code of a capture that was stopped
        return err

    def guard(self, read: Callable[[], _T]) -> _T:
        """Run ``read`` (which reads ``stream`` to its end), then check that the tool really captured.

        Raises:
            CaptureError, UsageError: with the tool's reason when it could not capture.
        """
        try:
            result = read()
        except CaptureError:
            failure = self._ended()
            if failure is not None:
                raise failure from None
            raise
        failure = self._ended()
        if failure is not None:
            raise failure
        return result

    def _ended(self) -> Optional[Exception]:
        """Wait for the tool to end (stop it if it does not) and say why it failed, if it did."""
        proc = self._proc
        assert proc is not None
        code: Optional[int]
        try:
            code = proc.wait(_STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            code = self.stop()
        for thread in self._threads:
            thread.join(2.0)
        return self._failure(code)
