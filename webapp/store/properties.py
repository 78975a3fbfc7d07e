"""The property index: each project's metadata keys and the top values of each key, counted as
the worker stores events, in bounded Redis sorted sets that the pickers read
(`webapp.reads.suggestions`) instead of scanning events.

Bounds, so that neither Redis nor a commit ever does more than a fixed amount of work:
- a project keeps at most MAX_KEYS keys, and each key at most MAX_VALUES values; keys and
  values longer than MAX_CHARS characters are not indexed;
- a commit of more than SAMPLE_EVENTS events is counted over that many of them, drawn at
  random (each standing for its share of the commit); of each, the first KEYS_PER_EVENT keys
  of its metadata are looked at;
- a commit updates at most KEYS_PER_COMMIT keys (its most frequent), each with at most
  VALUES_PER_COMMIT values (the key's most frequent in the commit), in one script run inside
  the pipeline the worker sends after the commit anyway (no round trip of its own).
A commit of 500 events with seven keys costs the worker 0.6-0.8 ms of Python and Redis
0.45-0.6 ms of script, beside 13-70 ms for the commit's insert (medians measured on two shared
cores by tests/integration/store/test_properties.py, which prints the three figures).

Counts are approximate, and say so where they are shown. A full set keeps its most frequent
members by the Space-Saving algorithm (Metwally et al., 2005): a newcomer takes the place of
the least counted member and starts from that member's count plus its own, so a member that is
frequent overall is kept (and its count is never understated by eviction), while a newcomer's
count may be overstated by up to the count it inherited. Large commits are counted from their
sample; members a commit leaves out beyond its bounds are not counted for that commit. A
batch stored again (a redelivery whose rows were all there already) is not counted again; one
stored partly again is.

Values are indexed as `metadata->>key` prints them, so that a value picked is one a condition
(`where=metadata.plan=pro`) matches: text as it is, `true`/`false`, whole numbers. Null, the
empty string, objects, arrays and numbers with a fraction or an exponent (their text as stored
depends on how the sender wrote them) are not offered; their keys are still counted.

A project that stores nothing for KEEP_SECONDS forgets its index (as its event types leave the
pickers, which count the last 30 days of rollups); keys of an active project are only pushed
out by more frequent ones. `rebuild` makes a project's index again from its recent events."""

from __future__ import annotations

from datetime import datetime
from heapq import nlargest
from itertools import islice
from operator import itemgetter
from random import Random

from webapp.db import database

MAX_KEYS = 200
MAX_VALUES = 50
MAX_CHARS = 100
KEYS_PER_EVENT = 50
SAMPLE_EVENTS = 100
KEYS_PER_COMMIT = 64
VALUES_PER_COMMIT = 10
KEEP_SECONDS = 30 * 86400
RANDOM = Random()


def keys_key(project_id: int) -> str:
    """Sorted set of the project's metadata keys, scored by the events they were seen in."""
    return f"pulseboard:props:{project_id}:keys"


def values_prefix(project_id: int) -> str:
    return f"pulseboard:props:{project_id}:values:"


def values_key(project_id: int, key: str) -> str:
    """Sorted set of the top values of one of the project's keys, scored by events."""
    return values_prefix(project_id) + key


# KEYS: the project's keys set
# ARGV: the values sets' prefix, MAX_KEYS, MAX_VALUES, KEEP_SECONDS, then for each key: the
# key, its count, how many values follow, then value, count, value, count...
# A key pushed out of the keys set takes its values set with it, so the index holds at most
# MAX_KEYS values sets, each of at most MAX_VALUES members.
RECORD = """
local function adder(set, cap)
  local size = redis.call('ZCARD', set)
  return function(member, n)
    if redis.call('ZADD', set, 'XX', 'INCR', n, member) then
      return false
    end
    if size < cap then
      size = size + 1
      redis.call('ZADD', set, n, member)
      return false
    end
    local least = redis.call('ZPOPMIN', set)
    redis.call('ZADD', set, tonumber(least[2]) + n, member)
    return least[1]
  end
end
local prefix, ttl = ARGV[1], tonumber(ARGV[4])
local max_values = tonumber(ARGV[3])
local add_key = adder(KEYS[1], tonumber(ARGV[2]))
local i = 5
while i <= #ARGV do
  local key, n, count = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local dropped = add_key(key, n)
  if dropped then
    redis.call('DEL', prefix .. dropped)
  end
  if count > 0 then
    local values = prefix .. key
    local add_value = adder(values, max_values)
    for j = i + 3, i + 1 + 2 * count, 2 do
      add_value(ARGV[j], ARGV[j + 1])
    end
    redis.call('EXPIRE', values, ttl)
  end
  i = i + 3 + 2 * count
end
redis.call('EXPIRE', KEYS[1], ttl)
return 0
"""


def value_text(value) -> str | None:
    """A metadata value as `metadata->>key` prints it, when it is one the index offers."""
    kind = type(value)
    if kind is str:
        return value if 0 < len(value) <= MAX_CHARS else None
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    return None


def sample(events: list[dict], rng: Random = RANDOM) -> tuple[list[dict], float]:
    """At most SAMPLE_EVENTS of a commit's events, drawn at random (a fixed stride would
    follow any pattern in the order of a batch), and how many events each stands for."""
    if len(events) <= SAMPLE_EVENTS:
        return events, 1.0
    return rng.sample(events, SAMPLE_EVENTS), len(events) / SAMPLE_EVENTS


def tally(events: list[dict], rng: Random = RANDOM
          ) -> list[tuple[str, float, list[tuple[str, float]]]]:
    """(key, events with it, [(value, events with it)]) for the keys a commit updates, most
    frequent first, within the per-event and per-commit bounds; counted over a sample of the
    events when there are more than SAMPLE_EVENTS, and scaled to all of them."""
    taken, weight = sample(events, rng)
    keys: dict[str, int] = {}
    values: dict[str, dict[str, int]] = {}
    for event in taken:  # (plain dicts: this loop is most of what the index costs a commit)
        metadata = event.get("meta")
        if not metadata:
            continue
        items = metadata.items()
        for key, value in items if len(metadata) <= KEYS_PER_EVENT else islice(
                items, KEYS_PER_EVENT):
            if 0 < len(key) <= MAX_CHARS:
                keys[key] = keys.get(key, 0) + 1
                if (text := value_text(value)) is not None:
                    counts = values.get(key)
                    if counts is None:
                        counts = values[key] = {}
                    counts[text] = counts.get(text, 0) + 1
    chosen = nlargest(KEYS_PER_COMMIT, keys.items(), key=itemgetter(1))
    # (ties keep the order in which the batch first showed them)
    return [(key, n * weight,
             [(text, count * weight) for text, count in
              nlargest(VALUES_PER_COMMIT, values.get(key, {}).items(), key=itemgetter(1))])
            for key, n in chosen]


def record(pipe, project_id: int, events: list[dict]) -> None:
    """Queue on `pipe` (a pipeline, which the caller executes) the index's update for a
    commit's events (stored form: metadata in "meta"); nothing when none has metadata."""
    args: list = [values_prefix(project_id), MAX_KEYS, MAX_VALUES, KEEP_SECONDS]
    for key, n, values in tally(events):
        args += [key, n, len(values)]
        for text, count in values:
            args += [text, count]
    if len(args) > 4:
        pipe.eval(RECORD, 1, keys_key(project_id), *args)



def forget(redis, project_id: int) -> None:
    """Drop a project's index (its values sets are named by its keys set)."""
    names = [values_key(project_id, key.decode())
             for key in redis.zrange(keys_key(project_id), 0, -1)]
    redis.delete(keys_key(project_id), *names)


def rebuild(redis, project_id: int, since: datetime, chunk: int = SAMPLE_EVENTS) -> int:
    """The project's index made again from its events since `since`, read in chunks from a
    server-side cursor and counted as commits of `chunk` events are (of SAMPLE_EVENTS by
    default: every event counted). For `flask properties rebuild`, never at read time.
    Returns how many events were read."""
    forget(redis, project_id)
    read, name = 0, f"properties_{project_id}"
    with database.atomic():
        database.execute_sql(
            f"DECLARE {name} NO SCROLL CURSOR FOR SELECT metadata FROM event "
            'WHERE project_id = %s AND "timestamp" >= %s', (project_id, since))
        while rows := database.execute_sql(f"FETCH {int(chunk)} FROM {name}").fetchall():
            pipe = redis.pipeline(transaction=False)
            record(pipe, project_id, [{"meta": metadata} for (metadata,) in rows])
            pipe.execute()
            read += len(rows)
    return read
