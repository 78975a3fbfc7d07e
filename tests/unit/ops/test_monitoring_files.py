"""Prometheus and Grafana files, checked with Prometheus's own promtool."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None,
                                    reason="needs Debian's prometheus (.ci/run installs it)")


def promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=60)


@needs_promtool
def test_prometheus_config_and_its_rules_pass_promtool():
    checked = promtool("check", "config", str(DEPLOY / "prometheus/prometheus.yml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "rules.yml" in checked.stdout  # the rule file was found and checked with it
    rules = promtool("check", "rules", str(DEPLOY / "prometheus/rules.yml"))
    assert rules.returncode == 0, rules.stdout + rules.stderr


def dashboard_expressions() -> list[str]:
    dashboard = json.loads((DEPLOY / "grafana/dashboards/pulseboard.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def metric_names(expression: str) -> set[str]:
    return set(re.findall(r"\bpulseboard_[a-z_]+\b", expression))


def used_metrics() -> set[str]:
    names = set().union(*map(metric_names, dashboard_expressions()))
    rules = YAML(typ="safe").load((DEPLOY / "prometheus/rules.yml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            names |= metric_names(rule["expr"])
    return names


def test_dashboard_shows_what_operators_watch():
    text = " ".join(dashboard_expressions())
    for metric in ("pulseboard_events_accepted_total", "pulseboard_events_rejected_total",
                   "pulseboard_queue_depth", "pulseboard_ingest_to_commit_lag_seconds",
                   "pulseboard_push_latency_seconds", "pulseboard_sse_clients",
                   "pulseboard_dead_letters", "pulseboard_event_partitions",
                   "pulseboard_event_partition_bytes"):
        assert metric in text
    assert "by (reason)" in text


@needs_promtool
def test_dashboard_expressions_are_promql(tmp_path):
    # promtool parses expressions inside rule files: check each panel's as a recording rule
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:panel{n}", "expr": expr}
        for n, expr in enumerate(dashboard_expressions())]}]}
    target = tmp_path / "dashboard-rules.yml"
    target.write_text(json.dumps(rules))
    checked = promtool("check", "rules", str(target))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_grafana_provisions_the_dashboard_from_prometheus():
    provider = YAML(typ="safe").load(
        (DEPLOY / "grafana/provisioning/dashboards/pulseboard.yml").read_text())
    source = YAML(typ="safe").load(
        (DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    uid = source["datasources"][0]["uid"]
    dashboard = json.loads((DEPLOY / "grafana/dashboards/pulseboard.json").read_text())
    assert {panel["datasource"]["uid"] for panel in dashboard["panels"]} == {uid}
