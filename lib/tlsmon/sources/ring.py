"""Capture files read as one stream: a list of files, or a ring read incrementally with a state file.

``read_files`` feeds several captures to one ``CaptureEngine`` in order (a connection may
continue from one file into the next), numbering frames across the files.

``RingReader`` reads the files a ``tcpdump -G/-C -w`` or ``dumpcap -b`` ring writes, and
each run reads only what the runs before it have not. Exactly once, across rotations and
crashes:

- A connection is counted by the run in which the engine ends it (FIN, RST, idle, or the
  horizon below), never before and never again.
- At the end of a run the state records, per file, the byte offset after the last whole
  record read (a file still being written ends in a partial record, which is left for the
  next run), and the connections still in flight with where each began. The next run
  re-reads from the earliest of those beginnings, feeding the engine only the segments of
  those connections up to where the last run stopped (nothing else is fed twice), then
  everything. The engine's memory of ended and ignored flows and its counters are restored
  too, so the runs add up to one pass over the whole ring.
- A connection still open ``horizon_s`` after it began is ended at the end of a run as the
  engine ends an idle one (its later records are not read): this bounds what a run re-reads.
- The state is written to a temporary file, fsynced and renamed over the old one (and the
  directory fsynced): a run killed at any point leaves the old state or the new one. The
  caller commits after it has evaluated the run, and a lock file keeps two runs apart.
- Files are known by device and inode plus a fingerprint of their first bytes (content, so
  that a file renamed or gzip-compressed after rotation, ``tcpdump -z gzip``, is recognised;
  an inode reused by a new file, ``tcpdump -W``, is not mistaken for the old one). They are
  read in the order they were first seen (new ones by modification time, then name).

Reaches into ``CaptureEngine``'s private state in one place (``EngineState``); see there.
"""

from __future__ import annotations

import bisect
import itertools
import os
import time
from dataclasses import dataclass, field
from typing import IO, Any, Generator, Iterator, Optional, Sequence, Union

from ..errors import CaptureError
from ..observations import ConnectionObservation
from .capture.formats import CaptureReader
from .capture.frames import Segment
from .capture.ip import Decoder
from .capture.pcap import PcapReader
from .capture.pcapng import PcapngReader
from .passive import CaptureEngine, ServerFilter, flow_key
from .ringstate import (
    SEEKABLE,
    EngineState,
    FileEntry,
    ListedFile,
    LiveConnection,
    RingState,
    StateError,
    StateLock,
    content_head,
    digest,
    flow_entry,
    list_files,
    match_files,
    read_state,
    write_state,
)

__all__ = ["read_files", "ServerFilters", "RingReader", "RingRun", "Locator"]

_HEAD = 4096  # bytes of a file's content fingerprinted
_BUFFER = 256 * 1024
_MARK_EVERY = 256  # frames between places to begin again (and looks at the clock); a power of 2
_new = tuple.__new__


class _NotReady(Exception):
    """A new ring file too short yet to tell its format."""


class Locator:
    """Frame numbers across files -> (file name, frame number in that file)."""

    def __init__(self) -> None:
        self._bases: list[tuple[int, str]] = []

    def add(self, base: int, name: str) -> None:
        self._bases.append((base, name))
        self._bases.sort()

    def locate(self, frame: int) -> tuple[str, int]:
        """The file holding ``frame`` (numbered across files) and its number there; ("", frame) if unknown."""
        i = bisect.bisect_left(self._bases, (frame, "")) - 1
        if i < 0:
            return "", frame
        base, name = self._bases[i]
        return name, frame - base


class ServerFilters(ServerFilter):
    """Several ``--server`` filters as one for the engine: a connection to any of them is kept.

    Args:
        servers: (address or name or None, port or None) pairs, as ``ServerFilter`` takes them.
    """

    def __init__(self, servers: Sequence[tuple[Optional[str], Optional[int]]]) -> None:
        self.filters = [ServerFilter(host, port) for host, port in servers]
        ports = {f.port for f in self.filters}
        super().__init__(None, ports.pop() if len(ports) == 1 else None)

    def may_match(self, src: str, sport: int, dst: str, dport: int) -> bool:
        return any(f.may_match(src, sport, dst, dport) for f in self.filters)

    def matches(self, obs: ConnectionObservation) -> bool:
        return any(f.matches(obs) for f in self.filters)


def _engine_for(keylog: Optional[str], server: Optional[ServerFilter]) -> CaptureEngine:
    return CaptureEngine(keylog=keylog, server=server)


def read_files(sources: Sequence[Union[str, IO[bytes]]], *, keylog: Optional[str] = None,
               server: Optional[ServerFilter] = None, deadline: Optional[float] = None,
               locator: Optional[Locator] = None, stats: Optional[dict[str, Any]] = None,
               ) -> Iterator[ConnectionObservation]:
    """The TLS connections of captures read one after the other as one stream, as they end.

    Args:
        sources: paths or binary streams (stdin, a pipe), in order.
        keylog: the text of an SSLKEYLOGFILE.
        server: keep only connections to this server.
        deadline: ``time.monotonic()`` value after which reading stops with a CaptureError.
        locator: filled with where each file's frame numbers begin.
        stats: filled with ``frames``, ``truncated`` (names of files cut short), ``not_tcp``, ``malformed``.

    Raises:
        CaptureError: a file cannot be read (connections ended before have been yielded).
    """
    engine = _engine_for(keylog, server)
    decoder = Decoder()
    # Frame by frame, as the ring reads. passive_packets.feed_records (block reads, the inline
    # packet path) would be faster for both, but the ring resumes at file offsets, which block
    # reads do not give yet: the two stay alike until both can move.
    decode, feed, ready = decoder.decode, engine.feed, engine.ready
    base = 0
    frames = 0
    truncated: list[str] = []
    mask = _MARK_EVERY - 1
    for source in sources:
        with CaptureReader(source, allow_truncated_tail=True, first_number=base) as reader:
            if locator is not None:
                locator.add(base, reader.name)
            last = base
            for frame in reader:
                last = frame[0]
                seg = decode(frame)
                if seg is not None:
                    feed(seg)
                    if ready:
                        yield from engine.take()
                if not last & mask and deadline is not None and time.monotonic() > deadline:
                    raise CaptureError(f"-t reached while reading {reader.name!r} (frame {last - base}); "
                                       f"give the check more time")
            if reader.truncated_tail:
                truncated.append(reader.name)
            frames += reader.frames_read
            base = last
    yield from engine.finish()
    if stats is not None:
        stats.update(frames=frames, truncated=truncated, not_tcp=decoder.non_tcp, malformed=decoder.malformed)


# --- the ring ---------------------------------------------------------------------------------------


@dataclass
class RingRun:
    """What one run over the ring did.

    Attributes:
        files: ring files in reading order (names).
        read_bytes: new bytes read; replayed_bytes: bytes read again for connections in flight.
        frames: frames read (new and replayed).
        backlog_bytes: bytes left for the next run (the run stopped at its deadline).
        ended_early: connections ended at the horizon; lost: in flight at the last run, but
            their beginning has left the ring since (not counted).
        skipped: files that are not captures; errors: files whose rest could not be read.
        live: connections still in flight, counted by a later run.
    """

    files: list[str] = field(default_factory=list)
    read_bytes: int = 0
    replayed_bytes: int = 0
    frames: int = 0
    backlog_bytes: int = 0
    ended_early: int = 0
    lost: int = 0
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    live: int = 0
    new_files: int = 0


class RingReader:
    """One incremental run over a capture ring (see the module docstring).

    Use as a context manager (it holds the state's lock), iterate ``observations()`` once,
    then ``commit(totals)`` once the run's results are decided. Without a commit nothing
    is recorded, and the next run reads the same again.

    Args:
        directory: the ring's directory.
        pattern: shell pattern of the ring's file names (``*.pcap``).
        state_path: the state file.
        keylog: the text of an SSLKEYLOGFILE.
        server: keep only connections to this server (part of the state's signature).
        signature: further options the state belongs to; another signature is refused.
        horizon_s: connections open this long (capture time) are ended at the end of a run.
        deadline: ``time.monotonic()`` value at which new reading stops (the rest is left
            for the next run).
        lock_wait_s: how long to wait for another run's lock.

    Raises:
        StateError: the state belongs to another ring or options, or is locked.
    """

    def __init__(self, directory: str, pattern: str, state_path: str, *, keylog: Optional[str] = None,
                 server: Optional[ServerFilter] = None, signature: str = "", horizon_s: float = 300.0,
                 deadline: Optional[float] = None, lock_wait_s: float = 5.0) -> None:
        self.directory = os.path.abspath(directory)
        self.pattern = pattern
        self.state_path = os.path.abspath(state_path)
        self.keylog = keylog
        self.server = server
        self.signature = signature
        self.horizon_s = horizon_s
        self.deadline = deadline
        self.run = RingRun()
        self.locator = Locator()
        self._lock = StateLock(self.state_path, lock_wait_s)
        self._state: Optional[RingState] = None
        self._new_state: Optional[RingState] = None

    def __enter__(self) -> RingReader:
        if not os.path.isdir(self.directory):
            raise CaptureError(f"ring directory {self.directory!r} does not exist")
        self._lock.__enter__()
        try:
            state = read_state(self.state_path)
            if state is None:
                state = RingState(self.directory, self.pattern, self.signature)
            elif (state.directory, state.glob, state.signature) != (self.directory, self.pattern, self.signature):
                raise StateError(f"state file {self.state_path!r} belongs to {state.directory}/{state.glob} "
                                 f"with other options ({state.signature or 'none'}); use one state file per "
                                 f"ring and filter set")
            self._state = state
        except BaseException:
            self._lock.__exit__()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self._lock.__exit__()

    @property
    def totals(self) -> dict[str, int]:
        state = self._new_state or self._state
        return dict(state.totals) if state is not None else {}

    # --- reading --------------------------------------------------------------------------------

    def observations(self) -> Iterator[ConnectionObservation]:
        """The connections that end in this run, as they end (also those ended at the horizon).

        Raises:
            CaptureError: the engine cannot be checkpointed, or the ring cannot be listed.
        """
        assert self._state is not None, "use RingReader as a context manager"
        state = self._state  # changed in place: it is written only by commit()
        known = {e.seq for e in state.files}
        skip = {os.path.basename(self.state_path) + suffix for suffix in ("", ".tmp", ".lock")}
        pairs, self.run.new_files = match_files(state, list_files(self.directory, self.pattern, skip))
        self.run.files = [e.name for e, _ in pairs]
        newest = max((item.stat.st_mtime_ns for _, item in pairs), default=0) / 1e9
        idle = bool(newest) and time.time() - newest > self.horizon_s
        if not idle and known == {e.seq for e, _ in pairs} and all(
                (item.stat.st_size, item.stat.st_mtime_ns) == (e.size, e.mtime_ns) for e, item in pairs):
            self.run.live = len(state.live)  # nothing new: nothing to read, not even again
            self._new_state = state
            return
        engine = _engine_for(self.keylog, self.server)
        EngineState.check(engine)
        seqs = {e.seq for e, _ in pairs}
        live = [c for c in state.live if c.file in seqs]
        saved = dict(state.engine)
        lost = [c for c in state.live if c.file not in seqs]
        if lost:  # their beginnings left the ring: drop their later segments, as the engine drops an ended flow's
            self.run.lost = len(lost)
            flows = list(saved.get("flows", []))
            for c in lost:
                src, sport, dst, dport = c.key
                flows += [flow_entry(flow_key(src, sport, dst, dport)), flow_entry(flow_key(dst, dport, src, sport))]
            saved["flows"] = flows
            saved["closed_flows"] = int(saved.get("closed_flows", 0)) + 2 * len(lost)
        EngineState.begin(engine, saved)
        self._engine, self._saved = engine, saved
        self._replay: dict[tuple[Any, ...], int] = {}
        self._numbers: dict[tuple[Any, ...], int] = {}
        starts: dict[tuple[tuple[Any, ...], int], LiveConnection] = {}
        for c in live:
            key = tuple(c.key)
            self._replay[key] = self._replay[(key[2], key[3], key[0], key[1])] = c.first_frame
            self._numbers[(key, c.first_frame)] = c.number
            starts[(key, c.first_frame)] = c
        # Begin at the earliest beginning of a connection in flight; elsewhere where each file stopped.
        start = min(live, key=lambda c: (c.file, c.first_frame)) if live else None
        last_read = max((e.seq for e, _ in pairs if e.base >= 0), default=0)
        self._replaying = start is not None
        if start is None:
            self._end_replay()
        decoder = Decoder()
        marks: dict[int, list[tuple[int, int]]] = {}  # seq -> (frame number, offset after it), ascending
        latest_ts = float(saved.get("last_ts", 0.0))
        stopped = False
        for entry, item in pairs:
            if stopped:
                self.run.backlog_bytes += max(0, item.stat.st_size - max(entry.done, 0))
                continue
            replay_frames = -1
            if start is not None and start.file <= entry.seq <= last_read:
                replay_frames = entry.frames
                offset, frames_before = (start.offset, start.frames_before) if entry.seq == start.file else (0, 0)
            else:
                offset, frames_before = entry.done, entry.frames
                st = item.stat
                if st.st_size == entry.size and st.st_mtime_ns == entry.mtime_ns:
                    continue  # nothing new since it was read to its end (or it is not a capture)
            if entry.base < 0:
                entry.base = state.frame_high
            self.locator.add(entry.base, entry.name)
            stopped, last_ts = yield from self._read_file(decoder, entry, item, offset, frames_before,
                                                          replay_frames, entry.seq == last_read, marks)
            latest_ts = max(latest_ts, last_ts)
            state.frame_high = max(state.frame_high, entry.base + entry.frames)
        if self._replaying:  # the files of the replay hold nothing new
            self._end_replay()
        yield from engine.take()
        # The horizon: end connections that began too long ago (all of them once the ring is idle).
        reference = max(latest_ts, time.time()) if idle else latest_ts
        for conn in EngineState.live(engine):
            if conn.first_ts < reference - self.horizon_s:
                EngineState.end(engine, conn, reference)
                self.run.ended_early += 1
        yield from engine.take()
        # What the next run needs: the connections in flight and where each began.
        by_seq = {e.seq: e for e, _ in pairs}
        state.live = []
        for conn in EngineState.live(engine):
            key = tuple(conn.key)
            where = self._where(conn.first_frame, by_seq, marks)
            if where is None:
                old = starts.get((key, conn.first_frame))
                if old is None:  # every connection in flight began in a file read now or replayed now
                    raise CaptureError(f"internal: no position for the connection at frame {conn.first_frame}")
                where = (old.file, old.offset, old.frames_before)
            state.live.append(LiveConnection(list(key), conn.first_frame, conn.number, conn.first_ts, *where))
        self.run.live = len(state.live)
        state.engine = EngineState.save(engine)
        self._new_state = state

    def _end_replay(self) -> None:
        EngineState.end_replay(self._engine, self._saved, self._numbers)
        self._replaying = False

    @staticmethod
    def _where(frame: int, by_seq: dict[int, FileEntry],
               marks: dict[int, list[tuple[int, int]]]) -> Optional[tuple[int, int, int]]:
        """(file seq, offset, frame number in that file before the offset) from which reading yields
        ``frame`` (numbered across the ring), or frames shortly before it."""
        for seq, file_marks in marks.items():
            if not file_marks or frame <= file_marks[0][0] or frame > by_seq[seq].base + by_seq[seq].frames:
                continue
            i = bisect.bisect_left(file_marks, (frame, -2)) - 1
            number, offset = file_marks[i]
            return seq, offset, number - by_seq[seq].base
        return None

    def _open(self, entry: FileEntry, item: ListedFile, offset: int,
              frames_before: int) -> tuple[Any, Iterator[Any], Optional[IO[bytes]], int]:
        """Frames numbered across the ring, from the first after ``frames_before`` (or before it: the
        caller skips those), and from ``offset`` where the format allows.

        Returns (reader, frames, the open file or None when reading from the beginning by frame
        numbers, what to add to the reader's frame numbers: 0 but for a pcapng file resumed).

        Raises:
            _NotReady: a new file too short to tell its format.
            CaptureError: from the readers.
        """
        if not entry.format:
            if item.stat.st_size < 24:
                raise _NotReady()
            entry.format = content_head(item.path, 4)[1]
        fmt = entry.format
        if fmt == "none":
            raise CaptureError("not a capture file")
        base = entry.base
        if fmt in SEEKABLE and offset >= 0:
            f = open(item.path, "rb", buffering=_BUFFER)
            try:
                if fmt != "pcapng":
                    if item.stat.st_size < 24:
                        raise _NotReady()
                    pc = PcapReader(f, allow_truncated_tail=True)
                    pc.first_number = base + frames_before
                    if offset > 24:
                        f.seek(offset)
                    elif frames_before:
                        raise CaptureError("internal: frames read, but no offset")
                    return pc, iter(pc), f, 0
                ng = PcapngReader(f, allow_truncated_tail=True)
                ng.first_number = base
                it = iter(ng)
                if frames_before == 0:
                    return ng, it, f, 0
                # Its sections and interfaces are declared before its packets: read them, then jump.
                first = next(it, None)
                if first is None:
                    return ng, it, f, 0
                if first[0] - base > frames_before:  # blocks numbered as frames came before it: it is new
                    return ng, itertools.chain((first,), it), f, 0
                if (ng.sections, ng.interface_count) == (entry.sections, entry.interfaces):
                    f.seek(offset)
                    return ng, it, f, frames_before - (first[0] - base)
                f.close()  # sections or interfaces declared between: read it all again
            except BaseException:
                f.close()
                raise
        # By frame numbers: from the beginning, skipping what was read (gzip, Network Monitor...).
        reader = CaptureReader(item.path, allow_truncated_tail=True, first_number=base)
        return reader, iter(reader), None, 0

    def _read_file(self, decoder: Decoder, entry: FileEntry, item: ListedFile, offset: int, frames_before: int,
                   replay_frames: int, last_replay_file: bool, marks: dict[int, list[tuple[int, int]]],
                   ) -> Generator[ConnectionObservation, None, tuple[bool, float]]:
        """Read one file after frame ``frames_before`` (from ``offset``); frames up to ``replay_frames``
        were read by an earlier run and only the connections in flight get them. Returns (stopped at
        the deadline, timestamp of the last frame)."""
        try:
            reader, it, f, delta = self._open(entry, item, offset, frames_before)
        except _NotReady:
            return False, 0.0  # a file just created: next time
        except CaptureError as exc:
            entry.format = entry.format or "none"
            entry.size, entry.mtime_ns = item.stat.st_size, item.stat.st_mtime_ns
            self.run.skipped.append(f"{entry.name}: {exc}")
            return False, 0.0
        engine = self._engine
        base = entry.base
        skip_to = base + frames_before
        replay_to = base + replay_frames if replay_frames >= 0 else -1
        tell = f.tell if f is not None else None
        # Where to begin again: (frame number, offset after it), every _MARK_EVERY frames.
        file_marks = marks.setdefault(entry.seq, [(skip_to, offset if tell is not None else -1)])
        mark_mask = _MARK_EVERY - 1
        decode, feed, ready, take = decoder.decode, engine.feed, engine.ready, engine.take
        replay = self._replay
        deadline = self.deadline
        ending_replay = self._replaying and last_replay_file
        last = skip_to
        stopped = truncated = False
        frame: Any = None
        try:
            # First what earlier runs read: skipped, or fed again to the connections in flight only.
            behind = max(skip_to, replay_to)
            for frame in it:
                g = frame[0] + delta
                if g > behind:
                    it = itertools.chain((frame,), it)
                    break
                if g <= skip_to:
                    continue  # read by an earlier run (reading by frame numbers)
                last = g
                seg = decode(frame)
                if seg is not None:
                    first = replay.get(seg[2:6])
                    if first is not None and g >= first:
                        feed(_new(Segment, (g,) + seg[1:]) if delta else seg)
                        if ready:
                            yield from take()
            else:
                it = iter(())
            if ending_replay:
                self._end_replay()
                ending_replay = False
            # Then what is new: the hot loop, as lean as read_files' (the reader numbers the frames
            # across the ring), or renumbering them (a pcapng file resumed in its middle).
            if not delta:
                for frame in it:
                    seg = decode(frame)
                    if seg is not None:
                        feed(seg)
                        if ready:
                            yield from take()
                    if not frame[0] & mark_mask:
                        file_marks.append((frame[0], tell() if tell is not None else -1))
                        if deadline is not None and not self._replaying and time.monotonic() > deadline:
                            stopped = True
                            break
            else:
                for frame in it:
                    g = frame[0] + delta
                    seg = decode(frame)
                    if seg is not None:
                        feed(_new(Segment, (g,) + seg[1:]))
                        if ready:
                            yield from take()
                    if not g & mark_mask:
                        file_marks.append((g, tell() if tell is not None else -1))
                        if deadline is not None and not self._replaying and time.monotonic() > deadline:
                            stopped = True
                            break
            if frame is not None and frame[0] + delta > last:
                last = frame[0] + delta
            truncated = bool(getattr(reader, "truncated_tail", False))
            done = tell() if tell is not None else -1
        except CaptureError as exc:
            # A damaged file must not stop the ring: what follows the damage is skipped, and said once.
            entry.error = f"after frame {last - base}: {exc}"
            self.run.errors.append(f"{entry.name}: cannot read after frame {last - base}: {exc}")
            truncated, done = True, -1
        finally:
            if f is not None:
                f.close()
            else:
                reader.close()
        if ending_replay:
            self._end_replay()
        if isinstance(reader, PcapngReader):
            entry.sections, entry.interfaces = reader.sections, reader.interface_count
        if truncated and tell is not None:  # the partial record at its end was read too: where did it begin?
            done = self._end_of(entry, item, file_marks, last)
        if last > skip_to:
            file_marks.append((last, done))
        self._account(entry, offset, replay_frames, done, last - base, last - skip_to, stopped, item)
        return stopped, frame[1] if frame is not None and last > skip_to else 0.0

    def _end_of(self, entry: FileEntry, item: ListedFile, file_marks: list[tuple[int, int]], last: int) -> int:
        """The offset after frame ``last``, read again from the last mark before it."""
        number, offset = max((m for m in file_marks if m[0] <= last and m[1] >= 0), default=(-1, -1))
        if number < 0:
            return -1
        if number == last:
            return offset
        try:
            reader, it, f, delta = self._open(entry, item, offset, number - entry.base)
            if f is None:  # not from an offset (interfaces declared late): the whole file again, once
                reader.close()
                f = open(item.path, "rb", buffering=_BUFFER)
                again: Any = PcapngReader(f, allow_truncated_tail=True) if entry.format == "pcapng" \
                    else PcapReader(f, allow_truncated_tail=True)
                again.first_number, it, delta = entry.base, iter(again), 0
            try:
                for frame in it:
                    if (frame[0] + delta) >= last:
                        return f.tell()
            finally:
                f.close()
        except (CaptureError, _NotReady, OSError):
            pass
        return -1

    def _account(self, entry: FileEntry, offset: int, replay_frames: int, done: int, last: int, frames: int,
                 stopped: bool, item: ListedFile) -> None:
        """What the run read of the file, and where the file now stands."""
        old_done = entry.done
        if replay_frames >= 0 and offset >= 0 and old_done > offset:
            self.run.replayed_bytes += old_done - offset
        if done >= 0:
            self.run.read_bytes += max(0, done - max(old_done, offset, 0))
        self.run.frames += frames
        entry.frames = max(entry.frames, last)
        if done >= 0 and entry.format in SEEKABLE:
            entry.done = max(entry.done, done)
        try:
            st = os.stat(item.path)
        except OSError:
            st = item.stat
        entry.size = -1 if stopped else st.st_size
        entry.mtime_ns = st.st_mtime_ns
        if stopped:
            self.run.backlog_bytes += max(0, st.st_size - max(entry.done, 0))
        if entry.head_len < _HEAD and entry.frames > 0:
            length = min(_HEAD, entry.done) if entry.done > 0 else _HEAD
            try:
                data = content_head(item.path, length)[0]
            except OSError:
                data = b""
            if data:
                entry.head, entry.head_len = digest(data), len(data)

    # --- committing -------------------------------------------------------------------------------

    def commit(self, counts: dict[str, int]) -> None:
        """Record this run: what was read, the connections in flight, and ``counts`` added to the totals.

        Raises:
            StateError: the state cannot be written (nothing is recorded then).
        """
        state = self._new_state
        assert state is not None, "iterate observations() first"
        for name, value in counts.items():
            state.totals[name] = state.totals.get(name, 0) + int(value)
        state.runs += 1
        state.updated = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        write_state(self.state_path, state)
        self._state = state
