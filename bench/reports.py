"""`make bench-reports`: funnel, retention, paths, breakdown, trends and a user's timeline over
30 days at 1M and 10M events (200,000 users, 12 types, a few metadata properties: an amount with
cents, a country of 20), through HTTP."""

from __future__ import annotations

import json
import random
import sys
import urllib.request
from datetime import UTC, datetime, timedelta

import psutil

from bench.stack import raise_open_file_limit, running, size_args
from bench.stats import load_with, percentiles, timed_get

TYPES = [f"event_type_{i}" for i in range(12)]
PAGES = ["/", "/pricing", "/docs", "/checkout", "/checkout/pay", "/blog"]
PLANS = ["free", "pro", "team", "enterprise"]
COUNTRIES = [f"country-{i:02d}" for i in range(20)]
USERS = 200_000
HEAVY = "user-heavy"  # one user with many events, for the timeline
DAYS = 30


def month_event(rng: random.Random, now: datetime, index: int) -> dict:
    """An event in the last 30 days; one in a thousand belongs to the heavy user."""
    return {
        "id": f"bench-{index}",
        "type": TYPES[int(rng.paretovariate(1.2)) % len(TYPES)],
        "user": HEAVY if rng.random() < 0.001 else f"user-{rng.randrange(USERS)}",
        "ts": (now - timedelta(seconds=rng.random() * DAYS * 86400)).isoformat(),
        "meta": {"page": rng.choice(PAGES), "plan": rng.choice(PLANS), "n": rng.randrange(1000),
                 "amount": rng.randrange(100, 100_000) / 100, "country": rng.choice(COUNTRIES)},
        "rcv": now.isoformat(),
    }


REPORTS = {
    "funnel (3 steps, 7-day window)":
        "/reports/funnel?step=event_type_1&step=event_type_2&step=event_type_3&window=7d",
    "retention (daily cohorts)": "/reports/retention?unit=day&periods=12",
    "paths (after one event)": "/reports/paths?event=event_type_2&depth=5",
    "breakdown (one property)": "/reports/breakdown?property=page",
    "trends: daily events, 3 series":
        "/reports/trends?interval=day&A=event_type_1&B=event_type_2&C=event_type_3",
    "trends: daily unique users, 3 series":
        "/reports/trends?interval=day&A=event_type_1&A.measure=users&B=event_type_2"
        "&B.measure=users&C=event_type_3&C.measure=users",
    "trends: daily sum of a property":
        "/reports/trends?interval=day&A=event_type_1&A.measure=sum&A.property=amount",
    "trends: a formula (A / B * 100)":
        "/reports/trends?interval=day&A=event_type_1&B=event_type_2&formula=A%20/%20B%20*%20100",
    "trends: breakdown by a property of 20 values":
        "/reports/trends?interval=day&A=event_type_1&A.measure=users&breakdown=country",
    "user timeline (heavy user)": f"/users/{HEAVY}?limit=100",
}


def touch_days(redis, cache, project_id: int, today, days: int) -> None:
    """What the worker does after a commit with an event on each of the last `days` days:
    today's at the current hour (as live traffic's), the others' at noon."""
    pipe = redis.pipeline()
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    cache.touch(pipe, project_id, [{"ts": now if n == 0 else
                                    f"{today - timedelta(days=n)}T12:00:00.000Z"}
                                   for n in range(days)])
    pipe.execute()


def measure(stack, app, project_id: int, runs: int, rebuilds: int, only: str = ""
            ) -> list[dict]:
    """Per report, timed over HTTP with the read token:
    - rebuilt: a commit just touched every day the report covers (funnels: the previous period
      too), so every packed day is built again from `event` before the report runs;
    - cold: a commit just touched today's current hour (what live traffic does), so the result
      is computed again, with that hour packed again;
    - cached: the same query again.
    The timeline keeps only its summary of the days before today: rebuilt, that is computed
    again from every row of the user; cold, today's rows are read (and a page, each time)."""
    from webapp.reports import cache

    plain = urllib.request.build_opener()
    token = {"Authorization": f"Bearer {stack.read_token}"}
    redis = app.extensions["redis"]
    today = datetime.now(UTC).date()
    span = f"&from={today - timedelta(days=DAYS - 1)}&to={today}"
    rows = []
    for name, path in REPORTS.items():
        if only not in name:
            continue
        url = stack.url + path + (span if path.startswith("/reports") else "")
        rebuilt, cold = [], []
        for _ in range(rebuilds):
            touch_days(redis, cache, project_id, today, 2 * DAYS)
            rebuilt += timed_get(plain, url, token, 1, timeout=1800)
        for _ in range(runs):
            touch_days(redis, cache, project_id, today, 1)
            cold += timed_get(plain, url, token, 1)
        reported = path.startswith("/reports")
        cached = timed_get(plain, url, token, runs * 10) if reported else None
        rows.append({"report": name, "rebuilt": percentiles(rebuilt) if rebuilt else None,
                     "cold": percentiles(cold),
                     "cached": percentiles(cached) if cached else None})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def give_days_partitions(app) -> None:
    """Each day of the month its own partition, as an install that received these events day
    by day has (loaded all at once, the past days would land in the default partition until
    the workers' upkeep split them out, while the reports are measured)."""
    from webapp.db import database
    from webapp.store import partitions

    today = datetime.now(UTC).date()
    with app.app_context():
        for n in range(DAYS + 1):
            partitions.create(database, today - timedelta(days=n))


def peak_rss_mb(process) -> float:
    """The process's high-water mark of resident memory (VmHWM)."""
    with open(f"/proc/{process.pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    args = size_args(__doc__, runs=10, rebuilds=2,
                     texts={"only": ("", "measure only the reports whose name holds this text, "
                                         "e.g. trends")})
    raise_open_file_limit()
    with running(web_workers=1) as stack:
        from webapp import create_app
        from webapp.models import Project

        app = create_app({"DATABASE_URL": stack.database_url, "REDIS_URL": stack.redis_url,
                          "SECRET_KEY": "bench"})
        with app.app_context():
            project_id = Project.get(Project.slug == "default").id
        (web,) = [psutil.Process(pid) for pid in stack.web_pids()]
        give_days_partitions(app)
        loaded, report = 0, []
        for size in (int(s) for s in args.sizes.split(",")):
            seconds = load_with(app, project_id, loaded, size - loaded, month_event)
            print(f"loaded {size - loaded:,} events in {seconds:.0f}s "
                  f"({(size - loaded) / seconds:,.0f}/s)", flush=True)
            loaded = size
            with app.app_context():
                from webapp.db import database

                database.execute_sql("VACUUM ANALYZE event")
            rows = measure(stack, app, project_id, args.runs, args.rebuilds, args.only)
            rss, peak = web.memory_info().rss / 2**20, peak_rss_mb(web)
            report.append((size, rows, rss, peak))
            print(json.dumps({"events": size, "web_rss_mb": round(rss),
                              "web_peak_rss_mb": round(peak), "rows": rows}), flush=True)
    print("\n| events | report | rebuilt p50 / p95 | cold p50 / p95 | cached p50 / p95 "
          "| web RSS after (peak) |")
    print("|---|---|---|---|---|---|")
    for size, rows, rss, peak in report:
        for r in rows:
            rebuilt = f"{r['rebuilt'][0]} / {r['rebuilt'][1]} ms" if r["rebuilt"] else "-"
            cached = f"{r['cached'][0]} / {r['cached'][1]} ms" if r["cached"] else "(not cached)"
            print(f"| {size:,} | {r['report']} | {rebuilt} | {r['cold'][0]} / {r['cold'][1]} ms "
                  f"| {cached} | {rss:.0f} ({peak:.0f}) MB |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
