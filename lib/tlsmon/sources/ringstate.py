"""The state of a ring's incremental reading (see ``ring``): what each file has given, the connections
in flight and the engine's memory, written atomically; the lock that keeps runs apart.

``EngineState`` saves and restores what ``CaptureEngine`` knows besides its live connections.
No capture reading here.
"""

from __future__ import annotations

import fnmatch
import gzip
import hashlib
import json
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any, Optional

from ..errors import CaptureError, TlsmonError
from .capture.formats import sniff
from .passive import CaptureEngine

__all__ = ["STATE_VERSION", "SEEKABLE", "StateError", "FileEntry", "LiveConnection", "RingState", "read_state",
           "write_state", "ListedFile", "list_files", "match_files", "content_head", "digest", "StateLock",
           "EngineState", "flow_entry"]

STATE_VERSION = 1
SEEKABLE = ("pcap", "pcap-ns", "pcapng")  # formats read from a byte offset (the others by frame numbers)
_MAX_FLOWS = 50_000  # remembered ended/ignored flows kept in the state


class StateError(TlsmonError):
    """The ring's state file cannot be used (another ring's, unreadable, locked)."""


@dataclass
class FileEntry:
    """One ring file as the state knows it.

    Attributes:
        name: its name in the ring directory when last seen.
        dev, ino: its identity on disk.
        size, mtime_ns: as last seen (size -1: not read to its end last time).
        head, head_len: SHA-256 of the first ``head_len`` bytes of its content (decompressed).
        seq: its place in the reading order.
        format: the sniffed format (``pcap``, ``pcap-ns``, ``pcapng``, ``gzip``, ``netmon1``...,
            ``none`` for a file that is not a capture).
        done: byte offset after the last whole record read (-1: offsets unknown, see frames).
        frames: frame number (in the file) of the last frame read.
        base: frame numbers of this file start after this one (across the ring).
        sections, interfaces: pcapng sections and interfaces seen so far.
        error: why the rest of the file was skipped, if it was.
    """

    name: str
    dev: int
    ino: int
    size: int
    mtime_ns: int
    seq: int
    format: str = ""
    head: str = ""
    head_len: int = 0
    done: int = 0
    frames: int = 0
    base: int = -1
    sections: int = 0
    interfaces: int = 0
    error: Optional[str] = None


@dataclass
class LiveConnection:
    """A connection in flight where a run stopped, and where to begin reading it again."""

    key: list[Any]
    first_frame: int
    number: int
    first_ts: float
    file: int  # seq of the file of its first frame
    offset: int  # byte offset from which the next frame read is its first (-1: by frame numbers)
    frames_before: int  # frame number (in that file) before its first frame


@dataclass
class RingState:
    """What the runs over one ring have read (the JSON of the state file)."""

    directory: str
    glob: str
    signature: str
    version: int = STATE_VERSION
    runs: int = 0
    updated: str = ""
    next_seq: int = 1
    frame_high: int = 0
    files: list[FileEntry] = field(default_factory=list)
    live: list[LiveConnection] = field(default_factory=list)
    engine: dict[str, Any] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RingState:
        files = [FileEntry(**f) for f in data.pop("files", [])]
        live = [LiveConnection(**c) for c in data.pop("live", [])]
        data.pop("schema", None)
        return cls(files=files, live=live, **data)

    def to_json(self) -> dict[str, Any]:
        # Not dataclasses.asdict: it deep-copies the thousands of remembered flows, one list at a time.
        out: dict[str, Any] = {"schema": "tlsmon-ring-state", **vars(self)}
        out["files"] = [vars(f) for f in self.files]
        out["live"] = [vars(c) for c in self.live]
        return out


def _fsync_dir(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # not possible on every platform (Windows): the rename is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_state(path: str, state: RingState) -> None:
    """Atomically: a temporary file beside it, fsync, rename over, fsync the directory.

    Raises:
        StateError: it cannot be written.
    """
    directory = os.path.dirname(os.path.abspath(path))
    tmp = f"{path}.tmp"
    data = json.dumps(state.to_json(), separators=(",", ":")).encode()
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as exc:
        raise StateError(f"cannot write state file {path!r}: {exc.strerror or exc}") from None
    _fsync_dir(directory)


def read_state(path: str) -> Optional[RingState]:
    """The state in ``path``; None when there is none yet.

    Raises:
        StateError: it exists but is not a ring state of this version.
    """
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateError(f"cannot read state file {path!r}: {exc.strerror or exc}") from None
    try:
        data = json.loads(raw)
        if data.get("schema") != "tlsmon-ring-state":
            raise ValueError("not a tlsmon ring state")
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"version {data.get('version')}, this tlsmon writes {STATE_VERSION}")
        return RingState.from_json(data)
    except (ValueError, TypeError, AttributeError) as exc:
        raise StateError(f"state file {path!r} is not usable ({exc}); remove it to start afresh") from None


# --- files ------------------------------------------------------------------------------------------


def _natural(name: str) -> list[Any]:
    """``ring2`` before ``ring10``: digits compared as numbers."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def content_head(path: str, length: int) -> tuple[bytes, str]:
    """The first ``length`` bytes of the file's content (decompressed if gzip), and the format."""
    with open(path, "rb") as f:
        magic = f.read(4)
        try:
            kind = sniff(magic)
        except CaptureError:
            return b"", "none"
        f.seek(0)
        if kind == "gzip":
            try:
                with gzip.GzipFile(fileobj=f) as g:
                    data = g.read(length)
                return data, "gzip"
            except (OSError, EOFError, CaptureError):
                return b"", "gzip"
        return f.read(length), kind


def digest(data: bytes) -> str:
    """The fingerprint of a file's head: SHA-256, hex."""
    return hashlib.sha256(data).hexdigest()


@dataclass
class ListedFile:
    """A file of the ring directory as listed now."""

    name: str
    path: str
    stat: os.stat_result


def list_files(directory: str, pattern: str, skip: set[str]) -> list[ListedFile]:
    """The regular files of ``directory`` whose names match ``pattern`` (not hidden, not in ``skip``).

    Raises:
        CaptureError: the directory cannot be listed.
    """
    out = []
    try:
        names = os.listdir(directory)
    except OSError as exc:
        raise CaptureError(f"cannot list {directory!r}: {exc.strerror or exc}") from None
    for name in names:
        if name in skip or name.startswith(".") or not fnmatch.fnmatchcase(name, pattern):
            continue
        path = os.path.join(directory, name)
        try:
            st = os.stat(path)
        except OSError:
            continue  # rotated away while we looked
        if os.path.isfile(path):
            out.append(ListedFile(name, path, st))
    return out


def match_files(state: RingState, listed: list[ListedFile]) -> tuple[list[tuple[FileEntry, ListedFile]], int]:
    """Match the files on disk to the state's entries (which it updates); new files get new entries.

    Returns:
        (entry, file) pairs in reading order, and the number of new files.
    """
    by_inode = {(e.dev, e.ino): e for e in state.files}
    matched: dict[int, tuple[FileEntry, ListedFile]] = {}
    unmatched: list[ListedFile] = []
    for item in listed:
        st = item.stat
        entry = by_inode.get((st.st_dev, st.st_ino))
        if entry is not None and entry.seq not in matched and _same(entry, item):
            entry.name = item.name
            matched[entry.seq] = (entry, item)
        else:
            unmatched.append(item)
    gone = [e for e in state.files if e.seq not in matched]
    new = 0
    unmatched.sort(key=lambda i: (i.stat.st_mtime_ns, _natural(i.name)))
    for item in unmatched:
        entry = _renamed(gone, item)
        if entry is None:
            st = item.stat
            entry = FileEntry(item.name, st.st_dev, st.st_ino, -1, st.st_mtime_ns, state.next_seq)
            state.next_seq += 1
            new += 1
        else:
            gone.remove(entry)
            entry.name, entry.dev, entry.ino, entry.size = item.name, item.stat.st_dev, item.stat.st_ino, -1
        matched[entry.seq] = (entry, item)
    state.files = sorted((e for e, _ in matched.values()), key=lambda e: e.seq)
    return [matched[e.seq] for e in state.files], new


def _same(entry: FileEntry, item: ListedFile) -> bool:
    """The file on this inode is still the one the entry describes (not truncated and rewritten)."""
    st = item.stat
    if st.st_size == entry.size and st.st_mtime_ns == entry.mtime_ns:
        return True
    if entry.format in SEEKABLE and entry.done > st.st_size:
        return False
    if not entry.head_len:
        return True
    try:
        data = content_head(item.path, entry.head_len)[0]
    except OSError:
        return False
    return len(data) == entry.head_len and digest(data) == entry.head


def _renamed(gone: list[FileEntry], item: ListedFile) -> Optional[FileEntry]:
    """A known file under a new name or compressed (the same content at its head), if any."""
    heads: dict[int, bytes] = {}
    for entry in gone:
        if not entry.head_len:  # nothing read from it: nothing to continue
            continue
        if entry.head_len not in heads:
            try:
                heads[entry.head_len] = content_head(item.path, entry.head_len)[0]
            except OSError:
                return None
        data = heads[entry.head_len]
        if len(data) == entry.head_len and digest(data) == entry.head:
            kind = content_head(item.path, 4)[1]
            if kind != entry.format:
                entry.format = kind
                entry.done = -1  # offsets of the uncompressed file mean nothing here
            return entry
    return None


class StateLock:
    """An exclusive lock on ``path`` + ``.lock`` (released by the kernel if the process dies)."""

    def __init__(self, path: str, wait_s: float) -> None:
        self.path = f"{path}.lock"
        self.wait_s = wait_s
        self.fd: Optional[int] = None

    def __enter__(self) -> StateLock:
        try:
            import fcntl
        except ImportError:  # Windows: no flock; runs must not overlap
            return self
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StateError(f"cannot create lock file {self.path!r}: {exc.strerror or exc}") from None
        end = time.monotonic() + self.wait_s
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except OSError:
                if time.monotonic() >= end:
                    os.close(self.fd)
                    self.fd = None
                    raise StateError(f"another run holds {self.path!r}") from None
                time.sleep(0.05)

    def __exit__(self, *exc: Any) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def flow_entry(key: Any, closed: bool = True) -> str:
    """A remembered flow in the state file: "c KEY" (ended) or "i KEY" (ignored), KEY the flow key
    in hex (the raw addresses and ports; "src sport dst dport" for a key made of text)."""
    return f"{'c' if closed else 'i'} {key.hex() if isinstance(key, bytes) else ' '.join(map(str, key))}"


class EngineState:
    """Save and restore what ``CaptureEngine`` knows besides its live connections.

    This reaches into the engine's private attributes (``_flows``, ``_live``, ``_numbers``,
    ``_next_check``, ``_last_scan``, ``_closed_flows``, ``_close``) and its module's sentinels,
    and nowhere else in tlsmon. It belongs in the engine as ``checkpoint()``/``restore()``;
    until then tests/sources/test_ring.py pins the behaviour.
    """

    @staticmethod
    def check(engine: CaptureEngine) -> None:
        for name in ("_flows", "_live", "_numbers", "_next_check", "_last_scan", "_closed_flows", "_close"):
            if not hasattr(engine, name):
                raise CaptureError(f"this capture engine cannot be checkpointed (no {name}): ring reading needs it")

    @staticmethod
    def live(engine: CaptureEngine) -> list[Any]:
        return list(engine._live)

    @staticmethod
    def save(engine: CaptureEngine) -> dict[str, Any]:
        from . import passive

        closed, ignored = passive._CLOSED, passive._IGNORED
        # One string per flow (flow_entry): compact JSON.
        flows = [flow_entry(key, value is closed)
                 for key, value in engine._flows.items() if value is closed or value is ignored]
        if len(flows) > _MAX_FLOWS:  # the oldest first: dicts keep insertion order
            flows = flows[-_MAX_FLOWS:]
        return {
            "numbers": engine._numbers,
            "next_check": engine._next_check,
            "last_scan": engine._last_scan,
            "last_ts": engine.last_ts,
            "closed_flows": sum(1 for f in flows if f[0] == "c"),
            "flows": flows,
        }

    @staticmethod
    def begin(engine: CaptureEngine, saved: dict[str, Any]) -> None:
        """Before the replay: the ended and ignored flows, and no expiry while replaying."""
        from . import passive

        flows = engine._flows
        for flow in saved.get("flows", ()):
            kind, *where = flow.split(" ")
            if len(where) == 1:
                key = bytes.fromhex(where[0])
            else:  # endpoints as text: a state written before flows were keyed by their raw bytes
                src, sport, dst, dport = where
                key = passive.flow_key(src, int(sport), dst, int(dport))
            flows[key] = passive._CLOSED if kind == "c" else passive._IGNORED
        engine._closed_flows = int(saved.get("closed_flows", 0))
        engine._numbers = int(saved.get("numbers", 0))
        # The replayed connections were all alive where the last run stopped: nothing ends them before.
        engine._next_check = 1 << 62

    @staticmethod
    def end_replay(engine: CaptureEngine, saved: dict[str, Any], numbers: dict[tuple[Any, ...], int]) -> None:
        """After the replay: the counters as the last run left them, and the connections' numbers."""
        engine._numbers = int(saved.get("numbers", engine._numbers))
        engine._next_check = int(saved.get("next_check", 4096))
        engine._last_scan = saved.get("last_scan")
        engine.last_ts = float(saved.get("last_ts", 0.0))
        for conn in engine._live:
            number = numbers.get((tuple(conn.key), conn.first_frame))
            if number is not None and conn.number:
                conn.number = number

    @staticmethod
    def end(engine: CaptureEngine, conn: Any, now_ts: float) -> None:
        """End one live connection as an idle one is ended (its observation goes to ``ready``)."""
        engine.last_ts = max(engine.last_ts, now_ts)
        engine._close(conn, end=True)
