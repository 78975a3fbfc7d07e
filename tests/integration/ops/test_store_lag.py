"""/health and /metrics tell how long the oldest accepted batch has waited to be stored:
`/health` turns 503 past STORE_LAG_LIMIT_SECONDS and is healthy again once the store catches up."""

from __future__ import annotations

import json
import os
import re
import signal

from tests.helpers import INGEST_HEADERS, sql_scalar, wait_until


def store_lag_metric(client) -> float | None:
    text = client.get("/metrics").get_data(as_text=True)
    found = re.search(r"^pulseboard_store_lag_seconds (\S+)$", text, re.M)
    return float(found.group(1)) if found else None


def test_health_turns_503_while_the_store_worker_is_paused_and_metrics_show_the_age(
        app, client, project, worker, monkeypatch):
    monkeypatch.setitem(app.config, "STORE_LAG_LIMIT_SECONDS", 1)
    assert client.get("/health").status_code == 200 and store_lag_metric(client) == 0
    os.killpg(worker.store.pid, signal.SIGSTOP)  # the store worker and its pool, frozen
    try:
        response = client.post("/webhook", data=json.dumps({"eventType": "lag", "userId": "1"}),
                               headers=INGEST_HEADERS, content_type="application/json")
        assert response.status_code == 202
        wait_until(lambda: client.get("/health").status_code == 503, timeout=5,
                   what="/health to answer 503")
        answer = client.get("/health").get_json()
        assert answer["message"] == "Unhealthy: store"
        checks = answer["data"]["checks"]
        assert re.fullmatch(r"behind: the oldest batch has waited \d+s to be stored "
                            r"\(limit 1s\)", checks["store"]), checks
        assert checks["worker"] == "ok" and checks["jobs"] == "ok"
        assert answer["data"]["storeLagSeconds"] > 1
        assert (store_lag_metric(client) or 0) > 1
    finally:
        os.killpg(worker.store.pid, signal.SIGCONT)
    wait_until(lambda: client.get("/health").status_code == 200, timeout=10,
               what="/health to be healthy again")
    assert sql_scalar(app, "SELECT count(*) FROM event") == 1
    assert store_lag_metric(client) == 0
