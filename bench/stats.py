"""`make bench-stats`: /events/stats and the dashboard at 1M and 10M events, beside raw SQL."""

from __future__ import annotations

import http.cookiejar
import json
import random
import re
import statistics
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta

import click
import psutil

from bench.stack import raise_open_file_limit, running, size_args
from webapp.reads.windows import WINDOWS

TYPES = [f"event_type_{i}" for i in range(12)]
BATCH = 20_000


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return (round(1000 * statistics.median(ordered), 1),
            round(1000 * ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1))


def load_with(app, project_id: int, start_index: int, count: int, make, after=None) -> float:
    """Insert `count` events made by `make(rng, now, index)` through the worker's own insert
    code, in batches (`after(payload)` runs after each); returns the seconds it took."""
    from webapp.store import insert

    rng = random.Random(start_index)
    now = datetime.now(UTC)
    started = time.monotonic()
    with app.app_context(), click.progressbar(length=count, label=f"loading {count:,} events",
                                              file=sys.stderr) as bar:
        for offset in range(0, count, BATCH):
            size = min(BATCH, count - offset)
            payload = [make(rng, now, start_index + offset + i) for i in range(size)]
            insert.store_batch(project_id, payload)
            if after:
                after(payload)
            bar.update(size)
    return time.monotonic() - started


def week_event(rng: random.Random, now: datetime, index: int) -> dict:
    return {
        "id": f"bench-{index}",
        "type": TYPES[int(rng.paretovariate(1.5)) % len(TYPES)],
        "user": f"user-{rng.randrange(200_000)}",
        "ts": (now - timedelta(seconds=rng.random() ** 2 * 7 * 86400)).isoformat(),
        "meta": {"page": f"/p/{index % BATCH % 50}"},
        "rcv": now.isoformat(),
    }


def load(app, project_id: int, start_index: int, count: int) -> float:
    """Insert `count` events spread over the last week, and their unique-user sketches."""
    from webapp.reads import stats
    from webapp.store import uniques

    redis = app.extensions["redis"]

    def sketch(payload: list[dict]) -> None:
        pipe = redis.pipeline(transaction=False)
        uniques.record(pipe, project_id, payload)
        pipe.execute()

    seconds = load_with(app, project_id, start_index, count, week_event, sketch)
    with app.app_context():
        stats.invalidate(redis, project_id)
    return seconds


def timed_get(opener, url: str, headers: dict, runs: int, timeout: float = 60) -> list[float]:
    samples = []
    for _ in range(runs):
        request = urllib.request.Request(url, headers=headers)
        started = time.perf_counter()
        with opener.open(request, timeout=timeout) as response:
            response.read()
            assert response.status == 200, url
        samples.append(time.perf_counter() - started)
    return samples


def raw_sql(app, project_id: int, name: str, runs: int) -> list[float]:
    """What the reference does, in SQL at least: aggregate the raw rows of the window."""
    from webapp.db import database

    window = WINDOWS[name]
    seconds = int(window.bucket.total_seconds())
    samples = []
    with app.app_context():
        for _ in range(runs):
            start = window.start(datetime.now(UTC))
            began = time.perf_counter()
            database.execute_sql(
                'SELECT event_type, count(*) FROM event WHERE project_id = %s '
                'AND "timestamp" >= %s GROUP BY 1', (project_id, start)).fetchall()
            database.execute_sql(
                'SELECT count(DISTINCT user_id) FROM event WHERE project_id = %s '
                'AND "timestamp" >= %s', (project_id, start)).fetchall()
            database.execute_sql(
                'SELECT floor(extract(epoch FROM "timestamp") / %s), count(*) FROM event '
                'WHERE project_id = %s AND "timestamp" >= %s GROUP BY 1',
                (seconds, project_id, start)).fetchall()
            samples.append(time.perf_counter() - began)
    return samples


def dashboard_opener(stack, email: str, password: str):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(stack.url + "/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"email": email, "password": password,
                                   "csrf_token": token}).encode()
    opener.open(urllib.request.Request(stack.url + "/login", data=form))
    return opener


def measure(stack, app, project_id: int, runs: int, opener) -> list[dict]:
    from webapp.reads.stats import invalidate

    plain = urllib.request.build_opener()
    token = {"Authorization": f"Bearer {stack.read_token}"}
    redis = app.extensions["redis"]
    rows = []
    for name in WINDOWS:
        url = f"{stack.url}/events/stats?filter={name}"
        warm = timed_get(plain, url, token, runs)
        cold = []
        for _ in range(max(5, runs // 10)):  # a commit just invalidated the cache
            invalidate(redis, project_id)
            cold += timed_get(plain, url, token, 1)
        page = timed_get(opener, f"{stack.url}/?filter={name}", {}, runs)
        sql = raw_sql(app, project_id, name, 3)
        rows.append({"filter": name, "stats_warm": percentiles(warm),
                     "stats_cold": percentiles(cold), "dashboard": percentiles(page),
                     "raw_sql": percentiles(sql)})
    return rows


def main() -> int:
    args = size_args(__doc__, runs=100)
    raise_open_file_limit()
    password = "bench-" + str(random.random())
    with running(web_workers=1, extra_env={"ADMIN_PASSWORD": password,
                                           "ADMIN_EMAIL": "bench@localhost"}) as stack:
        from webapp import create_app
        from webapp.models import Project

        app = create_app({"DATABASE_URL": stack.database_url, "REDIS_URL": stack.redis_url,
                          "SECRET_KEY": "bench"})
        with app.app_context():
            project_id = Project.get(Project.slug == "default").id
        opener = dashboard_opener(stack, "bench@localhost", password)
        (web,) = [psutil.Process(pid) for pid in stack.web_pids()]
        loaded, report = 0, []
        for size in (int(s) for s in args.sizes.split(",")):
            seconds = load(app, project_id, loaded, size - loaded)
            print(f"loaded {size - loaded:,} events in {seconds:.0f}s "
                  f"({(size - loaded) / seconds:,.0f}/s)", flush=True)
            loaded = size
            rows = measure(stack, app, project_id, args.runs, opener)
            rss = web.memory_info().rss / 2**20
            report.append((size, rows, rss))
            print(json.dumps({"events": size, "web_rss_mb": round(rss), "rows": rows}), flush=True)
    print("\n| events | filter | /events/stats warm p50 / p95 | cold p50 / p95 "
          "| dashboard p50 / p95 | raw SQL p50 | web RSS |")
    print("|---|---|---|---|---|---|---|")
    for size, rows, rss in report:
        for r in rows:
            print(f"| {size:,} | {r['filter']} | {r['stats_warm'][0]} / {r['stats_warm'][1]} ms | "
                  f"{r['stats_cold'][0]} / {r['stats_cold'][1]} ms | {r['dashboard'][0]} / "
                  f"{r['dashboard'][1]} ms | {r['raw_sql'][0]} ms | {rss:.0f} MB |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
