"""What the pickers offer for a project, most frequent first: its event types with their counts
over the last 30 days (from the hourly rollups, cached a minute), its metadata keys and the top
values of a key (from the property index the worker keeps, `webapp.store.properties`), each
optionally only those starting with a prefix. Never a scan of events. Reading the index
raises RedisError while Redis is away."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson
from redis import Redis
from redis.exceptions import RedisError

from webapp.db import database
from webapp.models import iso
from webapp.store import properties

TYPES_DAYS = 30
MAX_TYPES = 500
TYPES_CACHE_SECONDS = 60  # a new event type reaches the pickers within a minute
MAX_KEYS = properties.MAX_KEYS
MAX_VALUES = properties.MAX_VALUES
MAX_CHARS = properties.MAX_CHARS

TYPES_SQL = """
SELECT event_type, sum(count) FROM event_rollup_hour
WHERE project_id = %s AND hour >= %s
GROUP BY event_type ORDER BY 2 DESC, event_type COLLATE "C" LIMIT %s
"""


@dataclass(frozen=True)
class Suggestion:
    """A thing a picker offers and how many events it was seen in."""

    value: str
    count: int

    def as_json(self) -> dict:
        return {"value": self.value, "count": self.count}


def starting_with(found: list[Suggestion], prefix: str, limit: int) -> list[Suggestion]:
    """Those of `found` that start with `prefix`, ignoring case, at most `limit`."""
    folded = prefix.casefold()
    return [s for s in found if s.value.casefold().startswith(folded)][:limit]


def types_since(now: datetime) -> datetime:
    """Start of the event types' window: the hour TYPES_DAYS days before `now`'s."""
    return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(
        days=TYPES_DAYS)


def types_key(project_id: int) -> str:
    return f"pulseboard:suggest:types:{project_id}"


def event_types(redis: Redis, project_id: int, now: datetime, prefix: str = "",
                limit: int = MAX_TYPES) -> tuple[list[Suggestion], datetime]:
    """The project's event types of the last TYPES_DAYS days with their counts (at most
    MAX_TYPES, the most frequent), and the start of those days. The whole list is cached
    for TYPES_CACHE_SECONDS, so a picker asking at each keystroke costs one Redis read (or,
    while Redis is away, a query of the rollups)."""
    since = types_since(now)
    try:
        cached = redis.get(types_key(project_id))
    except RedisError:
        cached = None
    if cached is None:
        rows = database.execute_sql(TYPES_SQL, (project_id, since, MAX_TYPES)).fetchall()
        found = [Suggestion(kind, int(n)) for kind, n in rows]
        with suppress(RedisError):
            redis.set(types_key(project_id), orjson.dumps([[s.value, s.count] for s in found]),
                      ex=TYPES_CACHE_SECONDS)
    else:
        found = [Suggestion(kind, n) for kind, n in orjson.loads(cached)]
    return starting_with(found, prefix, limit), since


def ranked(found: list[tuple[bytes, float]]) -> list[Suggestion]:
    """A sorted set's members and scores (counts: whole, or estimates) as suggestions."""
    return [Suggestion(member.decode(), round(score)) for member, score in found]


def _top(redis: Redis, name: str, cap: int) -> list[Suggestion]:
    return ranked(redis.zrevrange(name, 0, cap - 1, withscores=True))


def property_keys(redis: Redis, project_id: int, prefix: str = "",
                  limit: int = MAX_KEYS) -> list[Suggestion]:
    """The project's metadata keys with (approximate) counts of events carrying them."""
    return starting_with(_top(redis, properties.keys_key(project_id), MAX_KEYS), prefix,
                         limit)


def property_values(redis: Redis, project_id: int, key: str, prefix: str = "",
                    limit: int = MAX_VALUES) -> list[Suggestion]:
    """The top values of one of the project's keys with (approximate) counts of events."""
    return starting_with(_top(redis, properties.values_key(project_id, key), MAX_VALUES),
                         prefix, limit)


def values_of_keys(redis: Redis, project_id: int, keys: list[str]) -> dict[str, list[Suggestion]]:
    """The top values of each of `keys` (those longer than MAX_CHARS have none), in one
    round trip."""
    pipe = redis.pipeline(transaction=False)
    for key in keys:
        pipe.zrevrange(properties.values_key(project_id, key), 0, MAX_VALUES - 1,
                       withscores=True)
    return {key: ranked(found) for key, found in zip(keys, pipe.execute(), strict=True)}


def types_answer(found: list[Suggestion], since: datetime, prefix: str) -> dict:
    return {"prefix": prefix, "since": iso(since), "days": TYPES_DAYS, "approximate": False,
            "suggestions": [s.as_json() for s in found]}


def keys_answer(found: list[Suggestion], prefix: str) -> dict:
    return {"prefix": prefix, "approximate": True, "suggestions": [s.as_json() for s in found]}


def values_answer(found: list[Suggestion], key: str, prefix: str) -> dict:
    return {"key": key, "prefix": prefix, "approximate": True,
            "suggestions": [s.as_json() for s in found]}
