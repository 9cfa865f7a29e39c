"""Counting requests and failures per subject (a person, an address, a username), shared by
every server: in Redis when RESEARCH_DESK_REDIS_URL is set (services/access/redis_counts.py),
else in the metadata store. This module is the one home of that choice.

In the store, each subject has one row and one window, which starts at the first hit and
ends `window_s` later; a hit is one atomic statement (`INSERT … ON CONFLICT DO UPDATE …
RETURNING`, which PostgreSQL and DuckDB both run atomically), so two servers counting at
once never lose a hit, and `take` (a hit only while under a limit) is one conditional
upsert, so two servers never both take the last one. Rows of ended windows are deleted at
most once a minute. When Redis does not answer, every operation raises StorageUnavailable
with one sentence: limits that cannot be counted let nobody through (fail closed).

Also here: which address a request comes from, one rule for sign-in and for the API.
"""

import logging
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import redis
from sqlalchemy import bindparam, text

from services.access import redis_counts
from services.access.counts import Count, Take
from services.errors import StorageUnavailable
from services.settings import get_settings
from services.store.db import session_scope

log = logging.getLogger(__name__)

UNKNOWN_ADDRESS = "unknown"
MAX_SUBJECT = 200
PRUNE_EVERY_S = 60.0

_HIT_SQL = (
    "INSERT INTO rate_counts AS r (subject, hits, expires_at) VALUES {rows} "
    "ON CONFLICT (subject) DO UPDATE SET "
    "hits = CASE WHEN r.expires_at <= :now THEN 1 ELSE r.hits + 1 END, "
    "expires_at = CASE WHEN r.expires_at <= :now THEN excluded.expires_at "
    "ELSE r.expires_at END "
    "RETURNING subject, hits, expires_at")
# Counted only while under the limit (or when told to count it anyway); no row back: refused.
_TAKE_SQL = text(
    "INSERT INTO rate_counts AS r (subject, hits, expires_at) VALUES (:subject, 1, :expires) "
    "ON CONFLICT (subject) DO UPDATE SET "
    "hits = CASE WHEN r.expires_at <= :now THEN 1 ELSE r.hits + 1 END, "
    "expires_at = CASE WHEN r.expires_at <= :now THEN excluded.expires_at "
    "ELSE r.expires_at END "
    "WHERE r.expires_at <= :now OR r.hits < :limit OR :anyway "
    "RETURNING subject, hits, expires_at")
_GIVE_BACK_SQL = text("UPDATE rate_counts SET hits = hits - 1 "
                      "WHERE subject = :subject AND hits > 0 AND expires_at > :now")
_PEEK_SQL = text("SELECT subject, hits, expires_at FROM rate_counts "
                 "WHERE subject IN :subjects").bindparams(bindparam("subjects", expanding=True))
_FORGET_SQL = text("DELETE FROM rate_counts WHERE subject = :subject")
_PRUNE_SQL = text("DELETE FROM rate_counts WHERE expires_at <= :now")

_prune_lock = threading.Lock()
_next_prune = 0.0  # only when this process next deletes ended windows; counts are not here

MSG_REDIS_DOWN = ("Research Desk cannot reach the service that counts sign-ins and requests "
                  "(Redis), so it lets nobody in until it answers again. Try again in a "
                  "minute; if this goes on, tell your admin.")
__all__ = ["Count", "Take", "client_address", "forget", "give_back", "hit", "peek", "take"]


def _redis_url() -> str:
    """Where the counts live: this Redis, or "" for the metadata store."""
    return get_settings().redis_url.strip()


@contextmanager
def _redis_answers() -> Iterator[None]:
    try:
        yield
    except redis.RedisError as error:
        log.warning("Redis (RESEARCH_DESK_REDIS_URL) did not answer: %s", error)
        raise StorageUnavailable(MSG_REDIS_DOWN) from error


def client_address(peer: str | None, forwarded_for: str | None = None) -> str:
    """Who is asking: the connection's address or, behind a trusted reverse proxy
    (RESEARCH_DESK_TRUST_FORWARDED_FOR), the last X-Forwarded-For entry, the one the proxy
    added (earlier entries are whatever the client chose to send)."""
    if get_settings().trust_forwarded_for and forwarded_for:
        last = forwarded_for.split(",")[-1].strip()
        if last:
            peer = last
    return (peer or UNKNOWN_ADDRESS).strip()[:100] or UNKNOWN_ADDRESS


def hit(windows: Mapping[str, float]) -> dict[str, Count]:
    """Count one hit for each subject (subject → its window in seconds); the counts after."""
    now = time.time()
    subjects = {subject[:MAX_SUBJECT]: window_s for subject, window_s in windows.items()}
    if not subjects:
        return {}
    if url := _redis_url():
        with _redis_answers():
            counted = redis_counts.hit(url, subjects)
        return {subject: counted[subject[:MAX_SUBJECT]] for subject in windows}
    rows = ", ".join(f"(:s{i}, 1, :e{i})" for i in range(len(subjects)))
    values: dict[str, object] = {"now": now}
    for i, (subject, window_s) in enumerate(subjects.items()):
        values[f"s{i}"] = subject
        values[f"e{i}"] = now + window_s
    _prune_now_and_then(now)
    with session_scope(write=True) as session:
        found = session.execute(text(_HIT_SQL.format(rows=rows)), values).all()
    counts = {row.subject: Count(int(row.hits), float(row.expires_at)) for row in found}
    return {subject: counts[subject[:MAX_SUBJECT]] for subject in windows}


def take(subject: str, window_s: float, limit: int, *, anyway: bool = False) -> Take:
    """Count one hit only while fewer than `limit` are counted in the window (or `anyway`),
    in one atomic step: of many servers asking at once, at most `limit` are let through."""
    subject = subject[:MAX_SUBJECT]
    if url := _redis_url():
        with _redis_answers():
            return redis_counts.take(url, subject, window_s, limit, anyway=anyway)
    now = time.time()
    _prune_now_and_then(now)
    with session_scope(write=True) as session:
        row = session.execute(_TAKE_SQL, {"subject": subject, "expires": now + window_s,
                                          "now": now, "limit": limit,
                                          "anyway": anyway}).first()
    if row is not None:
        return Take(True, Count(int(row.hits), float(row.expires_at)))
    return Take(False, peek(subject)[subject])


def give_back(subject: str) -> None:
    """Un-count one hit taken for something that turned out not to count."""
    subject = subject[:MAX_SUBJECT]
    if url := _redis_url():
        with _redis_answers():
            redis_counts.give_back(url, subject)
        return
    with session_scope(write=True) as session:
        session.execute(_GIVE_BACK_SQL, {"subject": subject, "now": time.time()})


def peek(*subjects: str) -> dict[str, Count]:
    """The current counts of these subjects (a subject never hit counts 0)."""
    now = time.time()
    wanted = [subject[:MAX_SUBJECT] for subject in subjects]
    if url := _redis_url():
        with _redis_answers():
            counted = redis_counts.peek(url, wanted)
        return {subject: counted[subject[:MAX_SUBJECT]] for subject in subjects}
    with session_scope() as session:
        found = session.execute(_PEEK_SQL, {"subjects": wanted}).all()
    counts = {row.subject: Count(int(row.hits), float(row.expires_at)) for row in found
              if float(row.expires_at) > now}
    return {subject: counts.get(subject[:MAX_SUBJECT], Count()) for subject in subjects}


def forget(subject: str) -> None:
    if url := _redis_url():
        with _redis_answers():
            redis_counts.forget(url, subject[:MAX_SUBJECT])
        return
    with session_scope(write=True) as session:
        session.execute(_FORGET_SQL, {"subject": subject[:MAX_SUBJECT]})


def _prune_now_and_then(now: float) -> None:
    global _next_prune
    with _prune_lock:
        if now < _next_prune:
            return
        _next_prune = now + PRUNE_EVERY_S
    with session_scope(write=True) as session:
        session.execute(_PRUNE_SQL, {"now": now})
