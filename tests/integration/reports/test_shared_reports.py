"""A shared report runs as the API's reports do: in the web process only within
REPORT_INLINE_MS, else in a worker, while the page says it is still being computed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.helpers import wait_until
from webapp.models import iso
from webapp.reports import jobs, saved
from webapp.web import shares

QUERY = "step=signup&step=view"


def test_a_shared_report_too_long_for_the_web_process_is_computed_by_a_worker(
        app, client, project, redis, worker, monkeypatch):
    from webapp.store.insert import store_batch

    now = datetime.now(UTC)
    events = [{"id": f"s{i}", "type": ("signup", "view")[i % 2], "user": f"u{i // 2}",
               "meta": {}, "ts": iso(now - timedelta(minutes=90, seconds=-i)),
               "rcv": iso(now)} for i in range(4000)]
    with app.app_context():
        store_batch(project.id, events)
        report = saved.save(project.id, "Signups", "funnel", QUERY)
        token = saved.share(project.id, report.id)
    # 1 ms: more events than a report reads within it (counted before any is read); the page
    # does not wait for the worker
    monkeypatch.setitem(app.config, "REPORT_INLINE_MS", 1)
    monkeypatch.setattr(shares, "SHARE_WAIT_SECONDS", 0, raising=False)
    waiting = client.get(f"/share/{token}")
    assert waiting.status_code == 503
    assert waiting.headers["Retry-After"] == waiting.headers["Refresh"] == "5"
    assert 'data-testid="still-computing"' in waiting.get_data(as_text=True)
    job = jobs.job_id(project.id, "funnel", QUERY)
    wait_until(lambda: jobs.state(app.extensions["celery"], job) == "done", timeout=30,
               what="the worker's report")
    shown = client.get(f"/share/{token}")
    assert shown.status_code == 200
    html = shown.get_data(as_text=True)
    assert '<th scope="row">1. signup</th>' in html and "<td>2,000</td>" in html
    assert "still-computing" not in html
