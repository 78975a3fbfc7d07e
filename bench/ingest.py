"""`make bench`: accepted and persisted events per second, with and without dashboards open,
and with and without active alert rules."""

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
from contextlib import nullcontext
from pathlib import Path
from urllib.parse import urlsplit

from bench.sse_clients import Fleet
from bench.stack import ROOT, raise_open_file_limit, running
from webapp.dev.servers import free_port

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


def messages(app) -> int:
    """Queue messages the web tier wrote (each carries a group of requests' events)."""
    return int(app.extensions["redis"].hget("pulseboard:metrics", "messages") or 0)


def settle(app, timeout: float = 600) -> None:
    """Wait until everything acknowledged so far is stored (each run starts from rest)."""
    deadline = time.monotonic() + timeout
    while counted(app) < acknowledged(app) and time.monotonic() < deadline:
        time.sleep(0.2)


def cpu_seconds(groups: dict[str, list]) -> dict[str, float]:
    """CPU time (user + system) so far of each part's processes, with that of their children
    that have exited (a PostgreSQL backend that ends during a run takes its CPU time with it,
    and its parent, the postmaster, is credited with it once it has reaped it)."""
    import psutil

    totals = {}
    for name, processes in groups.items():
        totals[name] = 0.0
        for process in processes:
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            totals[name] += (times.user + times.system + times.children_user
                             + times.children_system)
    return totals


def run(stack, app, name: str, events: int, connections: int, seconds: int,
        trivial: Trivial, extra=nullcontext) -> dict:
    """One wrk run of Pulseboard (within `extra`: open dashboards, active rules), bracketed by
    runs of the trivial app at the same number of connections: the machine's speed drifts
    over minutes, so the share is of the mean of the two."""
    settle(app)
    ceiling = [trivial.measure(connections)]
    with extra() as present:
        groups = stack.process_groups()
        cpu_before = cpu_seconds(groups)
        before, acked_before = stored(app), acknowledged(app)
        counted_before, messages_before = counted(app), messages(app)
        result = wrk(stack.url, stack.ingest_key, events, connections, seconds)
        drained = drain(app, counted_before, acked_before)
        if isinstance(present, Dashboards):
            result["updates"] = round(present.updates())
    time.sleep(1)
    # Counted once everything has settled: a request answered after the first look is in both.
    result["accepted_events"] = acknowledged(app) - acked_before
    result["per_message"] = round(result["accepted_events"]
                                  / max(1, messages(app) - messages_before), 1)
    final = stored(app)
    cpu = cpu_seconds(groups)
    ceiling.append(trivial.measure(connections))
    result["cpu_us"] = {part: round((cpu[part] - cpu_before[part]) / max(1, final - before) * 1e6)
                        for part in cpu}
    total = result["seconds"] + drained
    rate = round(result["accepted_events"] / result["seconds"])
    return {"run": name, "connections": connections, "events": events, **result,
            "accepted_per_s": rate,
            "persisted_per_s": round((final - before) / total), "drain_s": round(drained, 2),
            "trivial_per_s": round(sum(ceiling) / len(ceiling)),
            "stored": final - before, "exact": final - before == result["accepted_events"]
            == counted(app) - counted_before}


def drain(app, counted_before: int, acked_before: int, answer_time: float = 0.5) -> float:
    """Seconds from wrk's end until every event acknowledged in the run is counted, polled
    from the end on. What was acknowledged is read once requests still in flight when wrk
    stopped have had `answer_time` to be answered; the drain may end before that."""
    ended = time.monotonic()
    seen: list[tuple[float, int]] = []
    expected = None
    while True:
        elapsed = time.monotonic() - ended
        seen.append((elapsed, counted(app)))
        if expected is None and elapsed >= answer_time:
            expected = counted_before + acknowledged(app) - acked_before
        if expected is not None and (seen[-1][1] >= expected or elapsed > 600):
            break
        time.sleep(0.02)
    return next((at for at, count in seen if count >= expected), seen[-1][0])


class Trivial:
    """bench/trivial.py under the same gunicorn settings and worker count, up for the whole
    benchmark: the most any webhook endpoint can answer here. Measured right before and after
    each of Pulseboard's runs, at its number of connections."""

    def __init__(self, seconds: int):
        self.seconds = seconds
        self.rates: dict[int, list[int]] = {}
        self.p99_ms: dict[int, list[float]] = {}

    def __enter__(self):
        self.port = free_port()
        env = dict(os.environ, PORT=str(self.port), WEB_CONCURRENCY="2",
                   PULSEBOARD_ENV="development")
        self.server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--config",
                                        "webapp/gunicorn_conf.py", "bench.trivial:app"],
                                       cwd=ROOT, env=env, start_new_session=True,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        self.url = f"http://127.0.0.1:{self.port}"
        wrk(self.url, "none", 1, 16, 2)  # warm up
        return self

    def measure(self, connections: int) -> int:
        result = wrk(self.url, "none", 1, connections, self.seconds)
        rate = round(result["requests"] / result["seconds"])
        self.rates.setdefault(connections, []).append(rate)
        self.p99_ms.setdefault(connections, []).append(result["p99_ms"])
        return rate

    def __exit__(self, *exc):
        os.killpg(self.server.pid, signal.SIGTERM)
        self.server.wait(20)


class Dashboards:
    """`count` open dashboards (SSE streams of the hour view), read by a thread while open."""

    def __init__(self, stack, count: int):
        url = urlsplit(stack.url)
        self.fleet = Fleet(url.hostname, url.port, "/stream?filter=hour",
                           {"Authorization": f"Bearer {stack.read_token}"}, count)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._pump, daemon=True)

    def _pump(self):
        while not self.stop.is_set():
            self.fleet.poll(0.05)

    def __enter__(self):
        self.fleet.open()
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self.fleet.close()

    def updates(self) -> float:
        """Updates each dashboard received so far (on average)."""
        return sum(1 for c in self.fleet.clients for _ in c.events) / len(self.fleet.clients)


class AlertRules:
    """`count` alert rules on the posted types, active only inside the block. None of them
    fires (their thresholds are out of reach), so what is measured is the checking."""

    def __init__(self, app, count: int):
        self.app, self.count, self.ids = app, count, []

    def create(self) -> None:
        from webapp.alerts import rules
        from webapp.models import Project

        shapes = ["bench_{t} > 1000000000 in 5 min", "bench_{t} > 1000000000 in 60 min",
                  "bench_{t} < 0 in 15 min", "* > 1000000000 in 1 min", "bench_{t} spike"]
        with self.app.app_context():
            project = Project.get(Project.slug == "default")
            for i in range(self.count):
                when = shapes[i % len(shapes)].format(t=i % 7)
                form = {"name": f"bench {i}", "when": when, "url": "http://127.0.0.1:9/",
                        "where": "page=/p/1" if i % 10 == 1 else "", "min_volume": "1000000"}
                values, errors = rules.validate(form, allow_private=True)
                assert not errors, errors
                self.ids.append(rules.create(project, {**values, "active": False}).id)

    def _set(self, active: bool) -> None:
        from webapp.models import AlertRule

        with self.app.app_context():
            AlertRule.update(active=active).where(AlertRule.id.in_(self.ids)).execute()
        time.sleep(2)  # workers see rule changes within a second

    def __enter__(self):
        self._set(True)
        return self

    def __exit__(self, *exc):
        self._set(False)


def compare(stack, app, name: str, events: int, connections: int, seconds: int,
            trivial: Trivial, what: str, extra, rounds: int) -> tuple[list[dict], list[float]]:
    """The workload without and with `extra` (a context: open dashboards, active rules), in
    rounds of four runs in the order without, with, with, without: the events table grows by
    every run, and a drift shared by both halves cancels out. On two busy cores one run's rate
    varies by a few percent (checkpoints, autovacuum), so the ratio is taken over `rounds`
    rounds. Returns the runs and, for each round then for all of them, persisted-with /
    persisted-without."""
    rows, ratios = [], []
    for _ in range(rounds):
        for with_them in (False, True, True, False):
            label = f"{name} + {what}" if with_them else name
            rows.append({**run(stack, app, label, events, connections, seconds, trivial,
                               extra if with_them else nullcontext), "with": with_them})
            print(rows[-1], flush=True)
        ratios.append(persisted_ratio(rows[-4:]))
    return rows, [*ratios, persisted_ratio(rows)]


def persisted_ratio(rows: list[dict]) -> float:
    """Persisted events/s of the runs with the extra over those of the runs without it."""
    with_them = sum(r["persisted_per_s"] for r in rows if r["with"])
    return with_them / sum(r["persisted_per_s"] for r in rows if not r["with"])


SINGLES = (1, 4, 16)  # lone senders' latency, then moderate load; c=64 runs with dashboards


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--trivial-seconds", type=int, default=5,
                        help="each run of the trivial app, before and after each run")
    parser.add_argument("--dashboards", type=int, default=100)
    parser.add_argument("--alert-rules", type=int, default=100,
                        help="active alert rules in the comparison with and without rules")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of each comparison with and without dashboards or rules "
                             "(four runs a round)")
    parser.add_argument("--only", choices=["all", "singles", "arrays", "dashboards", "alerts"],
                        default="all",
                        help="singles: single events only (c=1, 4, 16, 64); arrays: arrays of "
                             "500 only (two runs); dashboards: only the comparisons with and "
                             "without open dashboards; alerts: only the comparison with and "
                             "without alert rules")
    parser.add_argument("--quick", action="store_true", help="the same as --only singles")
    args = parser.parse_args()
    only = "singles" if args.quick else args.only
    if shutil.which("wrk") is None:
        print("make bench needs wrk: `sudo apt-get install wrk` (Debian/Ubuntu)", file=sys.stderr)
        return 2
    raise_open_file_limit()
    rows, ratios = [], []
    with Trivial(args.trivial_seconds) as trivial, running(web_workers=2,
                                                          concurrency=2) as stack:
        from webapp import create_app

        app = create_app({"DATABASE_URL": stack.database_url, "REDIS_URL": stack.redis_url,
                          "SECRET_KEY": "bench"})
        wrk(stack.url, stack.ingest_key, 1, 16, 3)  # warm up
        comparisons = []
        if only in ("all", "singles"):
            for connections in SINGLES:
                rows.append(run(stack, app, f"single events, c={connections}", 1, connections,
                                args.seconds, trivial))
                print(rows[-1], flush=True)
        if only == "singles":
            rows.append(run(stack, app, "single events, c=64", 1, 64, args.seconds, trivial))
            print(rows[-1], flush=True)
        if only == "arrays":
            for _ in range(2):
                rows.append(run(stack, app, "arrays of 500, c=8", 500, 8, args.seconds,
                                trivial))
                print(rows[-1], flush=True)
        if only in ("all", "dashboards"):
            dashboards = (f"{args.dashboards} dashboards",
                          lambda: Dashboards(stack, args.dashboards))
            comparisons += [("single events, c=64", 1, 64, *dashboards),
                            ("arrays of 500, c=8", 500, 8, *dashboards)]
        if only in ("all", "alerts") and args.alert_rules:
            rules = AlertRules(app, args.alert_rules)
            rules.create()
            # at c=64, where the machine, not a lone sender's latency, bounds single events
            comparisons.append(("single events, c=64", 1, 64, f"{args.alert_rules} alert rules",
                                lambda: rules))
        for name, events, connections, what, extra in comparisons:
            runs, ratio = compare(stack, app, name, events, connections, args.seconds,
                                  trivial, what, extra, args.rounds)
            rows += runs
            ratios.append((name, what, ratio))
    report(trivial, rows, ratios)
    return 0 if all(r["exact"] for r in rows) else 1


def report(trivial: Trivial, rows: list[dict], ratios: list) -> None:
    print("\ntrivial app here (requests/s, each run): " + "; ".join(
        f"c={c}: {', '.join(f'{rate:,}' for rate in rates)} (p99 "
        f"{min(trivial.p99_ms[c]):.1f}-{max(trivial.p99_ms[c]):.1f} ms)"
        for c, rates in sorted(trivial.rates.items())))
    print("\nShares are requests/s (events/s divided by events per request) as a fraction of "
          "the trivial app's requests/s at the same number of connections, measured right "
          "before and after the run (mean of the two).")
    print("Persisted counts the run and its drain: from wrk's end until the last event it was "
          "answered for is stored.")
    print("CPU is microseconds per stored event, over the run and its drain: web, worker, "
          "PostgreSQL, Redis.")
    print("\n| run | accepted events/s | share | persisted events/s | share | trivial req/s "
          "| p50 | p99 | drain | refused | events per message | CPU us/event "
          "| stored = accepted | updates per dashboard |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ceiling = r["trivial_per_s"] * r["events"]
        print(f"| {r['run']} | {r['accepted_per_s']:,} | {r['accepted_per_s'] / ceiling:.2f} | "
              f"{r['persisted_per_s']:,} | {r['persisted_per_s'] / ceiling:.2f} | "
              f"{r['trivial_per_s']:,} | "
              f"{r['p50_ms']:.1f} ms | {r['p99_ms']:.1f} ms | {r['drain_s']} s | "
              f"{r['refused']:,} | {r['per_message']} | "
              f"{' / '.join(str(v) for v in r['cpu_us'].values())} | "
              f"{r['stored']:,} = {r['accepted_events']:,} {'yes' if r['exact'] else 'NO'} | "
              f"{r.get('updates', '')} |")
    print()
    for name, what, (*rounds, overall) in ratios:
        print(f"{name}: persisted with {what} = {overall:.0%} of the rate without them over "
              f"{len(rounds)} round(s) of the runs without, with, with, without (each round: "
              f"{', '.join(f'{ratio:.0%}' for ratio in rounds)})")


if __name__ == "__main__":
    sys.exit(main())
