"""`make bench`: accepted and persisted events per second, with and without dashboards."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.sse_clients import Fleet
from bench.stack import ROOT, raise_open_file_limit, running
from webapp.devservers import free_port

LUA = Path(__file__).with_name("post.lua")


def stored(app) -> int:
    """Rows in the events table (a full count: once before and once after a run)."""
    from webapp.db import database

    with app.app_context():
        return database.execute_sql("SELECT count(*) FROM event").fetchone()[0]


def counted(app) -> int:
    """Events the rollups have counted: what the worker inserted, read cheaply enough to poll
    while a run drains (counting the events table itself gets slower as it grows, and the
    benchmark would be measuring its own polling)."""
    from webapp.db import database

    with app.app_context():
        return int(database.execute_sql(
            "SELECT coalesce(sum(count), 0) FROM event_rollup_hour").fetchone()[0])


def wrk(url: str, key: str, events: int, connections: int, seconds: int) -> dict:
    threads = min(2, connections)
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s",
                          "--timeout", "10s", "-s", str(LUA), url, "--", key, str(events)],
                         capture_output=True, text=True, check=True).stdout
    line = next(row for row in out.splitlines() if row.startswith("RESULT"))
    requests, status_errors, socket_errors, p50, p99, duration = map(int, line.split()[1:])
    ok = requests - status_errors
    return {"requests": requests, "refused": status_errors, "socket_errors": socket_errors,
            "accepted_events": ok * events, "p50_ms": p50 / 1000, "p99_ms": p99 / 1000,
            "seconds": duration / 1e6}


def acknowledged(app) -> int:
    """Events the web tier answered 202 for (its own counter: wrk misses requests in flight
    when it stops)."""
    return int(app.extensions["redis"].hget("pulseboard:metrics", "accepted") or 0)


def settle(app, timeout: float = 600) -> None:
    """Wait until everything acknowledged so far is stored (each run starts from rest)."""
    deadline = time.monotonic() + timeout
    while counted(app) < acknowledged(app) and time.monotonic() < deadline:
        time.sleep(0.2)


def run(stack, app, name: str, events: int, connections: int, seconds: int) -> dict:
    settle(app)
    before, acked_before = stored(app), acknowledged(app)
    counted_before = counted(app)
    result = wrk(stack.url, stack.ingest_key, events, connections, seconds)
    ended = time.monotonic()
    time.sleep(0.5)  # requests still in flight when wrk stopped are answered
    result["accepted_events"] = acknowledged(app) - acked_before
    expected = counted_before + result["accepted_events"]
    while counted(app) < expected and time.monotonic() - ended < 600:
        time.sleep(0.1)
    drained = time.monotonic() - ended
    time.sleep(1)
    final = stored(app)
    total = result["seconds"] + drained
    rate = round(result["accepted_events"] / result["seconds"])
    return {"run": name, **result, "accepted_per_s": rate,
            "persisted_per_s": round((final - before) / total), "drain_s": round(drained, 2),
            "stored": final - before, "exact": final - before == result["accepted_events"]
            and counted(app) - counted_before == final - before}


def http_ceiling(seconds: int) -> dict:
    """wrk at c=64 against bench/trivial.py under the same gunicorn settings and worker count."""
    port = free_port()
    env = dict(os.environ, PORT=str(port), WEB_CONCURRENCY="2", PULSEBOARD_ENV="development")
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--config",
                               "webapp/gunicorn_conf.py", "bench.trivial:app"],
                              cwd=ROOT, env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        url = f"http://127.0.0.1:{port}"
        wrk(url, "none", 1, 16, 2)  # warm up
        result = wrk(url, "none", 1, 64, seconds)
        return {"requests_per_s": round(result["requests"] / result["seconds"]),
                "p50_ms": result["p50_ms"], "p99_ms": result["p99_ms"]}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(20)


def with_dashboards(stack, count: int):
    url = urlsplit(stack.url)
    fleet = Fleet(url.hostname, url.port, "/stream?filter=hour",
                  {"Authorization": f"Bearer {stack.read_token}"}, count)
    fleet.open()
    stop = threading.Event()

    def pump():
        while not stop.is_set():
            fleet.poll(0.05)

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    return fleet, stop, thread


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--dashboards", type=int, default=100)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("make bench needs wrk: `sudo apt-get install wrk` (Debian/Ubuntu)", file=sys.stderr)
        return 2
    raise_open_file_limit()
    ceiling = http_ceiling(args.seconds)
    print(f"HTTP ceiling (bench/trivial.py, same gunicorn settings, c=64): {ceiling}", flush=True)
    rows = []
    with running(web_workers=2, concurrency=2) as stack:
        from webapp import create_app

        app = create_app({"DATABASE_URL": stack.database_url, "REDIS_URL": stack.redis_url,
                          "SECRET_KEY": "bench"})
        wrk(stack.url, stack.ingest_key, 1, 16, 3)  # warm up
        plan = [("single events, c=16", 1, 16), ("single events, c=64", 1, 64),
                ("arrays of 500, c=8", 500, 8)]
        for name, events, connections in plan:
            rows.append(run(stack, app, name, events, connections, args.seconds))
            print(rows[-1], flush=True)
        fleet, stop, thread = with_dashboards(stack, args.dashboards)
        try:
            for name, events, connections in plan[1:]:
                label = f"{name} + {args.dashboards} dashboards"
                rows.append(run(stack, app, label, events, connections, args.seconds))
                print(rows[-1], flush=True)
            pushes = sum(1 for c in fleet.clients for _ in c.events) / max(1, args.dashboards)
            print(f"each dashboard received {pushes:.0f} updates", flush=True)
        finally:
            stop.set()
            thread.join()
            fleet.close()
    print(f"\nHTTP ceiling here: {ceiling['requests_per_s']:,} requests/s at c=64 "
          f"(p50 {ceiling['p50_ms']:.1f} ms, p99 {ceiling['p99_ms']:.1f} ms)")
    print("\n| run | accepted events/s | persisted events/s | p50 | p99 | drain "
          "| stored = accepted |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['run']} | {r['accepted_per_s']:,} | {r['persisted_per_s']:,} | "
              f"{r['p50_ms']:.1f} ms | {r['p99_ms']:.1f} ms | {r['drain_s']} s | "
              f"{r['stored']:,} = {r['accepted_events']:,} {'yes' if r['exact'] else 'NO'} |")
    return 0 if all(r["exact"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
