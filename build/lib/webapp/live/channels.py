"""One process's open streams of a live channel: the newest message, one wake-up for all."""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable

from webapp.ingest.groupcommit import cooperative

HEARTBEAT = b": heartbeat\n\n"


def wake_up():
    """An event: gevent's own under gevent (much lighter than the patched threading.Event,
    whose every wait allocates a lock), else threading's."""
    if cooperative():
        from gevent.event import Event

        return Event()
    return threading.Event()


class Channel:
    """One channel's open streams in this process, its newest message, and one wake-up for
    every stream waiting for the next: a push wakes all of them with a single event."""

    def __init__(self, name: str):
        self.name = name
        self.members: set[Client] = set()
        self.message = b""
        self.version = 0  # counts messages
        self.beats = 0  # counts heartbeats
        self.last = time.monotonic()  # when anything was last offered
        self.wake = wake_up()
        self.closed = False

    def close(self) -> None:
        """End every stream of the channel (the process is shutting down)."""
        self.closed = True
        self.wake.set()

    def offer(self, message: bytes | None) -> None:
        """A new message (None: a heartbeat) for every stream of the channel."""
        if message is None:
            self.beats += 1
        else:
            self.message, self.version = message, self.version + 1
        self.last = time.monotonic()
        wake, self.wake = self.wake, wake_up()  # a fresh event for the round after this one
        wake.set()


class Client:
    """One open stream: what of its channel it has sent. A stream that falls behind is sent
    only the newest message."""

    def __init__(self, source: Channel, principal: Hashable | None = None):
        self.source = source
        self.principal = principal  # who opened it: rechecked while it stays open
        self.ended = False
        self.version, self.beats = source.version, source.beats  # only what comes after

    def end(self) -> None:
        """End this stream alone (its token was revoked or its user lost access)."""
        self.ended = True
        source = self.source
        wake, source.wake = source.wake, wake_up()  # the others find nothing new and wait again
        wake.set()

    def wait(self) -> bytes | None:
        """The next bytes to send; None once the stream is to end."""
        while True:
            source = self.source
            wake = source.wake  # taken before looking, so no offer can slip in between
            if source.closed or self.ended:
                return None
            if source.version != self.version:
                self.version, self.beats = source.version, source.beats
                return source.message
            if source.beats != self.beats:  # a heartbeat only when there is nothing else
                self.beats = source.beats
                return HEARTBEAT
            wake.wait()
