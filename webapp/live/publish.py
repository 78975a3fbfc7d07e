"""Live updates, the worker side: mark a project changed, and push its panels and its boards'
tiles coalesced."""

from __future__ import annotations

import hashlib
import logging
import re
import time
from datetime import UTC, datetime

from flask import current_app
from flask_sse import ServerSentEventsBlueprint
from redis import Redis

from webapp.ingest.journal import pending_key
from webapp.live import tiles
from webapp.live.panels import render_fragments
from webapp.models import Project
from webapp.reads.windows import WINDOWS

log = logging.getLogger(__name__)

PREFIX = "pulseboard:live:"
PUSH_INTERVAL_MS = 250  # at most ~4 pushes a second per project while its store keeps up
BEHIND_INTERVAL_MS = 1000  # at most one a second while the store is further behind than that
PUSH_TASK = "pulseboard.push_live"
BETWEEN_TAGS = re.compile(r">\s+<")


WATCH_TTL = 30  # seconds a web process's claim to have streams on a channel lasts unrefreshed


BOARD = "board-"  # a board's channel is named as a filter: "board-<id>"


def channel(project_id: int, filter_name: str) -> str:
    return f"{PREFIX}{project_id}:{filter_name}"


def board_channel(board_id: int) -> str:
    """The filter name of a board's channel (its tabs watch it as a dashboard tab does a
    filter)."""
    return f"{BOARD}{board_id}"


def watched_key(project_id: int | str) -> str:
    """Sorted set of "<filter>|<web process>" scored by when the claim lapses."""
    return f"pulseboard:watched:{project_id}"


def watched_filters(redis: Redis, project_id: int) -> set[str]:
    """Filters of the project that some open tab is watching now."""
    members = redis.zrangebyscore(watched_key(project_id), time.time(), "+inf")
    return {member.decode().partition("|")[0] for member in members}


class SharedClientSSE(ServerSentEventsBlueprint):
    """flask-sse's publish, through the app's one Redis client instead of a new one per call."""

    @property
    def redis(self) -> Redis:
        return current_app.extensions["redis"]


sse = SharedClientSSE("sse", __name__)


# Take the push lock only when some tab watches the project, for the push interval: the
# short one unless the project's oldest batch waiting to be stored (journal.pending_key) is
# older than it, then the long one. Returns the interval taken, 0 when no push is due.
LOCK_IF_WATCHED = """
if redis.call('ZCOUNT', KEYS[1], ARGV[1], '+inf') == 0 then
  return 0
end
local interval = tonumber(ARGV[2])
local oldest = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')[2]
if oldest and (tonumber(ARGV[1]) - tonumber(oldest)) * 1000 > interval then
  interval = tonumber(ARGV[3])
end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', interval) then
  return interval
end
return 0
"""


def note_dirty(pipe, project_id: int) -> int:
    """Queue on `pipe`: mark the project changed and, when a tab watches it and no push is
    scheduled yet, take the push lock. Returns the position among the pipeline's results of
    the milliseconds until the push that is due, 0 if none is (for `schedule_push`).

    While the store keeps up, pushes come every PUSH_INTERVAL_MS. Once the project's batches
    wait longer than that to be stored, a push could not show them sooner anyway, and each
    one takes a worker's time from storing them: pushes then come every BEHIND_INTERVAL_MS
    until the store has caught up."""
    now = time.time()
    pipe.set(f"pulseboard:dirty:{project_id}", now)
    pipe.eval(LOCK_IF_WATCHED, 3, watched_key(project_id),
              f"pulseboard:push-lock:{project_id}", pending_key(project_id), now,
              PUSH_INTERVAL_MS, BEHIND_INTERVAL_MS)
    return len(pipe) - 1


def schedule_push(celery, project_id: int, due_ms: int) -> None:
    """The push `note_dirty` found due in `due_ms` (a tab that opens later asks for a push
    itself)."""
    if due_ms:
        celery.send_task(PUSH_TASK, args=[project_id], countdown=due_ms / 1000, queue="live")


def mark_dirty(redis: Redis, celery, project_id: int) -> None:
    """After a commit: mark the project changed and schedule a push if a tab watches it."""
    pipe = redis.pipeline(transaction=False)
    at = note_dirty(pipe, project_id)
    schedule_push(celery, project_id, pipe.execute()[at])


def last_key(project_id: int) -> str:
    """Hash of filter -> digest of the panels last published on its channel."""
    return f"pulseboard:live:last:{project_id}"


def refresh(redis: Redis, celery, project_id: int, filter_name: str) -> None:
    """A tab has just connected: push the filter's current panels even if they are what was
    last published (the tab may have missed that push while it reconnected)."""
    redis.hdel(last_key(project_id), filter_name)
    mark_dirty(redis, celery, project_id)


def one_line(html: str) -> str:
    """The same HTML on one line (one SSE data line): whitespace between tags dropped,
    newlines in text written as character references."""
    return BETWEEN_TAGS.sub("><", html).strip().replace("\r", "&#13;").replace("\n", "&#10;")


def publish_changed(redis: Redis, project_id: int, name: str, update: str) -> bool:
    """Publish the update on the channel unless it is what was last published there."""
    digest = hashlib.sha1(update.encode()).hexdigest()
    published = last_key(project_id)
    if redis.hget(published, name) == digest.encode():
        return False  # nothing visible changed
    redis.hset(published, name, digest)
    sse.publish(update, type="update", channel=channel(project_id, name))
    return True


def board_update(project_id: int, board_id: int, now: datetime, budget_ms: float) -> str:
    """Every tile body of the board as one update (a tab that fell behind is sent only the
    newest, so each update holds the whole board); a tile's content is rendered again only
    when its result changed."""
    project = Project.get_or_none(Project.id == project_id)
    if project is None:
        return ""
    return "".join(one_line(view.body)
                   for view in tiles.views(project, board_id, now, budget_ms))


def push(redis: Redis, project_id: int) -> bool:
    """Render the panels of each watched filter once, and the tiles of each watched board, and
    publish each as one update; False when idle."""
    watched = watched_filters(redis, project_id)
    if not watched:
        return False
    dirty_since = redis.getdel(f"pulseboard:dirty:{project_id}")
    if dirty_since is None:
        return False
    now = datetime.now(UTC)
    for name, window in WINDOWS.items():
        if name not in watched:
            continue
        update = "".join(one_line(html) for html in
                         render_fragments(project_id, window, now).values())
        publish_changed(redis, project_id, name, update)
    started = time.monotonic()
    for name in sorted(name for name in watched if name.startswith(BOARD)):
        board_id = name.removeprefix(BOARD)
        if not board_id.isdecimal():
            continue
        left = tiles.BUDGET_MS - (time.monotonic() - started) * 1000
        update = board_update(project_id, int(board_id), now, left)
        if update:
            publish_changed(redis, project_id, name, update)
    latency = time.time() - float(dirty_since)
    redis.hset("pulseboard:live:stats", mapping={"last_push_latency": f"{latency:.4f}",
                                                 "last_push_at": f"{time.time():.3f}"})
    redis.hincrby("pulseboard:live:stats", "pushes", 1)
    return True
