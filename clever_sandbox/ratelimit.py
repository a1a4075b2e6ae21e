"""Clever's per-token rate limit: a fixed window counter, not a rolling average.

Windows are aligned on multiples of the window length since the Unix epoch, so
``X-RateLimit-Reset`` is the same for every request of a window and a client that sleeps until
it can retry. Uses the wall clock (unlike the data, rate limiting is about real time).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class RateState:
    """Outcome of one request against a bucket, ready to turn into headers."""

    allowed: bool
    limit: int
    remaining: int
    reset: int
    bucket: str

    def headers(self) -> list[tuple[str, str]]:
        return [
            ("X-RateLimit-Limit", str(self.limit)),
            ("X-RateLimit-Remaining", str(self.remaining)),
            ("X-RateLimit-Reset", str(self.reset)),
            ("X-RateLimit-Bucket", self.bucket),
        ]


class RateLimiter:
    """Counts requests per bucket (one per bearer token) in fixed windows."""

    def __init__(self, limit: int = 1200, window: float = 60.0) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, int]] = {}
        self.limit = limit
        self.window = window

    def configure(self, limit: int | None = None, window: float | None = None) -> None:
        with self._lock:
            if limit is not None:
                self.limit = max(1, int(limit))
            if window is not None:
                self.window = max(0.001, float(window))
            self._counts.clear()

    def hit(self, bucket: str, now: float | None = None) -> RateState:
        """Count one request; ``allowed`` is False once the window's quota is spent."""
        return self.spend(bucket, 1, now)

    def spend(self, bucket: str, requests: int, now: float | None = None) -> RateState:
        """Count ``requests`` requests at once in the bucket's current window.

        Tests use it for a token whose window someone else (the partner's own application,
        sharing the district token) has already used up.
        """
        now = time.time() if now is None else now
        with self._lock:
            window_no = int(now // self.window)
            reset = math.ceil((window_no + 1) * self.window)
            current_no, used = self._counts.get(bucket, (window_no, 0))
            if current_no != window_no:
                used = 0
            used += max(0, requests)
            self._counts[bucket] = (window_no, used)
            return RateState(
                used <= self.limit, self.limit, max(0, self.limit - used), reset, bucket
            )


def district_bucket(district_id: str) -> str:
    """The rate-limit bucket of a district-app token (one token per district)."""
    return f"district-app:{district_id}"
