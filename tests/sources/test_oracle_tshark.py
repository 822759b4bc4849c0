"""Oracle: the capture engine against tshark's dissection of the same files.

Per TCP stream and direction: the handshake message types read, the alerts read, and
whether a CertificateRequest was seen, from ``tshark -T fields`` (with ``-d
tcp.port==P,tls`` for every server port and ``-o tcp.reassemble_out_of_order:TRUE``),
compared with what ``read_connections`` reports. Every committed capture, in every
format, with and without its key log; and captures recorded during the test with
tcpdump (apache2 renegotiation, IPv6). Needs tshark (CI installs it).

Two documented differences of tshark 4.0 are emulated rather than hidden:
- In a stream whose ClientHello it did not see, tshark cannot tell the server (both
  directions count as the client), so after the first ChangeCipherSpec frame of either side
  it takes every handshake record for encrypted. For such streams only the steps up to that
  frame are compared.
- With a key log, tshark does not decrypt the client's records after the client answered
  a TLS 1.3 post-handshake CertificateRequest (the engine does; the AEAD tag verifies).
  For such connections the client's alerts after that request are left out.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Optional

import pytest

from peers.tools import missing, require_tool
from tlsmon.sources.passive import read_connections

CAPTURES = Path(__file__).resolve().parent.parent / "data" / "captures"
SUFFIXES = (".pcap", ".pcapng", ".cap", ".gz")
FIELDS = ["frame.number", "tcp.stream", "ip.src", "ipv6.src", "tcp.srcport", "ip.dst", "ipv6.dst", "tcp.dstport",
          "tls.handshake.type", "tls.alert_message.desc", "tls.record.content_type"]


def committed() -> list[Path]:
    return sorted(p for p in CAPTURES.iterdir() if p.name.endswith(SUFFIXES))


def stem(path: Path) -> str:
    """The traffic a file holds: its name without format suffixes."""
    name = path.name
    for suffix in (".gz", ".pcapng", ".pcap", ".netmon1.cap", ".netmon2.cap", ".ns"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name


def keylog_for(path: Path) -> Optional[Path]:
    """``X.keylog`` beside ``X.<format>``, or beside the capture it was derived from (``X-vlan``)."""
    parts = stem(path).split("-")
    while parts:
        candidate = CAPTURES / ("-".join(parts) + ".keylog")
        if candidate.exists():
            return candidate
        parts.pop()
    return None


@pytest.fixture(scope="session")
def tshark() -> str:
    return require_tool("tshark", "apt-get install tshark")


def shark(tshark: str, path: Path, ports: set[int], keylog: Optional[Path] = None) -> dict:
    """tshark's view: {(client, server): [per-connection view, ...]} in stream order."""
    args = [tshark, "-r", str(path), "-o", "tcp.reassemble_out_of_order:TRUE", "-T", "fields",
            "-E", "separator=/t", "-E", "occurrence=a", "-Y", "tls"]
    for port in sorted(ports):
        args += ["-d", f"tcp.port=={port},tls"]
    if keylog is not None:
        args += ["-o", f"tls.keylog_file:{keylog}"]
    for field in FIELDS:
        args += ["-e", field]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, env=dict(os.environ, TZ="UTC"))
    if done.returncode and not done.stdout:
        raise AssertionError(f"tshark failed on {path.name}: {done.stderr.strip()}")
    streams: dict[str, dict] = {}
    for line in done.stdout.splitlines():
        frame, stream, src4, src6, sport, dst4, dst6, dport, types, alerts, ctypes = line.split("\t")
        src, dst = f"{src4 or src6}:{sport}", f"{dst4 or dst6}:{dport}"
        entry = streams.get(stream)
        if entry is None:
            server = dst if int(dport) in ports else src
            client = src if server == dst else dst
            entry = streams[stream] = {"client": client, "server": server, "C->S": [], "S->C": [], "alerts": [],
                                       "frames": [], "ccs_frames": []}
        direction = "C->S" if dst == entry["server"] else "S->C"
        if types:
            entry[direction] += [(int(frame), int(t)) for t in types.split(",")]
        if alerts:
            entry["alerts"] += [(int(frame), direction, int(a)) for a in alerts.split(",")]
        if "20" in ctypes.split(","):
            entry["ccs_frames"].append(int(frame))
    out: dict = defaultdict(list)
    for _, entry in sorted(streams.items(), key=lambda kv: int(kv[0])):
        out[(entry["client"], entry["server"])].append(entry)
    return out


def ours(path: Path, keylog: Optional[Path] = None) -> dict:
    """The engine's view, in the same shape."""
    out: dict = defaultdict(list)
    text = keylog.read_text() if keylog else None
    for obs in sorted(read_connections(path, keylog=text), key=lambda o: o.first_frame):
        client = f"{obs.client.host}:{obs.client.port}"
        server = f"{obs.server.host}:{obs.server.port}"
        entry = {"client": client, "server": server, "C->S": [], "S->C": [], "obs": obs,
                 "alerts": [(a.frame, a.direction, a.description) for a in obs.alerts if a.description is not None]}
        for step in obs.steps:
            for t in step.handshake_types:
                if t is not None:
                    entry[step.direction].append((step.frame, t))
        out[(client, server)].append(entry)
    return out


def compare(theirs: dict, mine: dict, name: str) -> list[str]:
    problems = []
    for key in sorted(set(theirs) | set(mine)):
        a, b = theirs.get(key, []), mine.get(key, [])
        if len(a) != len(b):
            problems.append(f"{name} {key}: tshark has {len(a)} connection(s), the engine {len(b)}")
            continue
        for t, m in zip(a, b):
            obs = m["obs"]
            limit = None
            if obs.started_before_capture and t["ccs_frames"]:
                limit = min(t["ccs_frames"])  # see the module docstring
            for direction in ("C->S", "S->C"):
                shark_types = [ty for f, ty in t[direction] if limit is None or f <= limit]
                our_types = [ty for f, ty in m[direction] if limit is None or f <= limit]
                if shark_types != our_types:
                    problems.append(f"{name} {key} {direction}: tshark {shark_types}, engine {our_types}")
            pha = obs.certificate_request is not None and obs.certificate_request.when == "post_handshake"
            after = min((s.frame for s in obs.steps if 13 in s.handshake_types and s.direction == "S->C"),
                        default=0) if pha else 0

            def alerts(entries: list, pha: bool = pha, after: int = after) -> list:
                return sorted((d, a) for f, d, a in entries if not (pha and d == "C->S" and f > after))

            if alerts(t["alerts"]) != alerts(m["alerts"]):
                problems.append(f"{name} {key} alerts: tshark {t['alerts']}, engine {m['alerts']}")
            shark_request = any(ty == 13 for _, ty in t["S->C"])
            if shark_request != (obs.certificate_request is not None) and limit is None:
                problems.append(f"{name} {key} CertificateRequest: tshark {shark_request}, engine "
                                f"{obs.request_status.value}")
    return problems


def check(tshark: str, path: Path, keylog: Optional[Path] = None) -> dict:
    mine = ours(path, keylog)
    ports = {int(key[1].rsplit(":", 1)[1]) for key in mine}
    theirs = shark(tshark, path, ports, keylog)
    problems = compare(theirs, mine, path.name + (" +keylog" if keylog else ""))
    assert not problems, "\n".join(problems)
    return mine


@pytest.mark.parametrize("path", committed(), ids=lambda p: p.name)
def test_engine_agrees_with_tshark(tshark, path):
    mine = check(tshark, path)
    assert mine, f"no TLS connection found in {path.name}"


@pytest.mark.parametrize("path", [p for p in committed() if keylog_for(p)], ids=lambda p: p.name)
def test_engine_agrees_with_tshark_with_the_key_log(tshark, path):
    check(tshark, path, keylog_for(path))


def _view(mine: dict) -> list:
    """What must not depend on the file format: per connection, types, alerts, request, outcome."""
    out = []
    for key in sorted(mine):
        for m in mine[key]:
            obs = m["obs"]
            out.append((key, [t for _, t in m["C->S"]], [t for _, t in m["S->C"]], sorted(a[1:] for a in m["alerts"]),
                        obs.outcome.value, obs.request_status.value, obs.request_reason,
                        obs.client_certificate_status.value, obs.renegotiation, [s.messages for s in obs.steps],
                        [(s.frame, s.last_frame) for s in obs.steps]))
    return out


def test_every_format_of_the_same_traffic_gives_identical_results():
    groups: dict[str, list[Path]] = defaultdict(list)
    for path in committed():
        groups[stem(path)].append(path)
    compared = 0
    for _name, paths in sorted(groups.items()):
        if len(paths) < 2:
            continue
        views = {p.name: _view(ours(p)) for p in paths}
        first = next(iter(views.values()))
        for file, view in views.items():
            assert view == first, f"{file} differs from {paths[0].name}"
        compared += 1
    assert compared >= 10


# -- recorded during the test ---------------------------------------------------------------------------------


@pytest.fixture
def recorder(tmp_path):
    require_tool("tcpdump", "apt-get install tcpdump")
    require_tool("openssl", "apt-get install openssl")
    if os.geteuid() != 0:
        missing("recording with tcpdump on lo needs root (CAP_NET_RAW)")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import ladder_captures

    return ladder_captures


def test_live_apache_renegotiation_agrees_with_tshark(tshark, recorder, tmp_path, apache_server):
    pki = recorder.make_pki(tmp_path, chain_length=2)
    path = tmp_path / "apache.pcap"
    server = apache_server(pki.server, pki.client_ca.pem_path, tls="1.2")
    keylog = path.with_suffix(".keylog")
    with recorder.Tcpdump(path, [server.port]):
        recorder.s_client(server.port, "-keylogfile", str(keylog), *recorder._cert_args(pki.client),
                          send=b"GET /secure/ HTTP/1.0\r\nHost: localhost\r\n\r\n", wait=1.0)
    (m,) = [c for conns in check(tshark, path).values() for c in conns]
    assert m["obs"].renegotiation and m["obs"].request_reason == "renegotiation_encrypted"
    (k,) = [c for conns in check(tshark, path, keylog).values() for c in conns]
    assert k["obs"].certificate_request.when == "renegotiation"
    assert k["obs"].client_certificate_status.value == "sent"


def test_live_ipv6_client_certificate_request_agrees_with_tshark(tshark, recorder, tmp_path, openssl_server):
    from peers.tools import require_ipv6_loopback

    require_ipv6_loopback()
    pki = recorder.make_pki(tmp_path, chain_length=3)
    server = openssl_server(pki.server, tls="1.2", verify="optional", client_ca_path=pki.client_ca.pem_path,
                            host="::1")
    path = tmp_path / "v6.pcap"
    with recorder.Tcpdump(path, [server.port]):
        recorder.s_client(server.port, host="[::1]", send=recorder.GET)
    (m,) = [c for conns in check(tshark, path).values() for c in conns]
    obs = m["obs"]
    assert obs.server.host == "::1" and obs.request_status.value == "seen"
    assert obs.certificate_request.ca_names == ("CN=Client CA,O=Example",)
