"""At most EXPORT_CONCURRENCY exports of a project at once, across every web process: slots in
Redis that lapse unless renewed, so a reader that stalls or vanishes frees its slot."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

from redis import Redis

from webapp.errors import ExportsBusy

TAKE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
  redis.call('EXPIRE', KEYS[1], ARGV[5])
  return 1
end
return 0
"""


def _key(project_id: int) -> str:
    return f"pulseboard:exports:{project_id}"


def take(redis: Redis, project_id: int, limit: int, lapse: int) -> str:
    """A slot for one export (its id); raises ExportsBusy when all are taken."""
    slot, now = secrets.token_hex(8), time.time()
    if not redis.eval(TAKE, 1, _key(project_id), now, limit, now + lapse, slot, lapse * 2):
        raise ExportsBusy(limit, retry_after=min(lapse, 5))
    return slot


class Held:
    """The chunks of one export, renewing its slot as they go out and freeing it when they end
    or the response is closed (the reader went away), even before the first chunk."""

    def __init__(self, redis: Redis, project_id: int, slot: str, lapse: int, chunks: Iterator):
        self.redis, self.key, self.slot, self.lapse = redis, _key(project_id), slot, lapse
        self.chunks, self.renewed, self.closed = chunks, time.monotonic(), False

    def __iter__(self) -> Held:
        return self

    def __next__(self):
        try:
            chunk = next(self.chunks)
        except BaseException:
            self.close()
            raise
        if time.monotonic() - self.renewed > self.lapse / 3:
            self.redis.zadd(self.key, {self.slot: time.time() + self.lapse}, xx=True)
            self.renewed = time.monotonic()
        return chunk

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        getattr(self.chunks, "close", lambda: None)()
        try:
            self.redis.zrem(self.key, self.slot)
        except Exception:  # Redis away: the slot lapses by itself
            pass
