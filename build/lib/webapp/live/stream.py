"""Live updates, the web side: one Redis subscription per web process, fanned out to its streams."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Hashable, Iterator

from flask import current_app
from flask_sse import Message
from redis import Redis

from webapp import redisconn
from webapp.live.channels import Channel, Client
from webapp.live.publish import PREFIX, WATCH_TTL, channel, refresh, watched_key

log = logging.getLogger(__name__)
CHECK_SECONDS = 2  # how often open streams' tokens and sessions are checked again
Checker = Callable[[set], set]  # principals -> those still allowed


CLIENTS_KEY = "pulseboard:live:clients"  # hash: web process -> "open streams|unix time"
SUBSCRIBE_WAIT = 2.0  # seconds the first stream of a process waits for its subscription


class Hub:
    """This process's one Redis subscription, fanned out to its open streams."""

    def __init__(self, config: dict, redis: Redis, heartbeat: float = 15, app=None):
        self.app = app
        self.checker: Checker | None = None
        self.config = {key: config.get(key) for key in
                       ("REDIS_URL", "REDIS_SENTINELS", "REDIS_SENTINEL_MASTER")}
        self.redis = redis
        self.heartbeat = heartbeat
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self.channels: dict[str, Channel] = {}  # only channels with open streams
        self.lock = threading.Lock()
        self.started = False
        self.closing = False
        self.changed = threading.Event()  # the count changed since the last report
        self.subscribed = threading.Event()  # the Redis subscription is in place

    def close_streams(self) -> None:
        """End every open stream now and any opened later: the process is shutting down, and
        the browsers reconnect (after the stream's retry delay) to a process that is not."""
        with self.lock:
            self.closing = True
            for source in self.channels.values():
                source.close()

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
            key, member = self._claim(name)
            pipe.zadd(key, {member: lapses})
        pipe.execute()

    def unwatch(self, name: str) -> None:
        self.redis.zrem(*self._claim(name))

    def _claim(self, name: str) -> tuple[str, str]:
        """The sorted set and member by which this process claims a channel."""
        project_id, _, filter_name = name.removeprefix(PREFIX).partition(":")
        return watched_key(project_id), f"{filter_name}|{self.name}"

    def connect(self, name: str, principal: Hashable | None = None,
                checker: Checker | None = None) -> Client:
        """A new stream on the channel. While it is open, `checker` is asked every few
        seconds whether its `principal` still may."""
        with self.lock:
            source = self.channels.setdefault(name, Channel(name))
            if self.closing:
                source.close()
            client = Client(source, principal)
            self.checker = checker or self.checker
            source.members.add(client)
            if not self.started:
                self.started = True
                threading.Thread(target=self._listen, name="sse-hub", daemon=True).start()
                threading.Thread(target=self._report_every, name="sse-report", daemon=True).start()
                threading.Thread(target=self._beat, name="sse-heartbeat", daemon=True).start()
                threading.Thread(target=self._police, name="sse-access", daemon=True).start()
        # the new stream's push is published right after this returns: subscribed first,
        # or the process would miss it and the tab would wait for the next change
        self.subscribed.wait(SUBSCRIBE_WAIT)
        self.changed.set()
        # claimed by every new stream, not only the channel's first: a claim lost meanwhile
        # (Redis restarted, or a stream gone unnoticed kept the channel open) would make the
        # push asked for next find no watcher, and the tab would wait for the renewal loop
        try:
            self.watch([name])
        except Exception as exc:  # Redis away: the renewal loop claims it when it is back
            log.debug("could not claim a watched channel: %s", exc)
        return client

    def _report_every(self, at_most: float = 0.5, at_least: float = 10) -> None:
        """One writer per process: soon after a change, and every few seconds regardless."""
        while True:
            self.changed.wait(at_least)
            self.changed.clear()
            self.report()
            try:
                self.watch(list(self.channels))
            except Exception as exc:
                log.debug("could not renew watched channels: %s", exc)
            time.sleep(at_most)

    def _beat(self) -> None:
        """A heartbeat comment on every channel quiet for `heartbeat` seconds: it keeps proxies
        from closing idle streams, and a write to a closed one releases it."""
        while True:
            time.sleep(min(1.0, self.heartbeat / 3))
            quiet_since = time.monotonic() - self.heartbeat
            for source in list(self.channels.values()):
                if source.last <= quiet_since:
                    source.offer(None)

    def _police(self) -> None:
        """End the streams whose token was revoked or whose user lost access: one query for
        all of this process's streams every CHECK_SECONDS, however many are open."""
        while True:
            time.sleep(CHECK_SECONDS)
            try:
                self.check_access()
            except Exception as exc:  # the database away: keep streams, check again later
                log.warning("could not check open streams' access: %s", exc)

    def check_access(self) -> None:
        clients = [c for source in list(self.channels.values()) for c in list(source.members)
                   if c.principal is not None]
        if not clients or self.checker is None:
            return
        with self.app.app_context():
            allowed = self.checker({c.principal for c in clients})
        for client in clients:
            if client.principal not in allowed:
                client.end()

    def disconnect(self, client: Client) -> None:
        source = client.source
        with self.lock:
            source.members.discard(client)
            last = not source.members and self.channels.pop(source.name, None) is not None
        self.changed.set()
        if last:
            try:
                self.unwatch(source.name)
            except Exception as exc:  # the claim lapses by itself
                log.debug("could not drop a watched channel: %s", exc)

    def count(self) -> int:
        return sum(len(source.members) for source in self.channels.values())

    def _listen(self) -> None:
        delay = 0.5
        while True:
            pubsub = redisconn.client(self.config, health_check_interval=30,
                                      client_name=f"pulseboard-live:{self.name}").pubsub(
                ignore_subscribe_messages=True)
            try:
                pubsub.psubscribe(PREFIX + "*")
                self.subscribed.set()
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
        source = self.channels.get(message["channel"].decode())
        if source is None:
            return
        payload = json.loads(message["data"])
        # encoded once here, then the same bytes go to every open stream of this process
        data = str(Message(payload["data"], type=payload.get("type"), id=payload.get("id")))
        source.offer(data.encode())


_hubs: dict[str, Hub] = {}


def hub() -> Hub:
    url = current_app.config["REDIS_URL"]
    if url not in _hubs:
        _hubs[url] = Hub(current_app.config, current_app.extensions["redis"],
                         current_app.config["LIVE_HEARTBEAT_SECONDS"],
                         current_app._get_current_object())
    return _hubs[url]


def close_streams() -> None:
    """End this process's open streams (called when the web process is asked to stop)."""
    for each in list(_hubs.values()):
        each.close_streams()


def open_clients(redis: Redis, fresh_seconds: float = 60) -> int:
    """Streams open across every web process that reported lately."""
    total, now = 0, time.time()
    for value in redis.hgetall(CLIENTS_KEY).values():
        count, _, at = value.decode().partition("|")
        if now - float(at) <= fresh_seconds:
            total += int(count)
    return total


def stream(project_id: int, filter_name: str, principal: Hashable | None = None,
           checker: Checker | None = None) -> Iterator[bytes]:
    """The text/event-stream body of one dashboard tab; it ends within a few seconds of
    `checker` no longer allowing `principal` (a revoked token, an ended session)."""
    the_hub = hub()
    client = the_hub.connect(channel(project_id, filter_name), principal, checker)
    # every new stream gets the current panels: events committed while nobody watched were
    # not pushed, and a reconnecting tab may have missed pushes while it was away
    try:
        refresh(current_app.extensions["redis"], current_app.extensions["celery"], project_id,
                filter_name)
    except Exception as exc:
        log.debug("could not ask for a push: %s", exc)

    def generate() -> Iterator[bytes]:
        try:
            yield f"retry: 2000\n: connected to {filter_name}\n\n".encode()  # headers at once
            while (data := client.wait()) is not None:
                yield data
        finally:  # the client went away: a write failed or the server is closing
            the_hub.disconnect(client)

    return generate()
