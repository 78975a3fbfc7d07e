"""/metrics as Prometheus reads it: valid exposition format, every metric the dashboard and
the alert rules use."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.unit.ops.test_monitoring_files import used_metrics


@pytest.mark.skipif(shutil.which("promtool") is None,
                    reason="needs Debian's prometheus (.ci/run installs it)")
def test_metrics_pass_promtool_and_hold_what_the_dashboard_uses(client, project):
    text = client.get("/metrics").get_data(as_text=True)
    checked = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                             text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    exposed = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")}
    assert used_metrics() <= exposed
    partitions = next(line for line in text.splitlines()
                      if line.startswith("pulseboard_event_partitions "))
    assert float(partitions.split()[1]) >= 3  # yesterday, today, the days ahead and the default
