"""The worker's after-commit hook: cheap enough for every batch. It tallies property-filtered
rules from the batch in hand and asks for one evaluation of the project per second at most."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import orjson

from webapp.alerts.counts import tally_key
from webapp.models import AlertRule

log = logging.getLogger(__name__)
CACHE_SECONDS = 1.0  # a rule change reaches the workers' commits within this
EVALUATE_EVERY_MS = 800  # at most one evaluation of a project per (a little under) a second
EVALUATE_AFTER_S = 1.0  # ...which runs once the commits of that second have landed


@dataclass
class Watch:
    """What a project's active rules look at."""

    types: set[str] = field(default_factory=set)
    every_type: bool = False
    tallies: list[tuple[int, str | None, str, str, int]] = field(default_factory=list)

    def concerns(self, events: list[dict]) -> bool:
        return self.every_type or any(event["type"] in self.types for event in events)


_cache: dict[int, tuple[float, Watch | None]] = {}


def load(project_id: int) -> Watch | None:
    rows = (AlertRule.select(AlertRule.id, AlertRule.kind, AlertRule.event_type,
                             AlertRule.property_key, AlertRule.property_value,
                             AlertRule.window_minutes)
            .where(AlertRule.project == project_id, AlertRule.active,
                   AlertRule.saved_report.is_null()).tuples())  # trends have their own check
    watch = None
    for rule_id, kind, event_type, key, value, minutes in rows:
        watch = watch or Watch()
        if event_type is None:
            watch.every_type = True
        else:
            watch.types.add(event_type)
        if kind == "threshold" and key:
            watch.tallies.append((rule_id, event_type, key, value, minutes))
    return watch


def watch_for(project_id: int) -> Watch | None:
    """The project's rules as last loaded, reloaded once a second; alerts never fail a commit
    (the rules cannot be read: the last ones known, and the periodic check catches up)."""
    now = time.monotonic()
    cached = _cache.get(project_id)
    if cached is None or now - cached[0] > CACHE_SECONDS:
        try:
            cached = _cache[project_id] = (now, load(project_id))
        except Exception as exc:
            log.warning("alert rules of project %d not read: %s", project_id, exc)
            return cached[1] if cached else None
    return cached[1]


def as_text(value) -> str:
    """A metadata value as a filter compares it: strings as they are, anything else as JSON
    (`code=500` matches 500 and "500", `beta=true` matches true)."""
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def matches(event: dict, event_type: str | None, key: str, value: str) -> bool:
    meta = event.get("meta") or {}
    return ((event_type is None or event["type"] == event_type) and key in meta
            and as_text(meta[key]) == value)


def due_key(project_id: int) -> str:
    return f"pulseboard:alerts:due:{project_id}"


def on_commit(pipe, project_id: int, events: list[dict], inserted: int) -> int | None:
    """Queue on `pipe` the batch's property tallies and the claim of the project's next
    evaluation; returns that claim's position among the results, or None (no rule concerned).

    Tallies count a batch once it stored rows; a redelivered batch stores none and counts
    nothing (one partly stored before counts its earlier rows again: tallies are for alerting,
    not reports)."""
    watch = watch_for(project_id)
    if watch is None or not inserted or not watch.concerns(events):
        return None
    for rule_id, event_type, key, value, minutes in watch.tallies:
        per_minute: dict[str, int] = {}
        for event in events:
            if matches(event, event_type, key, value):
                minute = event["ts"][:16]  # "YYYY-MM-DDTHH:MM", always UTC
                per_minute[minute] = per_minute.get(minute, 0) + 1
        for minute, n in per_minute.items():
            pipe.hincrby(tally_key(rule_id), minute, n)
        if per_minute:
            pipe.expire(tally_key(rule_id), minutes * 60 + 120)
    pipe.set(due_key(project_id), 1, nx=True, px=EVALUATE_EVERY_MS)
    return len(pipe) - 1
