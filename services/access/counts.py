"""What a counter of hits per subject answers, wherever it counts (the metadata store or
Redis; services/access/rate_limits.py chooses)."""

import time
from dataclasses import dataclass


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


@dataclass(frozen=True)
class Take:
    """Whether a conditional hit was counted, and the subject's count after it (or as it
    stood when it was refused)."""

    taken: bool
    count: Count
