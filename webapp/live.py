"""Live updates: coalesced pushes from the worker, one Redis subscription per web process."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

from flask import current_app
from flask_sse import Message, ServerSentEventsBlueprint
from redis import Redis

from .groupcommit import cooperative
from .windows import WINDOWS

log = logging.getLogger(__name__)

PREFIX = "pulseboard:live:"
PUSH_INTERVAL_MS = 250  # at most ~4 pushes a second per project, whatever the event rate
PUSH_TASK = "pulseboard.push_live"
BETWEEN_TAGS = re.compile(r">\s+<")


WATCH_TTL = 30  # seconds a web process's claim to have streams on a channel lasts unrefreshed


def channel(project_id: int, filter_name: str) -> str:
    return f"{PREFIX}{project_id}:{filter_name}"


def watched_key(project_id: int | str) -> str:
    """Sorted set of "<filter>|<web process>" scored by when the claim lapses."""
    return f"pulseboard:watched:{project_id}"


def watched_filters(redis: Redis, project_id: int) -> set[str]:
    """Filters of the project that some open tab is watching now."""
    members = redis.zrangebyscore(watched_key(project_id), time.time(), "+inf")
    return {member.decode().partition("|")[0] for member in members}


# --- publishing (worker side) ----------------------------------------------------------------


class SharedClientSSE(ServerSentEventsBlueprint):
    """flask-sse's publish, through the app's one Redis client instead of a new one per call."""

    @property
    def redis(self) -> Redis:
        return current_app.extensions["redis"]


sse = SharedClientSSE("sse", __name__)


def mark_dirty(redis: Redis, celery, project_id: int) -> None:
    """After a commit: schedule one push for the project unless one is already scheduled or
    no tab watches it (a tab that opens later asks for a push itself)."""
    pipe = redis.pipeline(transaction=False)
    pipe.set(f"pulseboard:dirty:{project_id}", time.time())
    pipe.zcount(watched_key(project_id), time.time(), "+inf")
    _, watchers = pipe.execute()
    if not watchers:
        return
    if redis.set(f"pulseboard:push-lock:{project_id}", 1, nx=True, px=PUSH_INTERVAL_MS):
        celery.send_task(PUSH_TASK, args=[project_id], countdown=PUSH_INTERVAL_MS / 1000,
                         queue="live")


def one_line(html: str) -> str:
    """The same HTML on one line (one SSE data line): whitespace between tags dropped,
    newlines in text written as character references."""
    return BETWEEN_TAGS.sub("><", html).strip().replace("\r", "&#13;").replace("\n", "&#10;")


def push(redis: Redis, project_id: int) -> bool:
    """Render the panels of each watched filter once and publish them as one update; False
    when idle."""
    from .panels import render_fragments

    watched = watched_filters(redis, project_id)
    if not watched:
        return False
    dirty_since = redis.getdel(f"pulseboard:dirty:{project_id}")
    if dirty_since is None:
        return False
    now = datetime.now(UTC)
    last_key = f"pulseboard:live:last:{project_id}"
    for name, window in WINDOWS.items():
        if name not in watched:
            continue
        update = "".join(one_line(html) for html in
                         render_fragments(project_id, window, now).values())
        digest = hashlib.sha1(update.encode()).hexdigest()
        if redis.hget(last_key, name) == digest.encode():
            continue  # nothing visible changed for this filter
        redis.hset(last_key, name, digest)
        sse.publish(update, type="update", channel=channel(project_id, name))
    latency = time.time() - float(dirty_since)
    redis.hset("pulseboard:live:stats", mapping={"last_push_latency": f"{latency:.4f}",
                                                 "last_push_at": f"{time.time():.3f}"})
    redis.hincrby("pulseboard:live:stats", "pushes", 1)
    return True


# --- fan-out (web side) ----------------------------------------------------------------------


def wake_up():
    """An event for one stream: gevent's own under gevent (much lighter than the patched
    threading.Event, whose every wait allocates a lock), else threading's."""
    if cooperative():
        from gevent.event import Event

        return Event()
    return threading.Event()


class Client:
    """One open stream: the newest message of each fragment not yet sent, and a wake-up."""

    def __init__(self, name: str):
        self.channel = name
        self.pending: dict[str, bytes] = {}
        self.ready = wake_up()
        self.last_sent = time.monotonic()

    def offer(self, kind: str, message: bytes) -> None:
        self.pending[kind] = message  # a slow client only ever gets the newest of each kind
        self.ready.set()

    def wait(self) -> bytes:
        """The next bytes to send (heartbeats are offered by the hub: no timer per stream)."""
        self.ready.wait()
        self.ready.clear()
        batch, self.pending = self.pending, {}
        self.last_sent = time.monotonic()
        return b"".join(batch.values())


CLIENTS_KEY = "pulseboard:live:clients"  # hash: web process -> "open streams|unix time"


class Hub:
    """This process's one Redis subscription, fanned out to its open streams."""

    def __init__(self, redis_url: str, redis: Redis, heartbeat: float = 15):
        self.redis_url = redis_url
        self.redis = redis
        self.heartbeat = heartbeat
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self.clients: dict[str, set[Client]] = {}
        self.lock = threading.Lock()
        self.started = False
        self.changed = threading.Event()  # the count changed since the last report

    def report(self) -> None:
        """Publish this process's open-stream count (read by /metrics and the tests)."""
        try:
            self.redis.hset(CLIENTS_KEY, self.name, f"{self.count()}|{time.time():.0f}")
        except Exception as exc:
            log.debug("could not report stream count: %s", exc)

    def watch(self, names: list[str]) -> None:
        """Claim (or renew the claim) that this process has streams on these channels."""
        if not names:
            return
        lapses = time.time() + WATCH_TTL
        pipe = self.redis.pipeline(transaction=False)
        for name in names:
            project_id, _, filter_name = name.removeprefix(PREFIX).partition(":")
            pipe.zadd(watched_key(project_id), {f"{filter_name}|{self.name}": lapses})
        pipe.execute()

    def unwatch(self, name: str) -> None:
        project_id, _, filter_name = name.removeprefix(PREFIX).partition(":")
        self.redis.zrem(watched_key(project_id), f"{filter_name}|{self.name}")

    def connect(self, name: str) -> tuple[Client, bool]:
        """A new stream on the channel; True when it is the process's first there."""
        client = Client(name)
        with self.lock:
            first = name not in self.clients
            self.clients.setdefault(name, set()).add(client)
            if not self.started:
                self.started = True
                threading.Thread(target=self._listen, name="sse-hub", daemon=True).start()
                threading.Thread(target=self._report_every, name="sse-report", daemon=True).start()
                threading.Thread(target=self._beat, name="sse-heartbeat", daemon=True).start()
        self.changed.set()
        if first:
            try:
                self.watch([name])
            except Exception as exc:  # Redis away: the renewal loop claims it when it is back
                log.debug("could not claim a watched channel: %s", exc)
        return client, first

    def _report_every(self, at_most: float = 0.5, at_least: float = 10) -> None:
        """One writer per process: soon after a change, and every few seconds regardless."""
        while True:
            self.changed.wait(at_least)
            self.changed.clear()
            self.report()
            try:
                self.watch(list(self.clients))
            except Exception as exc:
                log.debug("could not renew watched channels: %s", exc)
            time.sleep(at_most)

    def _beat(self) -> None:
        """A heartbeat comment to every stream sent nothing for `heartbeat` seconds: it keeps
        proxies from closing idle streams, and a write to a closed one releases it."""
        while True:
            time.sleep(min(1.0, self.heartbeat / 3))
            quiet_since = time.monotonic() - self.heartbeat
            for members in list(self.clients.values()):
                for client in list(members):
                    if client.last_sent <= quiet_since:
                        client.last_sent = time.monotonic()
                        client.offer("heartbeat", HEARTBEAT)

    def disconnect(self, client: Client) -> None:
        with self.lock:
            members = self.clients.get(client.channel)
            last = False
            if members is not None:
                members.discard(client)
                if not members:
                    del self.clients[client.channel]
                    last = True
        self.changed.set()
        if last:
            try:
                self.unwatch(client.channel)
            except Exception as exc:  # the claim lapses by itself
                log.debug("could not drop a watched channel: %s", exc)

    def count(self) -> int:
        return sum(len(members) for members in self.clients.values())

    def _listen(self) -> None:
        delay = 0.5
        while True:
            pubsub = Redis.from_url(self.redis_url, health_check_interval=30,
                                    client_name=f"pulseboard-live:{self.name}").pubsub(
                ignore_subscribe_messages=True)
            try:
                pubsub.psubscribe(PREFIX + "*")
                delay = 0.5
                for message in pubsub.listen():
                    try:
                        self._dispatch(message)
                    except Exception:
                        log.exception("could not fan out a live message")
            except Exception as exc:  # Redis away: keep streams open, resubscribe when back
                log.warning("live subscription lost (%r); retrying in %.1fs", exc, delay)
                time.sleep(delay)
                delay = min(delay * 2, 10)
            finally:
                pubsub.close()

    def _dispatch(self, message: dict) -> None:
        if message.get("type") != "pmessage":
            return
        name = message["channel"].decode()
        members = self.clients.get(name)
        if not members:
            return
        payload = json.loads(message["data"])
        # encoded once here, then the same bytes go to every open stream of this process
        data = str(Message(payload["data"], type=payload.get("type"), id=payload.get("id")))
        encoded = data.encode()
        for client in list(members):
            client.offer(payload.get("type") or "message", encoded)


_hubs: dict[str, Hub] = {}


def hub() -> Hub:
    url = current_app.config["REDIS_URL"]
    if url not in _hubs:
        _hubs[url] = Hub(url, current_app.extensions["redis"],
                         current_app.config["LIVE_HEARTBEAT_SECONDS"])
    return _hubs[url]


def open_clients(redis: Redis, fresh_seconds: float = 60) -> int:
    """Streams open across every web process that reported lately."""
    total, now = 0, time.time()
    for value in redis.hgetall(CLIENTS_KEY).values():
        count, _, at = value.decode().partition("|")
        if now - float(at) <= fresh_seconds:
            total += int(count)
    return total


HEARTBEAT = b": heartbeat\n\n"


def stream(project_id: int, filter_name: str) -> Iterator[bytes]:
    """The text/event-stream body of one dashboard tab."""
    the_hub = hub()
    client, first = the_hub.connect(channel(project_id, filter_name))
    if first:  # events committed while nobody watched were not pushed: push the current state
        try:
            mark_dirty(current_app.extensions["redis"], current_app.extensions["celery"],
                       project_id)
        except Exception as exc:
            log.debug("could not ask for a push: %s", exc)

    def generate() -> Iterator[bytes]:
        try:
            yield f"retry: 2000\n: connected to {filter_name}\n\n".encode()  # headers at once
            while True:
                yield client.wait()
        finally:  # the client went away: a write failed or the server is closing
            the_hub.disconnect(client)

    return generate()
