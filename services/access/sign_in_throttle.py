"""Recent failed sign-ins per client (browser address) and per unknown username, in memory.

Why both: an account's own lock-out (in the users table) stops guessing at one account, but
alone it lets anyone lock the only admin out, and says nothing about unknown usernames. Here:

- a client with too many recent failures is refused before any password is checked;
- every username, known or not, counts its recent failures here (not in the users table),
  so unknown usernames are slowed and answered exactly like real ones;
- a locked account still lets in the right password from a client with no recent failures,
  so a stranger's guesses cannot keep its owner out.

Bounded: at most `MAX_KEYS` keys per table (oldest dropped first), failures older than the
window forgotten. Per process: several replicas each keep their own counts.
"""

import threading
import time
from collections import OrderedDict, deque

MAX_KEYS = 10_000
UNKNOWN_CLIENT = "unknown"


class _Failures:
    """key → times of recent failures, least recently touched first."""

    def __init__(self) -> None:
        self._times: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, key: str, window_s: float, now: float) -> deque[float]:
        times = self._times.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - window_s:
            times.popleft()
        if not times:
            del self._times[key]
        return times

    def count(self, key: str, window_s: float) -> int:
        with self._lock:
            return len(self._recent(key, window_s, time.monotonic()))

    def wait_s(self, key: str, window_s: float, limit: int) -> float:
        """Seconds until this key drops below `limit` failures (0 when it already is)."""
        with self._lock:
            now = time.monotonic()
            times = self._recent(key, window_s, now)
            if len(times) < limit:
                return 0.0
            return max(0.0, times[-limit] + window_s - now)

    def add(self, key: str) -> None:
        with self._lock:
            times = self._times.setdefault(key, deque(maxlen=1000))
            times.append(time.monotonic())
            self._times.move_to_end(key)
            while len(self._times) > MAX_KEYS:
                self._times.popitem(last=False)

    def forget(self, key: str) -> None:
        with self._lock:
            self._times.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._times.clear()

    def __len__(self) -> int:
        return len(self._times)


clients = _Failures()
accounts = _Failures()  # by username, whether or not the account exists
client_accounts = _Failures()  # "client|username": failures at one account from one client


def client_key(client: str | None) -> str:
    return (client or UNKNOWN_CLIENT).strip()[:100] or UNKNOWN_CLIENT


def pair_key(client: str, username: str) -> str:
    return f"{client}|{username}"


def reset() -> None:
    """Forget every count (tests; a restart does the same)."""
    for table in (clients, accounts, client_accounts):
        table.clear()
