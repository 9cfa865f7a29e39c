"""Counting requests and failures per subject (a person, an address, a username) in the store.

Several servers share one metadata store, so the counts live there, not in a process: a
counter counted on one server is seen by the others at once. Each subject has one row and
one window, which starts at the first hit and ends `window_s` later; a hit is one atomic
statement (`INSERT … ON CONFLICT DO UPDATE … RETURNING`, which PostgreSQL and DuckDB both
run atomically), so two servers counting at once never lose a hit. Rows of ended windows
are deleted at most once a minute.

Also here: which address a request comes from, one rule for sign-in and for the API.
"""

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import bindparam, text

from services.settings import get_settings
from services.store.db import session_scope

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
_PEEK_SQL = text("SELECT subject, hits, expires_at FROM rate_counts "
                 "WHERE subject IN :subjects").bindparams(bindparam("subjects", expanding=True))
_FORGET_SQL = text("DELETE FROM rate_counts WHERE subject = :subject")
_PRUNE_SQL = text("DELETE FROM rate_counts WHERE expires_at <= :now")

_prune_lock = threading.Lock()
_next_prune = 0.0  # only when this process next deletes ended windows; counts are not here


@dataclass(frozen=True)
class Count:
    """Hits in a subject's current window, and when that window ends (seconds since 1970)."""

    hits: int = 0
    expires_at: float = 0.0

    def wait_s(self, limit: int, now: float | None = None) -> float:
        """Seconds until fewer than `limit` hits are counted (0 when that is already so)."""
        now = time.time() if now is None else now
        if self.hits < limit or self.expires_at <= now:
            return 0.0
        return self.expires_at - now


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


def peek(*subjects: str) -> dict[str, Count]:
    """The current counts of these subjects (a subject never hit counts 0)."""
    now = time.time()
    wanted = [subject[:MAX_SUBJECT] for subject in subjects]
    with session_scope() as session:
        found = session.execute(_PEEK_SQL, {"subjects": wanted}).all()
    counts = {row.subject: Count(int(row.hits), float(row.expires_at)) for row in found
              if float(row.expires_at) > now}
    return {subject: counts.get(subject[:MAX_SUBJECT], Count()) for subject in subjects}


def forget(subject: str) -> None:
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
