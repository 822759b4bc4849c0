"""Fixtures for the capture tests: the committed captures and tshark as the oracle."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Callable, Dict, List, NamedTuple, Sequence

import pytest

# so that the tests can import make_captures (its writers) under any --import-mode
sys.path.insert(0, str(Path(__file__).resolve().parent))

from peers.tools import require_tool  # noqa: E402

TSHARK_HINT = "apt-get install tshark"


class SharkFrame(NamedTuple):
    """One frame as tshark reports it."""

    number: int
    time_epoch: Decimal  # NaN when the frame has none
    length: int
    captured: int
    interface: int
    data: bytes


class SharkSegment(NamedTuple):
    """The IP/TCP fields of one frame, as tshark reports them (-T fields)."""

    number: int
    src: str
    dst: str
    sport: int
    dport: int
    seq: int
    ack: int  # -1: tshark shows none (no ACK flag)
    flags: int
    payload: bytes


def _run_tshark(tshark: str, path: Path, args: List[str]) -> str:
    # NetMon start times are local times: read them as UTC, as our reader does
    env = dict(os.environ, TZ="UTC")
    done = subprocess.run(
        [tshark, "-r", str(path), "-o", "tcp.desegment_tcp_streams:FALSE", *args],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    if done.returncode:
        raise AssertionError(f"tshark failed on {path.name}: {done.stderr.strip()}")
    return done.stdout


@pytest.fixture(scope="session")
def tshark() -> str:
    return require_tool("tshark", TSHARK_HINT)


@pytest.fixture(scope="session")
def tshark_frames(tshark: str) -> Callable[[Path], List[SharkFrame]]:
    """path → the frames tshark reads there (number, epoch time, lengths, interface, bytes)."""
    cache: Dict[Path, List[SharkFrame]] = {}

    def frames(path: Path) -> List[SharkFrame]:
        if path not in cache:
            packets = json.loads(_run_tshark(tshark, path, ["-T", "json", "-x", "-j", "frame"]) or "[]")
            out = []
            for packet in packets:
                layers = packet["_source"]["layers"]
                frame = layers["frame"]
                raw = layers.get("frame_raw", [""])[0]
                out.append(
                    SharkFrame(
                        int(frame["frame.number"]),
                        Decimal(frame.get("frame.time_epoch", "NaN")),  # NaN: no timestamp (SPB)
                        int(frame["frame.len"]),
                        int(frame["frame.cap_len"]),
                        int(frame.get("frame.interface_id", 0)),
                        bytes.fromhex(raw),
                    )
                )
            cache[path] = out
        return cache[path]

    return frames


@pytest.fixture(scope="session")
def tshark_segments(tshark: str) -> Callable[..., Dict[int, SharkSegment]]:
    """path → {frame number: SharkSegment} for the frames tshark decodes as TCP."""
    fields = ["frame.number", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "tcp.srcport", "tcp.dstport",
              "tcp.seq_raw", "tcp.ack_raw", "tcp.flags", "tcp.payload"]  # fmt: skip
    args = ["-T", "fields", "-E", "separator=/t", "-Y", "tcp"]
    for field in fields:
        args += ["-e", field]

    def segments(path: Path, options: Sequence[str] = ()) -> Dict[int, SharkSegment]:
        out = {}
        for line in _run_tshark(tshark, path, [*options, *args]).splitlines():
            number, src4, src6, dst4, dst6, sport, dport, seq, ack, flags, payload = line.split("\t")
            if not flags:  # a TCP header cut short: tshark shows only some of its fields
                continue
            out[int(number)] = SharkSegment(
                int(number), src4 or src6, dst4 or dst6, int(sport), int(dport), int(seq), int(ack or -1),
                int(flags, 16), bytes.fromhex(payload.replace(":", "")),
            )  # fmt: skip
        return out

    return segments
