"""Live pushes over SSE against gunicorn's gevent workers and real Celery workers."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest

from bench.sse_clients import Fleet
from tests.conftest import start_gunicorn, start_worker, stop_process, worker_alive
from tests.helpers import INGEST_HEADERS, READ_HEADERS, READ_TOKEN, sql_scalar, wait_until
from webapp.live.publish import watched_filters
from webapp.live.stream import open_clients
from webapp.tenancy.tenants import create_key, create_project

pytestmark = pytest.mark.usefixtures("worker")


def fleet(server, count: int, query: str = "filter=hour", token: str = READ_TOKEN) -> Fleet:
    url = urlsplit(server.url)
    return Fleet(url.hostname, url.port, f"/stream?{query}",
                 {"Authorization": f"Bearer {token}"}, count)


def post(server, events) -> None:
    request = urllib.request.Request(server.url + "/webhook", data=json.dumps(events).encode(),
                                     headers={"Content-Type": "application/json",
                                              **INGEST_HEADERS})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202


def http_status(request) -> int:
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code


def subscriber_connections(redis) -> int:
    """Redis connections of the live fan-out: one per web process that has streams."""
    return sum(1 for client in redis.client_list()
               if client.get("name", "").startswith("pulseboard-live:"))


def pushes(redis) -> int:
    return int(redis.hget("pulseboard:live:stats", "pushes") or 0)


def saw_total(client, total: int) -> bool:
    marker = f'data-testid="total">{total:,}<'
    return any(kind == "update" and marker in data for _, kind, data in client.events)


def burst(server, total: int, seconds: float = 1.0, requests: int = 10) -> None:
    """`total` events spread over `seconds`, in `requests` POSTs."""
    per = total // requests
    for _ in range(requests):
        post(server, [{"eventType": f"type_{j % 7}", "userId": f"u{j}"} for j in range(per)])
        time.sleep(seconds / requests)


def test_stream_auth_and_first_bytes(live_server, app, project):
    with app.app_context():
        other = create_project(project.organization, "Other")
        _, other_token = create_key(other, "read", "r")
    for headers, status in (({}, 401), ({"Authorization": "Bearer nope"}, 401)):
        request = urllib.request.Request(live_server.url + "/stream", headers=headers)
        assert http_status(request) == status
    request = urllib.request.Request(live_server.url + "/stream?project=other",
                                     headers=READ_HEADERS)
    assert http_status(request) == 403
    clients = fleet(live_server, 1, "project=other", other_token)
    started = time.monotonic()
    clients.open(timeout=5)  # headers and the first comment arrive at once
    assert time.monotonic() - started < 1.5
    (client,) = clients.clients
    assert client.status == 200 and client.headers["content-type"].startswith("text/event-stream")
    clients.close()


def test_200_clients_each_get_every_push_through_one_subscription(live_server, redis, project):
    clients = fleet(live_server, 200)
    clients.open()
    assert subscriber_connections(redis) == 1  # one web process: one subscription
    before = pushes(redis)
    burst(live_server, 1000)
    clients.run_until(lambda: all(saw_total(c, 1000) for c in clients.clients), 10,
                      "every client to see 1,000 events")
    clients.run_for(0.6)  # let any trailing push land before counting
    made = pushes(redis) - before
    assert 1 <= made <= 8, f"{made} pushes for one second of events"
    assert all(c.status == 200 and not c.closed for c in clients.clients)
    clients.close()


def test_a_closed_tab_is_released_within_a_heartbeat(live_server, redis, project):
    clients = fleet(live_server, 20)
    clients.open()
    wait_until(lambda: open_clients(redis) == 20, timeout=5, what="20 open streams reported")
    assert watched_filters(redis, project.id) == {"hour"}
    clients.close()
    wait_until(lambda: open_clients(redis) == 0, timeout=2 * 2 + 1,
               what="closed streams to be released")
    wait_until(lambda: not watched_filters(redis, project.id), timeout=5,
               what="the channel to be no longer watched")


def test_nothing_is_rendered_unwatched_and_a_new_tab_gets_the_current_state(
        live_server, app, redis, project):
    post(live_server, [{"eventType": "quiet", "userId": f"u{i}"} for i in range(2)])
    wait_until(lambda: sql_scalar(app, "SELECT count(*) FROM event") == 2, timeout=10,
               what="2 stored events")
    time.sleep(0.6)  # past the push interval
    assert pushes(redis) == 0  # no tab open: nothing rendered, nothing published
    clients = fleet(live_server, 2, "filter=day")
    try:
        clients.open()
        clients.run_until(lambda: all(saw_total(c, 2) for c in clients.clients), 10,
                          "the new tabs to be sent the current state")
        # counted just after it is published: wait for the count, then see that it stays
        wait_until(lambda: pushes(redis) >= 1, timeout=5, what="the push to be counted")
        clients.run_for(0.6)
        assert pushes(redis) == 1  # one push for the first tab, none for the second
    finally:
        clients.close()



def test_a_new_tab_gets_the_current_state_after_its_channels_claim_was_lost(
        live_server, redis, project):
    """A stream claims its channel even when the process has others on it: with the claim lost
    (Redis restarted, or cleared as here), the push the new tab asks for must still be made."""
    first = fleet(live_server, 1)
    second = fleet(live_server, 1)
    try:
        first.open()
        first.run_until(lambda: any(kind == "update" for _, kind, _ in first.clients[0].events),
                        10, "the first tab's current state")
        redis.delete(f"pulseboard:watched:{project.id}")
        second.open()
        second.run_until(lambda: saw_total(second.clients[0], 0), 2,
                         "the second tab's current state")
    finally:
        first.close()
        second.close()

@pytest.mark.slow
def test_two_web_and_two_worker_processes_share_coalescing(services, redis, project, worker):
    since = time.time()
    second_worker = start_worker(services)
    server = start_gunicorn(services, workers=2)
    try:
        wait_until(lambda: worker_alive(redis, since), timeout=30, what="second worker")
        clients = fleet(server, 100)
        clients.open()
        before = pushes(redis)
        burst(server, 1000)
        clients.run_until(lambda: all(saw_total(c, 1000) for c in clients.clients), 10,
                          "every client on either web process to see 1,000 events")
        clients.run_for(0.6)
        made = pushes(redis) - before
        assert 1 <= made <= 8, f"{made} pushes for one second of events from two workers"
        assert subscriber_connections(redis) <= 3  # at most one per web process
        clients.close()
    finally:
        stop_process(server.process)
        stop_process(second_worker)


def test_a_stopping_web_process_ends_its_streams_and_exits(services, project):
    """A dashboard's stream never finishes by itself: asked to stop, the web process ends it
    (the browser reconnects elsewhere) instead of holding on until gunicorn's graceful timeout
    (10 s) runs out and it is killed."""
    import http.client
    import signal

    server = start_gunicorn(services)
    try:
        url = urlsplit(server.url)
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        connection.request("GET", "/stream?filter=hour", headers=READ_HEADERS)
        response = connection.getresponse()
        assert response.status == 200 and response.getheader("Connection") == "close"
        assert response.read1(64).startswith(b"retry: 2000")
        server.process.send_signal(signal.SIGTERM)  # to the master, which stops its workers
        while response.read1(4096):  # heartbeats until the stream ends
            pass
        assert server.process.wait(timeout=8) == 0  # before the 10 s graceful timeout ends
    finally:
        stop_process(server.process)
