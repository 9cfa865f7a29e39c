"""Hits per subject counted in Redis (RESEARCH_DESK_REDIS_URL), for a team whose servers
share one Redis: each operation is one Lua script, which Redis runs atomically, so two
servers counting at once never lose a hit nor both take the last one. Fixed windows, like
the store's: a window starts at a subject's first hit and its key expires `window_s` later.
"""

import threading
import time
from collections.abc import Mapping

import redis

from services.access.counts import Count, Take

PREFIX = "rd:limit:"
TIMEOUT_S = 2.0

# KEYS: subjects; ARGV: their windows in ms. Returns hits and ms left, per subject.
_HIT = """
local out = {}
for i, key in ipairs(KEYS) do
  local hits = redis.call('INCR', key)
  local left = redis.call('PTTL', key)
  if hits == 1 or left < 0 then
    redis.call('PEXPIRE', key, ARGV[i])
    left = tonumber(ARGV[i])
  end
  out[#out + 1] = hits
  out[#out + 1] = left
end
return out
"""
# KEYS[1]: subject; ARGV: window ms, limit, 1 to count it past the limit anyway.
# Returns taken (1/0), hits, ms left.
_TAKE = """
local hits = tonumber(redis.call('GET', KEYS[1]) or '0')
if hits >= tonumber(ARGV[2]) and ARGV[3] ~= '1' then
  return {0, hits, redis.call('PTTL', KEYS[1])}
end
hits = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if hits == 1 or left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {1, hits, left}
"""
_GIVE_BACK = """
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then
  return redis.call('DECR', KEYS[1])
end
return 0
"""

_clients_lock = threading.Lock()
_clients: dict[str, redis.Redis] = {}


def _client(url: str) -> redis.Redis:
    """One connection pool per URL and process (a pool, not a count: nothing kept here)."""
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            client = redis.Redis.from_url(url, socket_timeout=TIMEOUT_S,
                                          socket_connect_timeout=TIMEOUT_S)
            _clients[url] = client
        return client


def _key(subject: str) -> str:
    return PREFIX + subject


def _ms(window_s: float) -> int:
    return max(1, round(window_s * 1000))


def _count(hits: int, left_ms: int, now: float) -> Count:
    if hits <= 0 or left_ms == -2:  # no such key: nothing counted
        return Count()
    return Count(int(hits), now + max(0, left_ms) / 1000)


def hit(url: str, windows: Mapping[str, float]) -> dict[str, Count]:
    subjects = list(windows)
    now = time.time()
    found = _client(url).eval(_HIT, len(subjects), *(_key(s) for s in subjects),
                              *(_ms(windows[s]) for s in subjects))
    return {s: _count(found[2 * i], found[2 * i + 1], now) for i, s in enumerate(subjects)}


def take(url: str, subject: str, window_s: float, limit: int, *, anyway: bool) -> Take:
    now = time.time()
    taken, hits, left = _client(url).eval(_TAKE, 1, _key(subject), _ms(window_s), limit,
                                          1 if anyway else 0)
    return Take(bool(taken), _count(hits, left, now))


def give_back(url: str, subject: str) -> None:
    _client(url).eval(_GIVE_BACK, 1, _key(subject))


def peek(url: str, subjects: list[str]) -> dict[str, Count]:
    now = time.time()
    with _client(url).pipeline(transaction=True) as pipe:
        for subject in subjects:
            pipe.get(_key(subject))
            pipe.pttl(_key(subject))
        found = pipe.execute()
    return {s: _count(int(found[2 * i] or 0), found[2 * i + 1], now)
            for i, s in enumerate(subjects)}


def forget(url: str, subject: str) -> None:
    _client(url).delete(_key(subject))
