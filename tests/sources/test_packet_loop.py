"""The engine's packet loop (passive_packets) and the readers' records: the same answers as frame by frame.

``read_connections`` reads a capture's records from shared buffers and handles the usual
packet inline; the ring and the tests feed ``Frame``s through ``Decoder.decode`` and
``CaptureEngine.feed``. Both must give equal observations, connection by connection, on
every committed capture, and the readers' records must be their frames.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Optional

import pytest

from tlsmon.errors import CaptureError
from tlsmon.sources.capture.formats import CaptureReader
from tlsmon.sources.capture.frames import Frame
from tlsmon.sources.capture.ip import Decoder
from tlsmon.sources.passive import CaptureEngine, ReadStats, flow_key, read_connections

CAPTURES = Path(__file__).resolve().parent.parent / "data" / "captures"
FILES = sorted(p for p in CAPTURES.iterdir() if p.suffix in (".pcap", ".pcapng", ".cap"))


def keylog_of(path: Path) -> Optional[str]:
    log = CAPTURES / (path.name.split(".")[0] + ".keylog")
    return log.read_text() if log.exists() else None


def frame_by_frame(path: Path, keylog: Optional[str] = None) -> tuple[list[Any], int]:
    """Observations the way the ring reads (Frame, decode, feed), and the segments fed."""
    engine = CaptureEngine(keylog=keylog)
    decoder = Decoder()
    out: list[Any] = []
    fed = 0
    with CaptureReader(path, allow_truncated_tail=True) as reader:
        for frame in reader:
            seg = decoder.decode(frame)
            if seg is not None:
                fed += 1
                engine.feed(seg)
                out += engine.take()
    return out + engine.finish(), fed


def frames_of_records(reader: CaptureReader, block: int) -> list[Frame]:
    return [Frame(n, ts, lt, bytes(buf[start:end]), orig, iface)
            for n, ts, lt, buf, start, end, orig, iface in reader.records(block)]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_packet_loop_answers_as_frame_by_frame_feeding(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keylog = keylog_of(path)
    expected, segments = frame_by_frame(path, keylog)
    fed = []
    feed = CaptureEngine.feed
    monkeypatch.setattr(CaptureEngine, "feed", lambda self, seg: fed.append(seg) or feed(self, seg))
    stats = ReadStats()
    got = list(read_connections(path, keylog=keylog, stats=stats))
    assert got == expected
    assert stats.segments == segments
    if path.suffix != ".cap" and "any-sll2" not in path.name and "null" not in path.name \
            and "vlan" not in path.name and "qinq" not in path.name and "lo6" not in path.name:
        assert len(fed) < segments  # the ACKs and the segments inside skipped records went inline


@pytest.mark.parametrize("path", [p for p in FILES if p.suffix != ".cap"], ids=lambda p: p.name)
@pytest.mark.parametrize("block", [0, 1, 17, 1500, 1 << 20])
def test_records_are_the_frames(path: Path, block: int) -> None:
    with CaptureReader(path) as reader:
        frames = list(reader)
    with CaptureReader(path) as reader:
        assert frames_of_records(reader, block) == frames
        assert reader.frames_read == len(frames)


@pytest.mark.parametrize("name", ["ladder-mixed.pcap", "tls12-lo.ns.pcap", "ladder-mixed.pcapng"])
def test_records_of_a_cut_file_end_as_the_frames_do(tmp_path: Path, name: str) -> None:
    data = (CAPTURES / name).read_bytes()
    rng = random.Random(name)
    for cut in sorted({rng.randrange(24, len(data)) for _ in range(40)} | {24, 25, 40, len(data) - 1}):
        path = tmp_path / f"cut-{cut}"
        path.write_bytes(data[:cut])
        outcomes = []
        for block in (None, 0, 7, 1 << 20):
            try:
                with CaptureReader(path, allow_truncated_tail=False) as reader:
                    frames = list(reader) if block is None else frames_of_records(reader, block)
                outcomes.append(("frames", frames))
            except CaptureError as exc:
                outcomes.append((type(exc).__name__, str(exc)))
            with CaptureReader(path, allow_truncated_tail=True) as reader:
                frames = list(reader) if block is None else frames_of_records(reader, block)
                outcomes.append(("tail", frames, reader.truncated_tail, reader.frames_read))
        assert all(o == outcomes[0] for o in outcomes[0::2]), cut
        assert all(o == outcomes[1] for o in outcomes[1::2]), cut


def test_a_record_claiming_too_many_bytes_is_corrupt_in_every_mode(tmp_path: Path) -> None:
    data = bytearray((CAPTURES / "tls13-lo.pcap").read_bytes())
    data[24 + 8 : 24 + 12] = (10**6).to_bytes(4, "little")  # the first record's captured length
    path = tmp_path / "huge.pcap"
    path.write_bytes(bytes(data))
    for block in (0, 1 << 20):
        with CaptureReader(path, allow_truncated_tail=True) as reader:
            with pytest.raises(CaptureError, match="claims 1000000 captured bytes"):
                list(reader.records(block))


@pytest.mark.parametrize("endpoints", [("192.0.2.1", 40000, "198.51.100.7", 443),
                                       ("2001:db8::1", 1, "2001:db8:0:1::ff", 65535)])
def test_flow_keys(endpoints: tuple[str, int, str, int]) -> None:
    key = flow_key(*endpoints)
    assert len(key) == (12 if "." in endpoints[0] else 36)
    assert key.endswith(endpoints[1].to_bytes(2, "big") + endpoints[3].to_bytes(2, "big"))
    with pytest.raises(ValueError):
        flow_key("not an address", 1, "192.0.2.1", 2)


@pytest.mark.parametrize("name", ["tls12-lo.pcap", "tls13-lo6.pcap", "tls12-vlan.pcap"])
def test_flow_key_is_the_decoders(name: str) -> None:
    decoder = Decoder()
    with CaptureReader(CAPTURES / name) as reader:
        segments = [s for s in map(decoder.decode, reader) if s is not None]
    assert segments
    for s in segments:
        assert s.flow == flow_key(s.src, s.sport, s.dst, s.dport)
