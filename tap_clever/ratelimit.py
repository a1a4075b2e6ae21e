"""Clever's per-token rate limit, read from its response headers.

Clever allows 1200 requests a minute per bearer token, in fixed windows (not a rolling average),
and says so on every response: `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
`X-RateLimit-Reset` (Unix time at which the window resets). The tap keeps one tracker per token,
shared by all streams of that district, so it can pause before the window runs dry instead of
collecting 429s, and so a 429 waits exactly until the reset rather than guessing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

# How many requests to keep in hand before pausing for the reset: 1% of the limit (12 of
# Clever's 1200) leaves room for retries and for another process sharing the token. A window
# with nothing left always pauses: waiting for the reset is cheaper than collecting a 429.
_RESERVE_FRACTION = 0.01
# Never wait longer than a window and a half for a reset: a reset far in the future means a clock
# skew between Clever and this machine, not a real wait.
MAX_RESET_WAIT_SECONDS = 90.0
# Added to every wait for the reset, so the request lands after it even with a little skew.
RESET_MARGIN_SECONDS = 0.5


def _header_number(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def seconds_until_reset(
    headers: Mapping[str, str], now: Callable[[], float] = time.time
) -> float | None:
    """Seconds to wait for the rate-limit window to reset, from a response's headers.

    `Retry-After` wins when present (it is the server's explicit answer); otherwise
    `X-RateLimit-Reset`. None when neither header is usable.
    """
    retry_after = _header_number(headers, "Retry-After")
    if retry_after is not None:
        return min(max(retry_after, 0.0), MAX_RESET_WAIT_SECONDS)
    reset_at = _header_number(headers, "X-RateLimit-Reset")
    if reset_at is None:
        return None
    wait = reset_at - now() + RESET_MARGIN_SECONDS
    return min(max(wait, RESET_MARGIN_SECONDS), MAX_RESET_WAIT_SECONDS)


@dataclass
class RateLimitTracker:
    """What the last response said about one token's window, and the pause it calls for.

    Not thread-safe on its own: the client sends one request per token at a time.
    """

    now: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    remaining: float | None = None
    limit: float | None = None
    _wait_for_reset: float | None = field(default=None, repr=False)
    _observed_at: float = field(default=0.0, repr=False)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Record the rate-limit headers of a response."""
        remaining = _header_number(headers, "X-RateLimit-Remaining")
        if remaining is None:
            return
        self.remaining = remaining
        self.limit = _header_number(headers, "X-RateLimit-Limit")
        self._wait_for_reset = seconds_until_reset(headers, self.now)
        self._observed_at = self.now()

    @property
    def reserve(self) -> int:
        """Requests kept in hand before pausing."""
        return int((self.limit or 0) * _RESERVE_FRACTION)

    def pause_if_low(self) -> float:
        """Sleep until the window resets if it is nearly used up; return the seconds slept."""
        if self.remaining is None or self.remaining > self.reserve or not self._wait_for_reset:
            return 0.0
        wait = self._wait_for_reset - (self.now() - self._observed_at)
        if wait <= 0:
            return 0.0
        self.sleep(wait)
        # The window has reset; the next response will tell the new count.
        self.remaining = None
        return wait
