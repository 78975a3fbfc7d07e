"""The property index in Redis: bounded however many keys and values arrive, keeping the most
frequent, and cheap beside the commit it follows."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from random import Random

import orjson

from webapp.ingest import accept
from webapp.store import insert, properties
from webapp.store.properties import KEEP_SECONDS, MAX_KEYS, MAX_VALUES


def record(redis, project_id: int, events: list[dict]) -> None:
    pipe = redis.pipeline(transaction=False)
    properties.record(pipe, project_id, events)
    pipe.execute()


def index(redis, project_id: int) -> dict[str, float]:
    return {k.decode(): s for k, s in redis.zrange(properties.keys_key(project_id), 0, -1,
                                                   withscores=True)}


def test_the_index_stays_bounded_and_keeps_the_most_frequent(redis, project):
    rng = Random(5)
    commits = 60
    for c in range(commits):
        # each commit: the same frequent key, and a crowd of keys and values never seen again
        batch = [{"meta": {"plan": "pro" if n % 3 else "free",
                           **{f"once_{c}_{n}_{i}": f"v{rng.random()}" for i in range(8)},
                           "page": f"/page/{c}/{n}"}} for n in range(10)]
        record(redis, project.id, batch)
    keys = index(redis, project.id)
    assert len(keys) == MAX_KEYS
    # never pushed out, so counted exactly: every event carried them
    assert keys["plan"] == keys["page"] == commits * 10
    stored = [name.decode() for name in redis.scan_iter(properties.values_prefix(project.id) + "*")]
    assert len(stored) <= MAX_KEYS
    # a values set exists only for a key the index holds
    assert {name.removeprefix(properties.values_prefix(project.id)) for name in stored} <= set(keys)
    for name in stored:
        assert redis.zcard(name) <= MAX_VALUES
        assert 0 < redis.ttl(name) <= KEEP_SECONDS
    assert 0 < redis.ttl(properties.keys_key(project.id)) <= KEEP_SECONDS
    plans = dict(redis.zrange(properties.values_key(project.id, "plan"), 0, -1, withscores=True))
    assert plans == {b"pro": commits * 6, b"free": commits * 4}
    pages = redis.zcard(properties.values_key(project.id, "page"))
    assert pages == MAX_VALUES  # 600 pages seen, the set keeps 50


def test_a_newcomer_to_a_full_set_takes_the_place_and_count_of_the_least(redis, project):
    for start in range(0, MAX_KEYS, 50):  # (a commit updates at most 64 keys)
        record(redis, project.id, [{"meta": {f"k{i:03}": "x"}} for i in range(start, start + 50)])
    record(redis, project.id, [{"meta": {"k000": "y"}}])  # k000 now 2, the others 1
    record(redis, project.id, [{"meta": {"newcomer": "z"}}])
    keys = index(redis, project.id)
    assert len(keys) == MAX_KEYS and keys["k000"] == 2
    assert keys["newcomer"] == 2  # the least counted (1), plus its own event
    assert "k001" not in keys  # the least counted, first by name
    # its values went with it
    assert redis.exists(properties.values_key(project.id, "k001")) == 0
    assert redis.zrange(properties.values_key(project.id, "newcomer"), 0, -1) == [b"z"]


def test_what_the_index_adds_to_a_commit_of_500_events(app, redis, project, capsys):
    """The figures quoted in webapp/store/properties.py: the index's Python and Redis time
    for a commit of 500 events with a handful of keys, beside the insert's own."""
    rng, now = Random(3), datetime.now(UTC)
    redis.config_set("slowlog-log-slower-than", 0)
    inserts, pythons, scripts = [], [], []
    for _ in range(10):
        body = [{"eventType": rng.choice(["view", "signup", "buy"]), "userId": str(rng.random()),
                 "metadata": {"plan": rng.choice(["free", "pro", "team"]),
                              "page": f"/docs/{rng.randrange(300)}",
                              "country": rng.choice(["DE", "FR", "US", "JP"]),
                              "amount": rng.randrange(500), "price": rng.random(),
                              "ok": rng.random() < 0.5,
                              "referrer": f"https://example.com/{rng.random()}"}}
                for _ in range(500)]
        payload = accept.prepare(orjson.dumps(body), now).payload
        started = time.perf_counter()
        with app.app_context():
            assert insert.store_batch(project.id, payload) == 500
        inserted = time.perf_counter()
        pipe = redis.pipeline(transaction=False)
        properties.record(pipe, project.id, payload)
        tallied = time.perf_counter()
        redis.slowlog_reset()
        pipe.execute()
        inserts.append(inserted - started)
        pythons.append(tallied - inserted)
        scripts.append(max(entry["duration"] for entry in redis.slowlog_get(10)
                           if entry["command"].startswith(b"EVAL")) / 1e6)
    redis.config_set("slowlog-log-slower-than", 10000)
    median = sorted(inserts)[5], sorted(pythons)[5], sorted(scripts)[5]
    with capsys.disabled():
        print("\na commit of 500 events: insert {:.1f} ms; the index: Python {:.2f} ms, its "
              "Redis script {:.2f} ms (medians of 10)".format(*(1000 * m for m in median)))
    assert index(redis, project.id)["plan"] == 5000
    # well under the insert's own time (a generous bound: the machine may be busy)
    assert median[1] + median[2] < median[0] / 2


def test_the_command_makes_a_project_index_again_from_its_events(app, redis, project):
    now = datetime.now(UTC)
    body = [{"eventType": "e", "userId": str(n), "metadata": {"plan": ["pro", "free"][n % 2],
                                                              f"only_{n % 3}": True}}
            for n in range(240)]
    with app.app_context():
        assert insert.store_batch(project.id, accept.prepare(orjson.dumps(body), now)
                                  .payload) == 240
    record(redis, project.id, [{"meta": {"stale": "x"}}])  # what the index held before
    runner = app.test_cli_runner()
    for _ in range(2):  # made again, not added to
        done = runner.invoke(args=["properties", "rebuild", "--days", "1"])
        assert done.exit_code == 0, done.output
        assert "240 events of the last 1 days indexed" in done.output
        assert index(redis, project.id) == {"plan": 240, "only_0": 80, "only_1": 80,
                                            "only_2": 80}
        assert dict(redis.zrange(properties.values_key(project.id, "plan"), 0, -1,
                                 withscores=True)) == {b"pro": 120, b"free": 120}
    assert redis.exists(properties.values_key(project.id, "stale")) == 0
    refused = runner.invoke(args=["properties", "rebuild", "nowhere"])
    assert refused.exit_code != 0 and "no project 'nowhere'" in refused.output
