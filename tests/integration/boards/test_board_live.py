"""A board's tiles over its stream: pushed when a commit touches their days, rendered once a
change for every tab and not at all while no tab shows the board, kept as they were while no
commit touches their days; a long report's tile filled in by the jobs workers; shared boards;
and no stream reaches another project's board."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlsplit

import pytest

from bench.sse_clients import Fleet
from tests.conftest import start_gunicorn, start_worker, stop_process, worker_alive
from tests.helpers import INGEST_HEADERS, READ_TOKEN, wait_stored, wait_until
from webapp.models import iso

pytestmark = pytest.mark.usefixtures("worker")
TODAY = "A=view&interval=hour&range=today"


def post(server, events) -> None:
    request = urllib.request.Request(server.url + "/webhook", data=json.dumps(events).encode(),
                                     headers={"Content-Type": "application/json",
                                              **INGEST_HEADERS})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202


def status_of(url: str, headers: dict | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}),
                                    timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code


def board_of(app, project, reports: list[tuple[str, str, str]]):
    """A board of the project with a tile for each (name, kind, query); (board, tile ids)."""
    from webapp.boards import boards, tiles
    from webapp.reports import saved

    with app.app_context():
        board = boards.create(project.id, "Live")
        pinned = [tiles.pin(project.id, board.id, saved.save(project.id, *report).id).id
                  for report in reports]
    return board, pinned


def streams(server, path: str, count: int = 1, token: str | None = READ_TOKEN) -> Fleet:
    url = urlsplit(server.url)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    fleet = Fleet(url.hostname, url.port, path, headers, count)
    fleet.open(timeout=10)
    assert all(c.status == 200 for c in fleet.clients)
    return fleet


def bodies(data: str) -> dict[int, str]:
    """The tile bodies of one pushed update, by tile."""
    return {int(part.partition('"')[0]): part
            for part in data.split('<div id="tile-body-')[1:]}


def latest(client, tile_id: int) -> str | None:
    """The newest body of the tile the client was sent."""
    for _, kind, data in reversed(client.events):
        if kind == "update" and tile_id in bodies(data):
            return bodies(data)[tile_id]
    return None


def number(body: str | None) -> str | None:
    found = re.search(r'data-number="([^"]*)"', body or "")
    return found.group(1) if found else None


def views(count: int, user: str = "u") -> list[dict]:
    return [{"eventType": "view", "userId": f"{user}{i}"} for i in range(count)]


def test_a_board_tab_is_pushed_its_tiles_when_events_arrive_and_nothing_is_rendered_unwatched(
        live_server, app, redis, project):
    from webapp.live import tiles

    board, (trend, funnel) = board_of(app, project, [
        ("Views today", "trends", TODAY), ("Signup to view", "funnel", "step=signup&step=view")])
    post(live_server, views(3))
    wait_stored(app, 3)
    time.sleep(0.6)  # past the push interval
    assert not redis.exists(tiles.content_key(project.id))  # no tab: no tile rendered
    assert int(redis.hget("pulseboard:live:stats", "pushes") or 0) == 0
    fleet = streams(live_server, f"/stream?board={board.id}", count=2)
    try:
        fleet.run_until(lambda: all(number(latest(c, trend)) == "3" for c in fleet.clients), 10,
                        "the tabs to be sent the board's current tiles")
        assert all(number(latest(c, funnel)) == "0" for c in fleet.clients)
        earlier = iso(datetime.now(UTC) - timedelta(seconds=30))
        post(live_server, [{"eventType": "signup", "userId": "w0", "timestamp": earlier},
                           *views(2, "w")])  # w0 signs up, then views
        fleet.run_until(lambda: all(number(latest(c, trend)) == "5" and
                                    number(latest(c, funnel)) == "1" for c in fleet.clients),
                        10, "the tiles the commit touched, on every tab")
        first, second = (c.events[-1][2] for c in fleet.clients)
        assert first == second  # one render, the same bytes for every tab
    finally:
        fleet.close()


def test_a_tile_whose_days_no_commit_touched_is_not_rendered_again(live_server, app, redis,
                                                                  project):
    from webapp.live import tiles
    from webapp.store.insert import store_batch

    long_ago = (datetime.now(UTC) - timedelta(days=10)).replace(hour=12)
    with app.app_context():
        store_batch(project.id, [{"id": f"old{i}", "type": "view", "user": f"o{i}", "meta": {},
                                  "ts": iso(long_ago), "rcv": iso(long_ago)} for i in range(4)])
    last_week = (f"A=view&interval=day&from={(long_ago - timedelta(days=2)).date()}"
                 f"&to={(long_ago + timedelta(days=2)).date()}")
    board, (today, earlier) = board_of(app, project, [("Views today", "trends", TODAY),
                                                      ("Views back then", "trends", last_week)])
    fleet = streams(live_server, f"/stream?board={board.id}")
    (client,) = fleet.clients
    try:
        fleet.run_until(lambda: number(latest(client, earlier)) == "4", 10,
                        "the board's tiles")
        key = tiles.content_key(project.id)
        for tile in (today, earlier):  # what each tile last rendered, marked
            digest, _, html = redis.hget(key, str(tile)).decode().partition("\n")
            redis.hset(key, str(tile), f"{digest}\n{html}<p>kept as rendered</p>")
        post(live_server, views(2))  # today only
        fleet.run_until(lambda: number(latest(client, today)) == "2", 10,
                        "the tile of today's events")
        assert "kept as rendered" not in latest(client, today)  # rendered again
        assert "kept as rendered" in latest(client, earlier)  # its days untouched: kept
        assert number(latest(client, earlier)) == "4"
    finally:
        fleet.close()


@pytest.fixture
def slow_stack(services, app, worker):
    """A worker and a web process for which every report slower than 1 ms is the jobs
    workers' (the session's workers stopped meanwhile, so that this one makes every push)."""
    worker.stop()
    since = time.time()
    slow_worker = start_worker(services, REPORT_INLINE_MS="1")
    server = start_gunicorn(services, REPORT_INLINE_MS="1")
    wait_until(lambda: worker_alive(app.extensions["redis"], since), timeout=30,
               what="the slow worker")
    yield server
    stop_process(server.process)
    stop_process(slow_worker)


def test_a_long_reports_tile_says_it_is_computing_then_fills_in_by_the_stream(
        slow_stack, app, redis, project):
    from webapp.live import tiles
    from webapp.store.insert import store_batch

    now = datetime.now(UTC)
    events = [{"id": f"s{i}", "type": ("signup", "view")[i % 2], "user": f"u{i // 2}",
               "meta": {}, "ts": iso(now - timedelta(minutes=90, seconds=-i)),
               "rcv": iso(now)} for i in range(4000)]
    with app.app_context():  # more events than a report reads within 1 ms
        store_batch(project.id, events)
    board, (funnel,) = board_of(app, project, [("Signups", "funnel", "step=signup&step=view")])
    fleet = streams(slow_stack, f"/stream?board={board.id}")
    (client,) = fleet.clients
    try:
        fleet.run_until(lambda: 'data-state="ready"' in (latest(client, funnel) or ""), 30,
                        "the workers' result on the tile")
        states = [re.search(r'data-state="(\w+)"', bodies(data)[funnel]).group(1)
                  for _, kind, data in client.events if kind == "update"]
        assert states[0] == "computing" and states[-1] == "ready"
        assert "Still computing" in next(bodies(data)[funnel] for _, _, data in client.events
                                         if 'data-state="computing"' in data)
        assert number(latest(client, funnel)) == "2000"
        assert not redis.smembers(tiles.awaited_key(project.id))  # no job is waited for
    finally:
        fleet.close()


def test_a_board_stream_never_reaches_another_projects_board(live_server, app, project):
    from webapp.tenancy.tenants import create_key, create_organization, create_project

    ours, _ = board_of(app, project, [("Views today", "trends", TODAY)])
    with app.app_context():
        organization = create_organization("Beta Corp", "beta")
        other = create_project(organization, "Beta shop", "beta-shop")
        _, other_token = create_key(other, "read", "beta read")
    theirs, _ = board_of(app, other, [("Their views", "trends", TODAY)])
    ours_header = {"Authorization": f"Bearer {READ_TOKEN}"}
    theirs_header = {"Authorization": f"Bearer {other_token}"}
    base = live_server.url + "/stream?board="
    assert status_of(f"{base}{theirs.id}", ours_header) == 404
    assert status_of(f"{base}{ours.id}", theirs_header) == 404
    assert status_of(f"{base}{theirs.id}&project=beta/beta-shop", ours_header) == 403
    for odd in ("abc", "²", "-1", "9" * 30, ""):
        assert status_of(f"{base}{quote(odd)}", ours_header) == 404, odd
    for board, header in ((ours, ours_header), (theirs, theirs_header)):
        fleet = streams(live_server, f"/stream?board={board.id}",
                        token=header["Authorization"][7:])
        fleet.close()


def test_a_shared_board_streams_logged_out_until_its_link_is_revoked(live_server, app,
                                                                     project):
    from webapp.reports import saved

    board, (trend,) = board_of(app, project, [("Views today", "trends", TODAY)])
    with app.app_context():
        token = saved.share(project.id, None, board_id=board.id)
        locked = saved.share(project.id, None, "open sesame", board_id=board.id)
    page = urllib.request.urlopen(f"{live_server.url}/share/{token}", timeout=10).read().decode()
    assert "Views today" in page and f'id="tile-body-{trend}"' in page
    assert "<form" not in page and "/projects/" not in page  # read-only, no account links
    assert status_of(f"{live_server.url}/share/{locked}/stream") == 403
    fleet = streams(live_server, f"/share/{token}/stream", token=None)
    (client,) = fleet.clients
    try:
        post(live_server, views(2))
        fleet.run_until(lambda: number(latest(client, trend)) == "2", 10,
                        "the shared board's tile")
        with app.app_context():
            link = saved.links_for(project.id)[0]
            assert link.board_id == board.id
            saved.revoke(project.id, link.id)
        fleet.run_until(lambda: client.closed, 5, "the revoked link's stream to end")
    finally:
        fleet.close()
    assert status_of(f"{live_server.url}/share/{token}") == 404
