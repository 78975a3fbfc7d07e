"""The journal's Redis scripts: each runs atomically, in one round trip (see journal.py)."""

from __future__ import annotations

_registered: dict[tuple[int, str], object] = {}


def run(redis, script: str, keys: list, args: list):
    """Run a script by its SHA1 (loaded once per server; redis-py loads it again after a
    restart emptied the server's script cache)."""
    found = _registered.get((id(redis), script))
    if found is None:
        found = _registered[(id(redis), script)] = redis.register_script(script)
    return found(keys, args)


# KEYS: batches, due, project's pending, owners, project's wake-up flag, metrics, queue
# ARGV: batch id, entry, now, project, message ('' for none), events, wake-up flag's lifetime (ms)
WRITE = """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
redis.call('HSET', KEYS[4], ARGV[1], 'p:' .. ARGV[4])
if ARGV[5] == '' then
  return 0
end
redis.call('HINCRBY', KEYS[6], 'accepted', ARGV[6])
if redis.call('SET', KEYS[5], ARGV[1], 'NX', 'PX', ARGV[7]) then
  redis.call('LPUSH', KEYS[7], ARGV[5])
  redis.call('HINCRBY', KEYS[6], 'messages', 1)
  return 1
end
return 0
"""

# KEYS: the task's claim, project's pending, project's wake-up flag, batches, owners, queue
# ARGV: most batches, most bytes, wake-up message, task id, wake-up flag's lifetime (ms)
# Returns batch id, entry, batch id, entry... (an entry is nil once forgotten).
TAKE = """
local ids = redis.call('LRANGE', KEYS[1], 0, -1)
if #ids == 0 then
  redis.call('DEL', KEYS[3])
  local size = 0
  for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, tonumber(ARGV[1]) - 1)) do
    local length = redis.call('HSTRLEN', KEYS[4], id)
    if #ids > 0 and size + length > tonumber(ARGV[2]) then
      break
    end
    size = size + length
    ids[#ids + 1] = id
  end
  if #ids > 0 then
    redis.call('ZREM', KEYS[2], unpack(ids))
    redis.call('RPUSH', KEYS[1], unpack(ids))
    redis.call('EXPIRE', KEYS[1], 86400)
    for _, id in ipairs(ids) do
      redis.call('HSET', KEYS[5], id, 't:' .. ARGV[4])
    end
  end
  if redis.call('ZCARD', KEYS[2]) > 0 then
    redis.call('SET', KEYS[3], '1', 'PX', ARGV[5])
    redis.call('LPUSH', KEYS[6], ARGV[3])
  end
end
if #ids == 0 then
  return {}
end
local entries = redis.call('HMGET', KEYS[4], unpack(ids))
local reply = {}
for i, id in ipairs(ids) do
  reply[#reply + 1] = id
  reply[#reply + 1] = entries[i]
end
return reply
"""
