"""Incremental ring reading (tlsmon.sources.ring): every run reads only what the runs before it have
not, and all the runs together count exactly what one pass over the whole traffic counts.

Three kinds of rings: files written by the test a few bytes at a time (records cut at the end of
a file, as a capture tool leaves them) from the committed real captures, merged so that
connections overlap and cross file boundaries; the same read by the plugin in subprocesses, some
killed with SIGKILL at chosen points (mid-file, while writing the state); and a real
``tcpdump -G 1`` ring recorded while real handshakes happen, with plugin runs in between, one
killed mid-file.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Optional

import pytest
from make_captures import Record, pcap_bytes, pcapng_block, pcapng_epb, pcapng_idb, pcapng_shb, read_pcap

from peers.tools import missing, require_tool
from tlsmon.sources.ring import RingReader, read_files
from tlsmon.sources.ringstate import StateError, read_state

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "plugins" / "check_tls_capture"
CAPTURES = ROOT / "tests" / "data" / "captures"
LINKTYPE_ETHERNET = 1
# Real captures, each shifted in time so that they overlap (connections of several captures in
# flight at once), then merged by time. Their 4-tuples are all different.
OVERLAPPING = ("ladder-tls12-clientauth", "ladder-tls12-renegotiation", "ladder-tls13-clientauth",
               "ladder-tls12-resumption", "ladder-failures", "ladder-mixed", "ladder-tls13-hrr", "ladder-tls13-pha")
# Then, after those have ended, captures of the same connections as ladder-tls12-clientauth (same
# 4-tuples: the engine must know those flows have ended, across runs, before new SYNs reuse them).
AFTER = ("ladder-tls12-1500", "ladder-tls12-reordered")


# -- traffic ------------------------------------------------------------------------------------------


def merged_records() -> list[Record]:
    start = 1_800_000_000 * 10**9
    out: list[Record] = []
    tuples: set[bytes] = set()
    for k, name in enumerate(OVERLAPPING):
        _, records = read_pcap(CAPTURES / f"{name}.pcap")
        shift = start + k * 300_000_000 - records[0].time_ns  # a new capture every 0.3 s
        out += [Record(r.time_ns + shift, r.data, r.original_length) for r in records]
        ports = {r.data[34:38] for r in records if len(r.data) > 38}
        assert not tuples & ports, f"{name} shares 4-tuples with another capture"
        tuples |= ports
    out.sort(key=lambda r: r.time_ns)
    t = out[-1].time_ns + 1_000_000_000
    for name in AFTER:
        _, records = read_pcap(CAPTURES / f"{name}.pcap")
        shift = t - records[0].time_ns
        out += [Record(r.time_ns + shift, r.data, r.original_length) for r in records]
        t = out[-1].time_ns + 1_000_000_000
    return out


def keylog_text() -> str:
    return "".join((CAPTURES / f"{n}.keylog").read_text() for n in OVERLAPPING + AFTER
                   if (CAPTURES / f"{n}.keylog").exists())


def file_bytes(records: list[Record], fmt: str, extra_idb_after: Optional[int] = None) -> bytes:
    """A capture file: pcap, or pcapng (ns timestamps; a custom block now and then, which Wireshark
    numbers as a frame; a second interface declared after ``extra_idb_after`` packets)."""
    if fmt == "pcap":
        return pcap_bytes(records, LINKTYPE_ETHERNET)
    out = [pcapng_shb(), pcapng_idb(LINKTYPE_ETHERNET, tsresol=9)]
    for i, r in enumerate(records):
        if i == extra_idb_after:
            out.append(pcapng_idb(LINKTYPE_ETHERNET, tsresol=6))
        out.append(pcapng_epb(0, r.time_ns, r.data, r.original_length))
        if i % 7 == 3:
            out.append(pcapng_block(0x0BAD, b"tlsmon\0\0" + bytes(8)))
    return b"".join(out)


def identity(obs: Any) -> tuple[Any, ...]:
    return (str(obs.client), str(obs.server), obs.first_frame, obs.last_frame, obs.number, obs.outcome.value,
            obs.request_status.value, obs.request_reason, obs.client_certificate_status.value, len(obs.alerts),
            obs.renegotiation, len(obs.steps), obs.decrypted, obs.sni, obs.version)


class Ring:
    """Ring files written a chunk at a time; ``after_chunk()`` runs between writes."""

    def __init__(self, directory: Path, records: list[Record], fmt: str = "pcap", files: int = 8, seed: int = 1,
                 chunks: int = 3, name: str = "ring-{:04d}.{ext}") -> None:
        self.directory = directory
        rnd = random.Random(seed)
        cuts = sorted(rnd.sample(range(1, len(records)), files - 1))
        self.parts = [records[a:b] for a, b in zip([0, *cuts], [*cuts, len(records)])]
        self.fmt, self.rnd, self.chunks, self.name = fmt, rnd, chunks, name
        self.written: list[Path] = []

    def data(self, i: int) -> bytes:
        return file_bytes(self.parts[i], self.fmt, extra_idb_after=3 if self.fmt == "pcapng" and i == 2 else None)

    def write(self, after_chunk: Any) -> None:
        for i in range(len(self.parts)):
            path = self.directory / self.name.format(i, ext=self.fmt)
            data = self.data(i)
            points = sorted(self.rnd.sample(range(1, len(data)), min(self.chunks - 1, len(data) - 1)))
            k = 0
            with open(path, "wb") as f:
                for point in [*points, len(data)]:
                    f.write(data[k:point])
                    f.flush()
                    k = point
                    after_chunk(i)
            self.written.append(path)


def ring_run(directory: Path, state: Path, **options: Any) -> list[tuple[Any, ...]]:
    with RingReader(str(directory), "*", str(state), **options) as ring:
        got = [identity(o) for o in ring.observations()]
        ring.commit({"connections": len(got)})
    return got


def single_pass(paths: Iterable[Path], **options: Any) -> list[tuple[Any, ...]]:
    return [identity(o) for o in read_files([str(p) for p in paths], **options)]


# -- in-process runs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_runs_between_writes_add_up_to_one_pass(tmp_path: Path, fmt: str, seed: int) -> None:
    ring_dir, state = tmp_path / "ring", tmp_path / "ring.state"
    ring_dir.mkdir()
    ring = Ring(ring_dir, merged_records(), fmt, files=9, seed=seed, chunks=4)
    got: list[tuple[Any, ...]] = []
    runs = [0]

    def run(_i: int) -> None:
        got.extend(ring_run(ring_dir, state))
        runs[0] += 1

    ring.write(run)
    got.extend(ring_run(ring_dir, state))
    reference = single_pass(ring.written)
    assert len(reference) == 33
    assert Counter(got) == Counter(reference)
    assert runs[0] == 36
    saved = read_state(str(state))
    assert saved is not None and saved.totals["connections"] == len(reference) and not saved.live


def test_with_a_key_log_the_decrypted_runs_add_up_too(tmp_path: Path) -> None:
    ring_dir, state = tmp_path / "ring", tmp_path / "ring.state"
    ring_dir.mkdir()
    keylog = keylog_text()
    ring = Ring(ring_dir, merged_records(), "pcap", files=7, seed=5, chunks=3)
    got: list[tuple[Any, ...]] = []
    ring.write(lambda i: got.extend(ring_run(ring_dir, state, keylog=keylog)))
    reference = single_pass(ring.written, keylog=keylog)
    assert Counter(got) == Counter(reference)
    assert sum(1 for r in reference if r[12]) >= 10  # decrypted


def test_each_run_reads_only_what_is_new(tmp_path: Path) -> None:
    ring_dir, state = tmp_path / "ring", tmp_path / "ring.state"
    ring_dir.mkdir()
    records = merged_records()
    data = file_bytes(records, "pcap")
    (ring_dir / "a.pcap").write_bytes(data[: len(data) // 2 + 7])  # cut inside a record
    with RingReader(str(ring_dir), "*", str(state)) as ring:
        list(ring.observations())
        ring.commit({})
        first = ring.run
    assert 0 < first.read_bytes < len(data) // 2 and first.live > 0
    with RingReader(str(ring_dir), "*", str(state)) as ring:  # nothing new: nothing read
        assert list(ring.observations()) == []
        ring.commit({})
        assert ring.run.read_bytes == 0 and ring.run.replayed_bytes == 0 and ring.run.frames == 0
    with open(ring_dir / "a.pcap", "ab") as f:
        f.write(data[len(data) // 2 + 7:])
    with RingReader(str(ring_dir), "*", str(state)) as ring:
        list(ring.observations())
        ring.commit({})
        second = ring.run
    assert first.read_bytes + second.read_bytes == len(data)
    # What is read again is from where the first connection still in flight began (here: one that
    # began near the start), and only the segments of those connections are fed again.
    assert 0 < second.replayed_bytes <= first.read_bytes


def test_a_run_out_of_time_leaves_the_rest_to_the_next(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tlsmon.sources import ring as ring_module

    monkeypatch.setattr(ring_module, "_MARK_EVERY", 16)
    ring_dir, state = tmp_path / "ring", tmp_path / "ring.state"
    ring_dir.mkdir()
    ring = Ring(ring_dir, merged_records(), "pcapng", files=3, seed=4, chunks=1)
    ring.write(lambda i: None)
    got: list[tuple[Any, ...]] = []
    backlogs = []
    for _ in range(200):
        with RingReader(str(ring_dir), "*", str(state), deadline=time.monotonic() - 1) as reader:
            got.extend(identity(o) for o in reader.observations())
            reader.commit({})
            backlogs.append(reader.run.backlog_bytes)
        if not backlogs[-1]:
            break
    assert len(backlogs) > 20 and backlogs[-1] == 0
    assert Counter(got) == Counter(single_pass(ring.written))


def test_a_run_that_dies_before_its_commit_changes_nothing(tmp_path: Path) -> None:
    ring_dir, state = tmp_path / "ring", tmp_path / "ring.state"
    ring_dir.mkdir()
    ring = Ring(ring_dir, merged_records(), "pcap", files=6, seed=11, chunks=3)
    got: list[tuple[Any, ...]] = []
    crashes = [0]

    def run(i: int) -> None:
        if i % 2 == 0:  # a run that stops half way (an exception, a kill): no commit
            with RingReader(str(ring_dir), "*", str(state)) as ring:
                for n, _ in enumerate(ring.observations()):
                    if n == 1:
                        break
            crashes[0] += 1
        got.extend(ring_run(ring_dir, state))

    ring.write(run)
    got.extend(ring_run(ring_dir, state))
    assert crashes[0] >= 6
    assert Counter(got) == Counter(single_pass(ring.written))


def test_a_failed_state_write_records_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ring_dir, state = tmp_path / "ring", tmp_path / "ring.state"
    ring_dir.mkdir()
    ring = Ring(ring_dir, merged_records(), "pcap", files=5, seed=3, chunks=2)
    got: list[tuple[Any, ...]] = []

    def run(i: int) -> None:
        if i == 2:
            with monkeypatch.context() as m:
                def refuse(*_args: Any) -> None:
                    raise OSError(28, "No space left on device")

                m.setattr("tlsmon.sources.ringstate.os.replace", refuse)
                with pytest.raises(StateError, match="No space left"):
                    ring_run(ring_dir, state)
            assert not Path(f"{state}.tmp").exists() or Path(f"{state}.tmp").stat().st_size > 0
        got.extend(ring_run(ring_dir, state))

    ring.write(run)
    got.extend(ring_run(ring_dir, state))
    assert Counter(got) == Counter(single_pass(ring.written))


@pytest.mark.parametrize("variant", ["gzip", "rename", "wrap"])
def test_rotations(tmp_path: Path, variant: str) -> None:
    """What rings do to their files as the next one begins, before a run has read the end of the
    last one: tcpdump -z gzip (replaced by a .gz), a rename, tcpdump -C -W (a name reused: the old
    file truncated, its inode gets new content)."""
    ring_dir, state = tmp_path / "ring", tmp_path / "ring.state"
    ring_dir.mkdir()
    ring = Ring(ring_dir, merged_records(), "pcap", files=8, seed=21)
    got: list[tuple[Any, ...]] = []
    complete: list[Path] = []

    def path_for(i: int) -> Path:
        return ring_dir / (f"ring{i % 5}.pcap" if variant == "wrap" else f"ring{i:02d}.pcap")

    for i in range(len(ring.parts)):
        data = ring.data(i)
        points = sorted(ring.rnd.sample(range(1, len(data)), 2))
        with open(path_for(i), "wb") as f:
            for j, (a, b) in enumerate(zip([0, *points], [*points, len(data)])):
                f.write(data[a:b])
                f.flush()
                if j == 0 and i > 0:
                    previous = path_for(i - 1)
                    if variant == "gzip":
                        previous.with_name(previous.name + ".gz").write_bytes(gzip.compress(previous.read_bytes()))
                        previous.unlink()
                    elif variant == "rename":
                        previous.rename(previous.with_name("old-" + previous.name))
                if b < len(data):  # no run after a file's last chunk: the next run finds it rotated
                    got.extend(ring_run(ring_dir, state))
        copy = tmp_path / f"copy{i:02d}.pcap"
        copy.write_bytes(data)
        complete.append(copy)
    got.extend(ring_run(ring_dir, state))
    assert Counter(got) == Counter(single_pass(complete))


def _records_at(records: list[Record], start_ns: int) -> list[Record]:
    shift = start_ns - records[0].time_ns
    return [Record(r.time_ns + shift, r.data, r.original_length) for r in records]


def test_horizon_ends_a_long_connection_once(tmp_path: Path) -> None:
    """A connection still open ``horizon`` after it began is counted at the end of that run; the rest of
    it, read later, is not counted again (not even as a connection begun before the capture)."""
    ring_dir, state = tmp_path / "ring", tmp_path / "ring.state"
    ring_dir.mkdir()
    _, first = read_pcap(CAPTURES / "tls12-lo.pcap")  # one connection: handshake, GET, answer, close
    _, other = read_pcap(CAPTURES / "tls13-lo.pcap")
    t0 = 1_800_000_000 * 10**9
    head, tail = first[:14], first[14:]
    (ring_dir / "r1.pcap").write_bytes(pcap_bytes(_records_at(head, t0), LINKTYPE_ETHERNET))
    assert ring_run(ring_dir, state, horizon_s=10) == []
    (ring_dir / "r2.pcap").write_bytes(pcap_bytes(_records_at(other, t0 + 20 * 10**9), LINKTYPE_ETHERNET))
    with RingReader(str(ring_dir), "*", str(state), horizon_s=10) as ring:
        got = list(ring.observations())
        ring.commit({})
        assert ring.run.ended_early == 1
    assert sorted(o.outcome.value for o in got) == ["completed", "completed"]
    (ring_dir / "r3.pcap").write_bytes(pcap_bytes(_records_at(tail, t0 + 25 * 10**9), LINKTYPE_ETHERNET))
    assert ring_run(ring_dir, state, horizon_s=10) == []


def test_connections_whose_beginning_left_the_ring_are_lost_once(tmp_path: Path) -> None:
    ring_dir, state = tmp_path / "ring", tmp_path / "ring.state"
    ring_dir.mkdir()
    _, records = read_pcap(CAPTURES / "tls12-lo.pcap")
    (ring_dir / "r1.pcap").write_bytes(pcap_bytes(records[:14], LINKTYPE_ETHERNET))
    assert ring_run(ring_dir, state) == []
    (ring_dir / "r1.pcap").unlink()  # rotated away before the connection ended
    (ring_dir / "r2.pcap").write_bytes(pcap_bytes(records[14:], LINKTYPE_ETHERNET))
    with RingReader(str(ring_dir), "*", str(state)) as ring:
        assert list(ring.observations()) == []  # not counted again as begun before the capture
        ring.commit({})
        assert ring.run.lost == 1


def test_files_that_are_not_captures_are_skipped_and_damage_is_said_once(tmp_path: Path) -> None:
    ring_dir, state = tmp_path / "ring", tmp_path / "ring.state"
    ring_dir.mkdir()
    (ring_dir / "README").write_text("not a capture\n" * 10)
    _, records = read_pcap(CAPTURES / "tls12-lo.pcap")
    good = pcap_bytes(records, LINKTYPE_ETHERNET)
    damaged = bytearray(good)
    damaged[24 + 8: 24 + 12] = (10**7).to_bytes(4, "little")  # first record claims 10 MB
    (ring_dir / "a.pcap").write_bytes(bytes(damaged))
    with RingReader(str(ring_dir), "*", str(state)) as ring:
        assert list(ring.observations()) == []
        ring.commit({})
        assert any("README" in s for s in ring.run.skipped)
        assert any("a.pcap" in e for e in ring.run.errors)
    (ring_dir / "b.pcap").write_bytes(good)
    with RingReader(str(ring_dir), "*", str(state)) as ring:
        assert len(list(ring.observations())) == 1
        ring.commit({})
        assert ring.run.errors == [] and ring.run.skipped == []


def test_the_state_belongs_to_one_ring_and_is_locked(tmp_path: Path) -> None:
    ring_dir, state = tmp_path / "ring", tmp_path / "ring.state"
    ring_dir.mkdir()
    ring_run(ring_dir, state)
    with pytest.raises(StateError, match="belongs to"):
        RingReader(str(ring_dir), "*.pcap", str(state)).__enter__()
    with RingReader(str(ring_dir), "*", str(state)):
        with pytest.raises(StateError, match="another run holds"):
            RingReader(str(ring_dir), "*", str(state), lock_wait_s=0.2).__enter__()
    state.write_text("{not json")
    with pytest.raises(StateError, match="not usable"):
        RingReader(str(ring_dir), "*", str(state)).__enter__()


# -- the plugin, killed -------------------------------------------------------------------------------------

KILLER = """
import os, runpy, signal, sys
sys.path.insert(0, {lib!r})
mode, n = sys.argv[1], int(sys.argv[2])
sys.argv = [{plugin!r}] + sys.argv[3:]
from tlsmon.sources import passive, ringstate as ring
calls = [0]
def kill_at(k):
    calls[0] += 1
    if calls[0] == k:
        os.kill(os.getpid(), signal.SIGKILL)
if mode == "feed":  # in the middle of reading
    feed = passive.CaptureEngine.feed
    def counted(self, seg):
        kill_at(n)
        return feed(self, seg)
    passive.CaptureEngine.feed = counted
elif mode in ("before-rename", "after-rename"):  # while writing the state
    replace = os.replace
    def renaming(a, b):
        if mode == "before-rename":
            kill_at(1)
        replace(a, b)
        if mode == "after-rename":
            kill_at(1)
    ring.os.replace = renaming
elif mode == "fsync":
    fsync = os.fsync
    def syncing(fd):
        kill_at(n)
        fsync(fd)
    ring.os.fsync = syncing
runpy.run_path({plugin!r}, run_name="__main__")
"""


def plugin(*args: str, killer: Optional[tuple[str, int]] = None, timeout: float = 60) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "lib"))
    if killer is None:
        cmd = [sys.executable, str(PLUGIN), *args]
    else:
        code = KILLER.format(lib=str(ROOT / "lib"), plugin=str(PLUGIN))
        cmd = [sys.executable, "-c", code, killer[0], str(killer[1]), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd="/")


COUNTED = ("handshakes", "failed", "incomplete", "cert_requests", "cert_requests_unseen", "empty_client_certs",
           "renegotiations", "midstream")


def counts_of(proc: subprocess.CompletedProcess) -> Counter[str]:
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    facts = report["facts"]
    out: Counter[str] = Counter({k: facts["counts"][k] for k in COUNTED})
    out.update(facts["alerts"])
    return out


def connections_of(proc: subprocess.CompletedProcess) -> Counter[tuple[Any, ...]]:
    facts = json.loads(proc.stdout)["facts"]
    return Counter((c["client"], c["server"], c["first_frame"], c["outcome"]) for c in facts.get("connections", []))


def state_counts(state: Path) -> Counter[str]:
    saved = read_state(str(state))
    totals = saved.totals if saved is not None else {}
    return +Counter({k: v for k, v in totals.items() if k in COUNTED or k.startswith("alert_")})


def test_plugin_runs_killed_anywhere_lose_nothing_and_count_nothing_twice(tmp_path: Path) -> None:
    ring_dir, state = tmp_path / "ring", tmp_path / "ring.state"
    ring_dir.mkdir()
    ring = Ring(ring_dir, merged_records(), "pcap", files=5, seed=8, chunks=2)
    args = ("--ring", str(ring_dir), "--state", str(state), "--min-handshakes", "0", "--output", "json", "-vv")
    printed: Counter[str] = Counter()
    unprinted: Counter[str] = Counter()  # counted by a run killed after its commit, before its output
    listed: Counter[tuple[Any, ...]] = Counter()
    kills = iter([("feed", 12), ("fsync", 1), ("before-rename", 1), ("feed", 5), ("after-rename", 1),
                  ("fsync", 2), ("feed", 30), ("feed", 1), ("before-rename", 1), ("feed", 20)])
    killed = []

    def run(_i: int) -> None:
        kill = next(kills, None)
        if kill is not None:
            before = state_counts(state)
            proc = plugin(*args, killer=kill)
            if proc.returncode == -signal.SIGKILL:
                committed = state_counts(state) - before
                assert kill in (("after-rename", 1), ("fsync", 2)) or not committed, kill
                unprinted.update(committed)
                killed.append(kill)
            else:  # the run had less to read than the kill point: a normal run
                printed.update(counts_of(proc))
                listed.update(connections_of(proc))
        proc = plugin(*args)
        assert proc.returncode in (0, 1, 2), proc.stdout + proc.stderr
        printed.update(counts_of(proc))
        listed.update(connections_of(proc))

    ring.write(run)
    final = plugin(*args)
    printed.update(counts_of(final))
    listed.update(connections_of(final))
    single = plugin(*[str(p) for p in ring.written], "--min-handshakes", "0", "--output", "json", "-vv")
    expected = +counts_of(single)
    assert len(killed) >= 7 and sum(1 for k in killed if k[0] == "feed") >= 3, killed
    assert {"before-rename", "after-rename", "fsync"} <= {k[0] for k in killed}
    assert expected["handshakes"] == 33 and expected["midstream"] == 0
    assert +(printed + unprinted) == expected
    assert state_counts(state) == expected
    # Connection by connection: every printed one is one of the single pass's, none twice.
    assert not listed - connections_of(single)
    assert sum(listed.values()) + unprinted["handshakes"] == sum(connections_of(single).values())


# -- a real tcpdump ring ---------------------------------------------------------------------------------


def _contexts(pki_dir: Path, client_ca: Any, client_cert: Any, identity: Any) -> dict[str, Any]:
    def server(version: ssl.TLSVersion, verify: ssl.VerifyMode = ssl.CERT_NONE) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ctx.maximum_version = version
        ctx.load_cert_chain(str(identity.chain_pem_path), str(identity.key_path))
        if verify != ssl.CERT_NONE:
            ctx.verify_mode = verify
            ctx.load_verify_locations(str(client_ca.pem_path))
        return ctx

    plain = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    plain.check_hostname, plain.verify_mode = False, ssl.CERT_NONE
    with_cert = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    with_cert.check_hostname, with_cert.verify_mode = False, ssl.CERT_NONE
    with_cert.load_cert_chain(str(client_cert.cert_pem_path), str(client_cert.key_path))
    return {
        "servers": {
            "tls12": server(ssl.TLSVersion.TLSv1_2),
            "optional": server(ssl.TLSVersion.TLSv1_2, ssl.CERT_OPTIONAL),
            "required": server(ssl.TLSVersion.TLSv1_2, ssl.CERT_REQUIRED),
            "tls13": server(ssl.TLSVersion.TLSv1_3),
        },
        "plain": plain,
        "with_cert": with_cert,
    }


class Servers:
    """A few TLS servers on 127.0.0.1 (one thread per connection); stopped with stop()."""

    def __init__(self, contexts: dict[str, ssl.SSLContext]) -> None:
        self.sockets: dict[str, socket.socket] = {}
        self.stopping = threading.Event()
        for name, ctx in contexts.items():
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sock.listen(64)
            sock.settimeout(0.2)
            self.sockets[name] = sock
            threading.Thread(target=self._accept, args=(sock, ctx), daemon=True).start()

    def port(self, name: str) -> int:
        return int(self.sockets[name].getsockname()[1])

    def _accept(self, sock: socket.socket, ctx: ssl.SSLContext) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._serve, args=(conn, ctx), daemon=True).start()

    @staticmethod
    def _serve(conn: socket.socket, ctx: ssl.SSLContext) -> None:
        conn.settimeout(5)
        try:
            with ctx.wrap_socket(conn, server_side=True) as tls:
                while True:
                    data = tls.recv(4096)
                    if not data:
                        break
                    tls.sendall(b"ok:" + data)
                    if data.endswith(b"bye"):
                        break
                try:
                    tls.unwrap()
                except (OSError, ssl.SSLError):
                    pass
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def stop(self) -> None:
        self.stopping.set()
        for sock in self.sockets.values():
            sock.close()


def _client(port: int, ctx: ssl.SSLContext, hold_s: float = 0.0) -> None:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                end = time.monotonic() + hold_s
                while time.monotonic() < end:
                    tls.sendall(b"tick")
                    tls.recv(64)
                    time.sleep(0.25)
                tls.sendall(b"bye")
                tls.recv(64)
    except (OSError, ssl.SSLError):
        pass  # a refused handshake is part of the traffic


class CaptureRing:
    """``tcpdump -G 1`` (pcap) or ``dumpcap -b duration:1`` (pcapng) writing a file a second into a
    directory; stopped by its pid (SIGINT)."""

    def __init__(self, tool: str, directory: Path, ports: list[int]) -> None:
        expr = " or ".join(f"tcp port {p}" for p in ports)
        if tool == "tcpdump":
            cmd = ["tcpdump", "-i", "lo", "-G", "1", "-w", str(directory / "ring-%s.pcap"), "-Z", "root", "-U",
                   "--immediate-mode", "-B", "32768", "-s", "0", expr]
            ready = "listening on"
        else:
            cmd = ["dumpcap", "-i", "lo", "-b", "duration:1", "-w", str(directory / "ring.pcapng"), "-f", expr]
            ready = "Capturing on"
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert self.proc.stderr is not None
        seen = []
        while True:
            line = self.proc.stderr.readline()
            seen.append(line)
            if ready in line:
                break
            if not line:
                self.stop()
                raise RuntimeError(f"{tool} did not start: {''.join(seen).strip()}")
        threading.Thread(target=self.proc.stderr.read, daemon=True).start()  # keep its pipe drained

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


@pytest.mark.parametrize("tool", ["tcpdump", "dumpcap"])
def test_real_ring_with_runs_in_between(tmp_path: Path, pki_dir: Path, client_ca: Any, client_cert: Any,
                                        rsa_chain2: Any, tool: str) -> None:
    """tcpdump -G 1 (pcap, a file a second) or dumpcap -b duration:1 (pcapng) recording real handshakes,
    with plugin runs in between, one killed mid-file and some killed from outside wherever they are:
    all the runs together count exactly what one run over all the files counts."""
    require_tool(tool, "apt-get install tcpdump tshark")
    if os.geteuid() != 0:
        missing("capturing on lo needs root (CI runs as root)")
    ring_dir, state = tmp_path / "ring", tmp_path / "ring.state"
    ring_dir.mkdir()
    ctx = _contexts(pki_dir, client_ca, client_cert, rsa_chain2)
    servers = Servers(ctx["servers"])
    kinds = [("tls12", "plain"), ("optional", "with_cert"), ("optional", "plain"), ("required", "plain"),
             ("tls13", "plain")]
    stop = threading.Event()

    def traffic() -> None:
        rnd = random.Random(7)
        threads = []
        for n in range(10_000):
            if stop.is_set():
                break
            server, client = kinds[n % len(kinds)]
            hold = 2.2 if n % 9 == 4 else 0.0  # some connections stay open across rotations and runs
            t = threading.Thread(target=_client, args=(servers.port(server), ctx[client], hold), daemon=True)
            t.start()
            threads.append(t)
            time.sleep(rnd.uniform(0.03, 0.09))
        for t in threads:
            t.join(10)

    capture = CaptureRing(tool, ring_dir, [servers.port(name) for name in ctx["servers"]])
    args = ("--ring", str(ring_dir), "--state", str(state), "--min-handshakes", "0", "--output", "json", "-vv")
    total: Counter[str] = Counter()
    listed: Counter[tuple[Any, ...]] = Counter()
    outcomes = []
    killed_in_feed = False
    try:
        generator = threading.Thread(target=traffic, daemon=True)
        generator.start()
        started = time.monotonic()
        n = 0
        while time.monotonic() - started < 6.0:
            time.sleep(0.4)
            n += 1
            if n >= 3 and not killed_in_feed and n not in (5, 7, 9):
                # killed in the middle of a file, after some of the new segments; if the capture
                # tool has not written 60 new segments yet, the run ends normally (and counts):
                # the kill is tried again on a later turn
                proc = plugin(*args, killer=("feed", 60))
                outcomes.append(("feed", proc.returncode))
                if proc.returncode == -signal.SIGKILL:
                    killed_in_feed = True
                else:
                    total.update(counts_of(proc))
                    listed.update(connections_of(proc))
            elif n in (5, 7, 9):  # killed from outside, wherever it is then
                before = state_counts(state)
                p = subprocess.Popen([sys.executable, str(PLUGIN), *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True,
                                     env=dict(os.environ, PYTHONPATH=str(ROOT / "lib")))
                time.sleep({5: 0.12, 7: 0.2, 9: 0.28}[n])
                os.kill(p.pid, signal.SIGKILL)
                out, err = p.communicate(timeout=10)
                outcomes.append(("outside", p.returncode))
                if p.returncode == -signal.SIGKILL:
                    total.update(state_counts(state) - before)  # committed before the kill, if it got that far
                else:  # it had finished
                    done = subprocess.CompletedProcess(p.args, p.returncode, out, err)
                    total.update(counts_of(done))
                    listed.update(connections_of(done))
            proc = plugin(*args)
            total.update(counts_of(proc))
            listed.update(connections_of(proc))
        stop.set()
        generator.join(15)
        time.sleep(0.5)
    finally:
        stop.set()
        capture.stop()
        servers.stop()
    for _ in range(2):  # the rest, after tcpdump has written its last file
        proc = plugin(*args)
        total.update(counts_of(proc))
        listed.update(connections_of(proc))
    assert killed_in_feed, outcomes
    files = sorted(ring_dir.glob("ring*"))
    assert len(files) >= 5, files
    single = plugin(*[str(f) for f in files], "--min-handshakes", "0", "--output", "json", "-vv")
    expected = counts_of(single)
    assert expected["handshakes"] >= 40 and expected["failed"] >= 5 and expected["cert_requests"] >= 10
    assert expected["empty_client_certs"] >= 5 and expected["cert_requests_unseen"] >= 5
    assert +total == +expected, (outcomes, total, expected)
    assert not listed - connections_of(single)
    saved = read_state(str(state))
    assert saved is not None and not saved.live
    assert state_counts(state) == +expected
