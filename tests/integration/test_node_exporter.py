"""``--output openmetrics`` files read by a real node_exporter textfile collector.

Every scenario's check writes ``<name>.prom`` into a private directory, as a cron job would; a
private prometheus-node-exporter (textfile collector only, 127.0.0.1, a free port) serves them.
The collector must read every file without error and expose each check's state and metrics.
"""

from __future__ import annotations

import subprocess
import urllib.request
from pathlib import Path

from integration.engines import free_port, stop_process, wait_until
from integration.scenarios import Targets
from peers.tools import missing, require_tool


def test_textfile_collector_reads_every_plugin(targets: Targets, wrappers: Path, tmp_path: Path) -> None:
    exporter = require_tool("prometheus-node-exporter", "apt-get install prometheus-node-exporter")
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        missing("prometheus_client not installed: pip install '.[test]' or apt-get install python3-prometheus-client")
    textfiles = tmp_path / "textfile"
    textfiles.mkdir()
    scenarios = targets.scenarios()
    written = {}
    for scenario in scenarios:
        proc = subprocess.run([*scenario.argv(str(wrappers / scenario.plugin)), "--output", "openmetrics"],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == scenario.state, proc.stdout + proc.stderr
        tmp = textfiles / f"{scenario.name}.prom.tmp"  # write, then rename: the collector never sees half a file
        tmp.write_text(proc.stdout)
        tmp.rename(textfiles / f"{scenario.name}.prom")
        written[scenario.name] = {(s.name, tuple(sorted(s.labels.items()))): s.value
                                  for family in text_string_to_metric_families(proc.stdout) for s in family.samples}

    port = free_port()
    log = tmp_path / "node_exporter.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([exporter, "--collector.disable-defaults", "--collector.textfile",
                                 f"--collector.textfile.directory={textfiles}",
                                 f"--web.listen-address=127.0.0.1:{port}"],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    try:
        def scrape() -> str:
            if proc.poll() is not None:
                raise AssertionError(f"node_exporter exited with {proc.returncode}: {log.read_text()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
                    return resp.read().decode()
            except OSError:
                return ""

        body = wait_until("node_exporter serving /metrics", scrape, log=log)
    finally:
        stop_process(proc)

    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(body) for s in family.samples}
    assert samples[("node_textfile_scrape_error", ())] == 0, log.read_text()
    for scenario in scenarios:  # every sample of every file, as the plugin wrote it
        for key, value in written[scenario.name].items():
            assert samples.get(key) == value, (scenario.name, key, value, samples.get(key))
        states = [v for (name, _labels), v in written[scenario.name].items() if name == "tlsmon_check_state"]
        assert states == [scenario.state], scenario.name
    alerts = {dict(labels)["alert"]: value for (name, labels), value in samples.items()
              if name == "tlsmon_handshake_alerts"}
    assert alerts == {"protocol_version": 1, "handshake_failure": 1, "unknown_ca": 1}  # the capture's failures
    days = {dict(labels)["target"]: value for (name, labels), value in samples.items() if name == "tlsmon_days_left"}
    assert days[f"127.0.0.1:{targets.expired_server.port}"] < 0 < days[f"127.0.0.1:{targets.valid_server.port}"]
    chain = [dict(labels) for (name, labels) in samples if name == "tlsmon_chain_element_days_left"]
    assert {c["chain_element"] for c in chain} == {"1", "2"}
