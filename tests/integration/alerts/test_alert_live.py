"""A "too few" rule fires from the periodic check alone, shows on open dashboards over the
stream, and resolves as soon as a commit brings the count back."""

from __future__ import annotations

import json
import urllib.request
from urllib.parse import urlsplit

from bench.sse_clients import Fleet
from tests.helpers import INGEST_HEADERS, READ_TOKEN
from webapp.alerts import rules


def badge(client, firing: int, since: int = 0) -> bool:
    """An update from the `since`-th event on shows the badge with `firing` rules firing."""
    marker = f'data-testid="alert-badge" data-firing="{firing}"'
    return any(kind == "update" and marker in data for _, kind, data in client.events[since:])


def test_too_few_fires_live_and_resolves_on_commit(app, project, live_server, worker, receiver):
    url = urlsplit(live_server.url)
    tabs = Fleet(url.hostname, url.port, "/stream?filter=hour",
                 {"Authorization": f"Bearer {READ_TOKEN}"}, 1)
    tabs.open()
    try:
        with app.app_context():
            values, problems = rules.validate(
                {"name": "No signups", "when": "signup < 1 in 5 min", "url": receiver.url},
                allow_private=True)
            assert problems == {}
            rules.create(project, values)
        # nothing is posted: only the periodic check (every second in tests) can see it
        tabs.run_until(lambda: badge(tabs.clients[0], 1), 5, "the badge to show one firing")
        assert any("No signups" in data for _, kind, data in tabs.clients[0].events)
        assert [d.json["type"] for d in receiver.deliveries] == ["alert.fired"]

        request = urllib.request.Request(
            live_server.url + "/webhook", headers={**INGEST_HEADERS,
                                                   "Content-Type": "application/json"},
            data=json.dumps({"eventType": "signup", "userId": "new"}).encode())
        seen = len(tabs.clients[0].events)
        urllib.request.urlopen(request, timeout=10).close()
        tabs.run_until(lambda: badge(tabs.clients[0], 0, seen)
                       and receiver.of_type("alert.resolved"), 5, "the rule to resolve")
        resolved = receiver.of_type("alert.resolved")[0].json
        assert resolved["data"]["value"] == 1 and resolved["data"]["state"] == "ok"
    finally:
        tabs.close()
