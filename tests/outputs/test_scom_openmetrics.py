"""``--output scom`` and ``--output openmetrics``: the documented shapes, parsed strictly.

SCOM: the ``System.PropertyBagData`` data item that MOM.ScriptAPI writes (README of
packaging/scom), parsed with xml.etree: ``DataItem`` with ``type`` and ``time``, ``Property``
children with ``Name`` and a numeric ``VariantType`` that matches the value. OpenMetrics: parsed
with prometheus_client's OpenMetrics parser (strict: ``# EOF``, names, label escaping, one label
set per family) and with its Prometheus text parser (what node_exporter's textfile collector
reads). First on hand-made reports (hostile text, every value type), then on every plugin run
against loopback servers, compared with the same run's JSON.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import pytest

from integration.engines import mask_timings
from integration.scenarios import LIB, PLUGIN_DIR, Scenario, Targets
from peers.tools import missing, require_tool
from tlsmon.outputs import openmetrics, scom
from tlsmon.outputs.report import MetricLine, Report, ResultLine, failure

HEALTH = {0: "Healthy", 1: "Warning", 2: "Critical", 3: "Unknown"}
FIXED = ["Check", "State", "NagiosState", "ExitCode", "Message", "Target", "Details", "PerfData"]
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}[+-]\d\d:\d\d$")


def _om_parser() -> Any:
    try:
        from prometheus_client.openmetrics import parser
    except ImportError:
        missing("prometheus_client not installed: pip install '.[test]' or apt-get install python3-prometheus-client")
    return parser


def _text_parser() -> Any:
    _om_parser()
    from prometheus_client import parser

    return parser


def parse_bag(text: str) -> tuple[ET.Element, dict[str, Any]]:
    """The data item and its properties by name, values converted by VariantType (which must fit)."""
    root = ET.fromstring(text)
    assert root.tag == "DataItem"
    assert root.get("type") == "System.PropertyBagData"
    assert TIME_RE.match(root.get("time", "")), root.get("time")
    assert re.fullmatch(r"[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}", root.get("sourceHealthServiceId", ""))
    props: dict[str, Any] = {}
    for child in root:
        assert child.tag == "Property", child.tag
        assert set(child.attrib) == {"Name", "VariantType"}, child.attrib
        name, variant, value = child.get("Name"), child.get("VariantType"), child.text or ""
        assert name and name not in props, name
        if variant == "3":
            assert re.fullmatch(r"-?\d+", value), value
            props[name] = int(value)
        elif variant == "5":
            props[name] = float(value)
        elif variant == "11":
            assert value in ("true", "false"), value
            props[name] = value == "true"
        else:
            assert variant == "8", variant
            props[name] = value
    assert list(props)[: len(FIXED)] == FIXED
    return root, props


def parse_om(text: str) -> dict[str, Any]:
    """Families by name, strictly parsed; the text parser must read the same samples."""
    assert text.endswith("# EOF")
    families = {f.name: f for f in _om_parser().text_string_to_metric_families(text + "\n")}
    text_samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
                    for f in _text_parser().text_string_to_metric_families(text + "\n") for s in f.samples}
    om_samples = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families.values() for s in f.samples}
    assert text_samples.keys() == om_samples.keys()
    for name, family in families.items():
        assert name.startswith("tlsmon_"), name
        assert family.type == "gauge", (name, family.type)
    return families


def _sample(families: dict[str, Any], name: str, **labels: str) -> float:
    found = [s.value for s in families[name].samples if all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(found) == 1, (name, labels, families[name].samples)
    return float(found[0])


# -- hand-made reports ---------------------------------------------------------------------------

HOSTILE = 'a<b>&c "d" \'e\' \x00nul \x1besc \x7f del \ud800 lone \ufffe nonchar tab\tend'


def _report(exit_code: int = 1, **kwargs: Any) -> Report:
    base: dict[str, Any] = dict(
        name="TLS_CERT", exit_code=exit_code, summary="www.example.org:443 CN=www expires in 9.8 days",
        metrics=(MetricLine("days_chain_elem1", 9.8, "", "20:", "15:", "0"),
                 MetricLine("days_chain_elem2", 1825.0, "", "20:", "15:", "0"),
                 MetricLine("days_left", 9.8, "", "20:", "15:", "0")),
        results=(ResultLine("days_chain_elem1", "WARNING", "CN=www expires in 9.8 days"),),
        details=("1) CN=www, not after 2026-12-14 10:00 UTC (9.8 days)", "2) CN=CA (1825 days)"),
        facts={"target": "www.example.org:443"})
    base.update(kwargs)
    return Report(**base)


@pytest.mark.parametrize("code", [0, 1, 2, 3])
def test_scom_bag_states(code: int) -> None:
    _, props = parse_bag(scom.render(_report(code)))
    assert props["State"] == HEALTH[code]
    assert props["NagiosState"] == ("OK", "WARNING", "CRITICAL", "UNKNOWN")[code]
    assert props["ExitCode"] == code


def test_scom_bag_carries_message_details_and_each_metric() -> None:
    when = datetime(2026, 12, 4, 17, 27, 3, 123456, tzinfo=timezone(timedelta(hours=-6)))
    root, props = parse_bag(scom.render(_report(), when=when))
    assert root.get("time") == "2026-12-04T17:27:03.1234560-06:00"
    assert props["Check"] == "TLS_CERT"
    assert props["Message"] == "www.example.org:443 CN=www expires in 9.8 days"
    assert props["Target"] == "www.example.org:443"
    assert props["Details"].split("\n") == ["1) CN=www, not after 2026-12-14 10:00 UTC (9.8 days)",
                                            "2) CN=CA (1825 days)"]
    assert props["PerfData"] == ("days_chain_elem1=9.8;20:;15:;0 days_chain_elem2=1825.0;20:;15:;0 "
                                 "days_left=9.8;20:;15:;0")
    assert {k: v for k, v in props.items() if k not in FIXED} == {
        "days_chain_elem1": 9.8, "days_chain_elem2": 1825.0, "days_left": 9.8}
    # XPath as a SCOM expression filter reads it
    assert root.find("Property[@Name='State']").text == "Warning"  # type: ignore[union-attr]
    assert root.find("Property[@Name='days_left']").get("VariantType") == "5"  # type: ignore[union-attr]


def test_scom_bag_types_every_value_kind() -> None:
    metrics = (MetricLine("count", 3), MetricLine("ratio", 0.25), MetricLine("huge", 2**40),
               MetricLine("flag", True), MetricLine("word", "n/a"), MetricLine("numeric_text", "1.5"))
    root, props = parse_bag(scom.render(_report(metrics=metrics)))
    variants = {p.get("Name"): p.get("VariantType") for p in root}
    assert (variants["count"], variants["ratio"], variants["huge"], variants["flag"], variants["word"],
            variants["numeric_text"]) == ("3", "5", "5", "11", "8", "5")
    assert (props["count"], props["ratio"], props["huge"], props["flag"], props["word"], props["numeric_text"]) == (
        3, 0.25, float(2**40), True, "n/a", 1.5)


def test_scom_bag_is_well_formed_whatever_the_text() -> None:
    text = scom.render(_report(summary=HOSTILE, details=(HOSTILE,), facts={"target": HOSTILE}))
    _, props = parse_bag(text)
    for key in ("Message", "Details", "Target"):
        assert props[key].startswith('a<b>&c "d" \'e\' ')
        assert "\x00" not in props[key] and "\x1b" not in props[key] and "\ud800" not in props[key]
        assert "\ufffd" in props[key] and "tab\tend" in props[key]


def test_scom_bag_of_a_failed_run_names_the_target_given() -> None:
    _, props = parse_bag(scom.render(failure("TLS_CERT", 3, "usage: -w: not a number"), target="mail:25"))
    assert (props["State"], props["ExitCode"], props["Target"], props["PerfData"]) == ("Unknown", 3, "mail:25", "")


def test_openmetrics_families_labels_and_units() -> None:
    metrics = (MetricLine("days_chain_elem1", 9.8), MetricLine("days_chain_elem2", 1825.0),
               MetricLine("days_left", 9.8), MetricLine("handshake_time", 0.0123, "s"),
               MetricLine("latency", 250, "ms"), MetricLine("size", 2, "KB"), MetricLine("tls_version", 1.3),
               MetricLine("cert_request", 1), MetricLine("conn_count", 4), MetricLine("word", "n/a"),
               MetricLine("alert_unknown_ca", 2))
    text = openmetrics.render(_report(2, metrics=metrics, facts={"target": 'we"ird\\host\nname:443'}))
    families = parse_om(text)
    target = 'we"ird\\host\nname:443'
    common = {"check": "tls_cert", "target": target}
    assert _sample(families, "tlsmon_check_state", **common) == 2
    assert _sample(families, "tlsmon_chain_element_days_left", chain_element="1", **common) == 9.8
    assert _sample(families, "tlsmon_chain_element_days_left", chain_element="2", **common) == 1825.0
    assert _sample(families, "tlsmon_days_left", **common) == 9.8
    assert _sample(families, "tlsmon_handshake_time_seconds", **common) == 0.0123
    assert families["tlsmon_handshake_time_seconds"].unit == "seconds"
    assert _sample(families, "tlsmon_latency_seconds", **common) == 0.25
    assert _sample(families, "tlsmon_size_bytes", **common) == 2048
    assert families["tlsmon_size_bytes"].unit == "bytes"
    assert _sample(families, "tlsmon_tls_version", **common) == 1.3
    assert _sample(families, "tlsmon_conn_count_value", **common) == 4  # _count is reserved in OpenMetrics
    assert "tlsmon_word" not in families  # not a number: left out
    assert _sample(families, "tlsmon_handshake_alerts", alert="unknown_ca", **common) == 2


def test_openmetrics_special_values_and_duplicates() -> None:
    metrics = (MetricLine("a", float("nan")), MetricLine("b", float("inf")), MetricLine("c", -float("inf")),
               MetricLine("d", 1), MetricLine("d", 2))
    families = parse_om(openmetrics.render(_report(metrics=metrics)))
    assert math.isnan(_sample(families, "tlsmon_a"))
    assert _sample(families, "tlsmon_b") == math.inf and _sample(families, "tlsmon_c") == -math.inf
    assert _sample(families, "tlsmon_d") == 1  # one label set per family: the first wins


def test_openmetrics_of_a_failed_run() -> None:
    families = parse_om(openmetrics.render(failure("TLS_CERT", 3, "usage: bad"), target="mail.example.org:25"))
    assert list(families) == ["tlsmon_check_state"]
    assert _sample(families, "tlsmon_check_state", check="tls_cert", target="mail.example.org:25") == 3


# -- the plugins, run against loopback servers -----------------------------------------------------


@pytest.fixture(scope="module")
def targets() -> Iterator[Targets]:
    made = Targets(require_tool("openssl", "apt-get install openssl"))
    yield made
    made.close()


def _run(scenario: Scenario, output: str) -> subprocess.CompletedProcess:
    argv = scenario.argv(str(PLUGIN_DIR / scenario.plugin)) + ["--output", output]
    proc = subprocess.run([sys.executable, *argv], capture_output=True, text=True, timeout=60,
                          env={"PYTHONPATH": str(LIB), "PATH": "/usr/bin:/bin"})
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    return proc


def test_every_plugin_in_scom_and_openmetrics(targets: Targets) -> None:
    for scenario in targets.scenarios():
        as_json = _run(scenario, "json")
        doc = json.loads(as_json.stdout)
        assert as_json.returncode == doc["exit_code"] == scenario.state, (scenario.name, doc)

        bag = _run(scenario, "scom")
        assert bag.returncode == scenario.state
        _, props = parse_bag(bag.stdout.strip())
        assert props["Check"] == doc["name"]
        assert (props["ExitCode"], props["State"]) == (scenario.state, HEALTH[scenario.state])
        assert mask_timings(props["Message"]) == mask_timings(doc["summary"])
        target = doc["facts"].get("target") or scenario.args[0]  # check_tls_capture: the file read
        assert props["Target"] == target
        metric_props = [k for k in props if k not in FIXED]
        assert metric_props == [m["label"] for m in doc["metrics"]], scenario.name
        for metric in doc["metrics"]:
            if not metric["label"].endswith("_time"):
                assert props[metric["label"]] == metric["value"], (scenario.name, metric)

        om = _run(scenario, "openmetrics")
        assert om.returncode == scenario.state
        families = parse_om(om.stdout.strip())
        common = {"check": doc["name"].lower(), "target": target}
        assert _sample(families, "tlsmon_check_state", **common) == scenario.state
        for metric in doc["metrics"]:
            name, extra, _unit, factor = openmetrics.family_of(metric["label"], metric["uom"])
            value = _sample(families, name, **common, **extra)
            if not metric["label"].endswith("_time"):
                assert value == pytest.approx(float(metric["value"]) * factor), (scenario.name, metric)
        if scenario.plugin == "check_tls_cert":
            chain = [s for s in families["tlsmon_chain_element_days_left"].samples]
            assert [s.labels["chain_element"] for s in chain] == [str(i + 1) for i in range(len(chain))]


@pytest.mark.parametrize("output", ["scom", "openmetrics", "json"])
def test_usage_errors_come_in_the_format_asked_for(output: str) -> None:
    proc = subprocess.run([sys.executable, str(PLUGIN_DIR / "check_tls_cert"), "-H", "mail.example.org",
                           "-w", "soon", "--output", output], capture_output=True, text=True, timeout=60,
                          env={"PYTHONPATH": str(LIB), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 3
    assert "usage:" in proc.stderr  # argparse's usage text stays on stderr
    if output == "scom":
        _, props = parse_bag(proc.stdout.strip())
        assert (props["State"], props["ExitCode"]) == ("Unknown", 3)
        assert "not a number of days" in props["Message"]
    elif output == "openmetrics":
        families = parse_om(proc.stdout.strip())
        assert _sample(families, "tlsmon_check_state", check="tls_cert") == 3
    else:
        assert json.loads(proc.stdout)["state"] == "UNKNOWN"


WATCHDOG = """
import argparse, sys, time
from tlsmon.cli import runner
args = argparse.Namespace(timeout=0.2, verbose=0, output=sys.argv[1], host="mail.example.org", port=25)
runner.run("TLS_CERT", lambda progress: (progress("connect"), time.sleep(30)), args)
"""


@pytest.mark.parametrize("output", ["scom", "openmetrics", "nagios"])
def test_watchdog_answers_in_the_format_asked_for(output: str) -> None:
    """A check that overruns its deadline: the last-resort watchdog still prints a readable result."""
    proc = subprocess.run([sys.executable, "-c", WATCHDOG, output], capture_output=True, text=True, timeout=60,
                          env={"PYTHONPATH": str(LIB), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 3, proc.stdout + proc.stderr
    if output == "scom":
        _, props = parse_bag(proc.stdout.strip())
        assert (props["State"], props["Target"]) == ("Unknown", "mail.example.org:25")
        assert props["Message"] == "plugin timed out after 1.2 s (phase: connect)"
    elif output == "openmetrics":
        families = parse_om(proc.stdout.strip())
        assert _sample(families, "tlsmon_check_state", check="tls_cert", target="mail.example.org:25") == 3
    else:
        assert proc.stdout == "TLS_CERT UNKNOWN - plugin timed out after 1.2 s (phase: connect)\n"
