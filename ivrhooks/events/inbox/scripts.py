"""The Redis inbox's key names and its Lua scripts: each step that touches more than one key is
one script, atomic in Redis, so a process dying between two commands can neither lose an event
nor let a duplicate through.

Keys, all under ``ivrhooks:<app id>:events:`` (docs/deployment.md):

- ``stream``: the Redis Stream of events waiting or in hand; one consumer group, ``handlers``.
  Fields ``kind``, ``body`` (the JSON text), ``received`` (epoch seconds), ``attempts`` (failed
  attempts before this entry) and, on an entry put back after a failure, ``id`` (the inbox id,
  the stream id of its first entry). An entry is deleted when it is acknowledged, so its
  length is the number waiting or in hand.
- ``seen:<digest>``: one per event accepted within the dedup window (``SET NX``-like, expiring).
- ``retry``: a sorted set of events waiting for their next attempt, scored by when (epoch ms).
- ``dead`` (a hash, id to JSON) and ``dead:order`` (a sorted set of ids by the time they
  died): the dead events, the oldest dropped past the cap; ``dead:dropped`` counts those.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ACCEPT", "ACK", "FAIL", "GROUP", "PROMOTE", "RETRY_DEAD", "SWEEP", "Keys"]

#: The consumer group every replica of one app reads the stream in.
GROUP = "handlers"


@dataclass(frozen=True)
class Keys:
    """The key names of one app's inbox."""

    prefix: str

    @classmethod
    def of(cls, app_id: str) -> Keys:
        return cls(f"ivrhooks:{app_id}:events:")

    @property
    def stream(self) -> str:
        return self.prefix + "stream"

    @property
    def retry(self) -> str:
        return self.prefix + "retry"

    @property
    def dead(self) -> str:
        return self.prefix + "dead"

    @property
    def dead_order(self) -> str:
        return self.prefix + "dead:order"

    @property
    def dead_dropped(self) -> str:
        return self.prefix + "dead:dropped"

    def seen(self, digest: str) -> str:
        return f"{self.prefix}seen:{digest}"


# KEYS: stream, retry, then one seen:<digest> key per body.
# ARGV: backlog limit, dedup window (ms), kind, received, then one JSON body per seen key.
# Returns {0, flags...} (1 stored, 0 duplicate) or {1, backlog, new ones}: full, nothing stored.
ACCEPT = """
local n = #KEYS - 2
local fresh = {}
local batch = {}
local count = 0
for i = 1, n do
  local key = KEYS[i + 2]
  if batch[key] or redis.call('EXISTS', key) == 1 then
    fresh[i] = 0
  else
    fresh[i] = 1
    batch[key] = true
    count = count + 1
  end
end
local backlog = redis.call('XLEN', KEYS[1]) + redis.call('ZCARD', KEYS[2])
if backlog + count > tonumber(ARGV[1]) then return {1, backlog, count} end
for i = 1, n do
  if fresh[i] == 1 then
    local id = redis.call('XADD', KEYS[1], '*', 'kind', ARGV[3], 'body', ARGV[4 + i],
                          'received', ARGV[4], 'attempts', '0')
    redis.call('SET', KEYS[i + 2], id, 'PX', ARGV[2])
  end
end
table.insert(fresh, 1, 0)
return fresh
"""

# KEYS: stream. ARGV: group, entry id. Acknowledged and deleted together.
ACK = """
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('XDEL', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

# KEYS: stream, retry, dead, dead:order, dead:dropped.
# ARGV: group, entry id, "retry" or "dead", delay ms (retry) or failed ms (dead), the JSON
# kept (retry member or dead record), inbox id, dead cap.
# Nothing happens when the entry is no longer pending (another replica took it over and
# finished it): returns {0, 0}; else {1, dead events dropped}.
FAIL = """
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return {0, 0} end
redis.call('XDEL', KEYS[1], ARGV[2])
if ARGV[3] == 'retry' then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[5])
  return {1, 0}
end
redis.call('HSET', KEYS[3], ARGV[6], ARGV[5])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[6])
local over = redis.call('ZCARD', KEYS[4]) - tonumber(ARGV[7])
if over > 0 then
  local old = redis.call('ZPOPMIN', KEYS[4], over)
  for i = 1, #old, 2 do redis.call('HDEL', KEYS[3], old[i]) end
  redis.call('INCRBY', KEYS[5], over)
  return {1, over}
end
return {1, 0}
"""

# KEYS: stream, retry. ARGV: how many at most. The events due (by Redis's clock, the same for
# every replica) go back into the stream. Returns {moved, ms until the next is due or -1}.
PROMOTE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, member in ipairs(due) do
  local e = cjson.decode(member)
  redis.call('XADD', KEYS[1], '*', 'id', e.id, 'kind', e.kind, 'body', e.body,
             'received', e.received, 'attempts', e.attempts)
  redis.call('ZREM', KEYS[2], member)
end
local nxt = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if #nxt == 0 then return {#due, -1} end
return {#due, math.max(0, tonumber(nxt[2]) - now)}
"""

# KEYS: stream, dead, dead:order. ARGV: the ids to put back; none: the 100 oldest.
# Returns {put back, ids looked at}.
RETRY_DEAD = """
local ids = ARGV
if #ids == 0 then ids = redis.call('ZRANGE', KEYS[3], 0, 99) end
local n = 0
for _, id in ipairs(ids) do
  local record = redis.call('HGET', KEYS[2], id)
  if record then
    local e = cjson.decode(record)
    redis.call('XADD', KEYS[1], '*', 'id', id, 'kind', e.kind, 'body', e.body,
               'received', e.received, 'attempts', '0')
    redis.call('HDEL', KEYS[2], id)
    n = n + 1
  end
  redis.call('ZREM', KEYS[3], id)
end
return {n, #ids}
"""

# KEYS: stream. ARGV: group, this consumer's name, idle ms. Deletes the group's consumers that
# hold nothing and were idle that long (replicas long gone; each process reads under a name
# of its own). In one script: a consumer that took an event meanwhile is never deleted, which
# would orphan the event. Returns how many were deleted.
SWEEP = """
local deleted = 0
for _, info in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local c = {}
  for i = 1, #info, 2 do c[info[i]] = info[i + 1] end
  if c['name'] ~= ARGV[2] and tonumber(c['pending']) == 0
     and tonumber(c['idle']) >= tonumber(ARGV[3]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], c['name'])
    deleted = deleted + 1
  end
end
return deleted
"""
