"""`make bench-live`: POST-to-every-tab latency with 1,000 / 5,000 / 10,000 SSE clients, each a
dashboard tab or (`--board 12`) a tab of a board of that many live tiles."""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import threading
import time
import urllib.request
from urllib.parse import urlsplit

import psutil
from redis import Redis

from bench.sse_clients import Fleet
from bench.stack import raise_open_file_limit, running
from webapp import config as settings
from webapp.live.stream import open_clients

TOTAL = re.compile(rb'data-testid="total">([\d,]+)<')
# A board's tiles (name, kind, query, size), every one over today, so that every commit touches
# them all and each push computes and renders every tile: the first (today's events) is the
# one whose number the latency is read from.
BOARD_TILES = [
    ("Events today", "trends", "A=*&interval=hour&range=today", "wide"),
    ("Users today", "trends", "A=*&A.measure=users&interval=hour&range=today", "small"),
    ("Type 0 per type 1", "trends",
     "A=bench_0&B=bench_1&formula=A / B * 100&interval=hour&range=today", "small"),
    ("Three types", "trends",
     "A=bench_0&B=bench_1&C=bench_2&interval=hour&range=today&compare=previous", "wide"),
    ("Types 0 to 2", "funnel", "step=bench_0&step=bench_1&step=bench_2&window=1d&range=today",
     "small"),
    ("Types 3 to 4", "funnel", "step=bench_3&step=bench_4&window=1h&range=today", "small"),
    ("Coming back", "retention", "start=bench_0&return=bench_1&range=today", "tall"),
    ("After type 0", "paths", "event=bench_0&range=today", "small"),
    ("Before type 4", "paths", "event=bench_4&direction=before&range=today", "small"),
    ("By plan", "breakdown", "property=plan&range=today", "small"),
    ("All events, cumulative", "trends", "A=*&interval=hour&range=today&cumulative=1", "small"),
    ("The last 7 days", "trends", "A=*&interval=day&range=7d", "small"),
]


def make_board(stack, tiles: int) -> tuple[str, re.Pattern, int]:
    """A board of the default project with `tiles` saved reports pinned: (the path of its
    stream, the pattern of its first tile's number in the pushed bytes, the bytes of an
    update to keep between reads so that a number split by TCP is still found)."""
    from webapp import create_app
    from webapp.boards import boards
    from webapp.boards import tiles as board_tiles
    from webapp.models import Project
    from webapp.reports import saved

    app = create_app({"DATABASE_URL": stack.database_url, "REDIS_URL": stack.redis_url,
                      "SECRET_KEY": "bench"})
    with app.app_context():
        project = Project.get(Project.slug == "default")
        board = boards.create(project.id, f"{tiles} tiles")
        pinned = [board_tiles.pin(project.id, board.id,
                                  saved.save(project.id, name, kind, query).id, size).id
                  for name, kind, query, size in
                  (BOARD_TILES[i % len(BOARD_TILES)] for i in range(tiles))]
    # the first tile's body, up to its number (its range and headline lie in between)
    number = re.compile(rb'id="tile-body-%d"(?:(?!id="tile-body-).){0,1500}?'
                        rb'data-number="(\d+)"' % pinned[0], re.S)
    return f"/stream?board={board.id}", number, 2000


def post(url: str, key: str, events: list) -> None:
    request = urllib.request.Request(url + "/webhook", data=json.dumps(events).encode(),
                                     headers={"Content-Type": "application/json", "X-API-Key": key})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 202


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run_size(stack, clients: int, rate: int, seconds: float,
             watched: tuple[str, re.Pattern, int] = ("/stream?filter=hour", TOTAL, 48)) -> dict:
    """`watched`: the stream's path, the pattern of the total in its bytes, and how many
    bytes of a read to keep for the next (the dashboard's, or `make_board`'s)."""
    url = urlsplit(stack.url)
    path, pattern, tail = watched
    seen: dict[int, list[tuple[float, int]]] = {}  # client index -> (arrival, total shown)

    tails: dict[int, bytes] = {}  # the end of each stream's last read: a total split by TCP

    def on_bytes(client, data, when):
        """Only the totals matter: found in the raw bytes, with no SSE parsing, so that one
        thread reading 10,000 streams adds as little as it can to the latency it measures."""
        key = id(client)
        text = tails.get(key, b"") + data
        for match in pattern.finditer(text):
            seen.setdefault(key, []).append((when, int(match.group(1).replace(b",", b""))))
        tails[key] = text[-tail:]

    fleet = Fleet(url.hostname, url.port, path,
                  {"Authorization": f"Bearer {stack.read_token}"}, clients, on_bytes=on_bytes)
    started = time.monotonic()
    fleet.open(timeout=300)
    connect_seconds = time.monotonic() - started
    base = int(Redis.from_url(stack.redis_url).hget("pulseboard:live:stats", "pushes") or 0)
    posts: list[tuple[float, int]] = []  # (time the POST was answered, total after it)
    per_request, interval = max(1, rate // 20), 1 / 20
    total = [stack_total(stack)]

    def sender():
        next_at = time.monotonic()
        end = next_at + seconds
        while next_at < end:
            post(stack.url, stack.ingest_key,
                 [{"eventType": f"bench_{i % 5}", "userId": f"u{i}"} for i in range(per_request)])
            total[0] += per_request
            posts.append((time.monotonic(), total[0]))
            next_at += interval
            time.sleep(max(0.0, next_at - time.monotonic()))

    thread = threading.Thread(target=sender)
    thread.start()
    while thread.is_alive():
        fleet.poll(0.02)
    final = total[0]
    try:
        fleet.run_until(lambda: len(seen) == clients and all(
            s[-1][1] >= final for s in seen.values()), 30, "the last push on every client")
    except TimeoutError as exc:
        print(f"  warning: {exc}", file=sys.stderr)
    latencies = []
    for arrivals in seen.values():
        for posted_at, needed in posts:
            shown = next((when for when, shown_total in arrivals if shown_total >= needed), None)
            if shown is not None:
                latencies.append(max(0.0, shown - posted_at))
    web = [psutil.Process(pid) for pid in stack.web_pids()]
    redis_clients = Redis.from_url(stack.redis_url).info("clients")["connected_clients"]
    pushes = int(Redis.from_url(stack.redis_url).hget("pulseboard:live:stats", "pushes") or 0)
    fleet.close()
    missing = clients * len(posts) - len(latencies)
    return {
        "clients": clients, "connect_s": round(connect_seconds, 1),
        "posts": len(posts), "events": final - posts[0][1] + per_request if posts else 0,
        "pushes": pushes - base, "samples": len(latencies), "missing": missing,
        "p50_ms": round(1000 * percentile(latencies, 0.50)),
        "p95_ms": round(1000 * percentile(latencies, 0.95)),
        "p99_ms": round(1000 * percentile(latencies, 0.99)),
        "max_ms": round(1000 * max(latencies)), "mean_ms": round(1000 * statistics.mean(latencies)),
        "web_rss_mb": round(sum(p.memory_info().rss for p in web) / 2**20),
        "redis_clients": redis_clients,
    }


def released(stack, timeout: float = 60) -> None:
    """Each size starts from rest: wait until the web processes have noticed that the last
    size's streams are closed (at their next heartbeat) and report none open."""
    redis = Redis.from_url(stack.redis_url)
    deadline = time.monotonic() + timeout
    while open_clients(redis) and time.monotonic() < deadline:
        time.sleep(0.5)


def stack_total(stack) -> int:
    request = urllib.request.Request(stack.url + "/events/stats?filter=hour",
                                     headers={"Authorization": f"Bearer {stack.read_token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["data"]["totalEvents"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,5000,10000")
    parser.add_argument("--rate", type=int, default=1000, help="events per second posted")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--web-workers", type=int, default=2,
                        help="gunicorn worker processes (make run's default is 2)")
    parser.add_argument("--board", type=int, default=0, metavar="TILES",
                        help="the tabs show a board of this many tiles (saved reports over "
                             "today, every one touched by every commit) instead of the "
                             "dashboard; the issue's figure is 12")
    args = parser.parse_args()
    limit = raise_open_file_limit()
    print(f"open-file limit {limit}; {args.web_workers} web process(es) "
          f"({settings.value('WEB_WORKER_CLASS') or 'pywsgi, one send'}), "
          "one Celery worker (2 processes)")
    rows = []
    connections = {"WORKER_CONNECTIONS": str(limit - 200)}
    with running(web_workers=args.web_workers, extra_env=connections) as stack:
        watched = make_board(stack, args.board) if args.board else None
        if watched:
            print(f"the tabs show a board of {args.board} tiles ({watched[0]})")
        for size in (int(s) for s in args.sizes.split(",")):
            if size > limit - 500:
                print(f"skipping {size} clients: the open-file limit is {limit}")
                continue
            row = run_size(stack, size, args.rate, args.seconds, *([watched] if watched else []))
            rows.append(row)
            print(json.dumps(row), flush=True)
            released(stack)
    print("\n| clients | p50 | p95 | p99 | max | pushes | web RSS | Redis clients |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['clients']:,} | {r['p50_ms']} ms | {r['p95_ms']} ms | {r['p99_ms']} ms | "
              f"{r['max_ms']} ms | {r['pushes']} | {r['web_rss_mb']} MB | {r['redis_clients']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
