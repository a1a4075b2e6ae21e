"""The rate-limit tracker: pause before the window runs dry, wait exactly for the reset."""

from __future__ import annotations

from tap_clever.ratelimit import (
    MAX_RESET_WAIT_SECONDS,
    RESET_MARGIN_SECONDS,
    RateLimitTracker,
    seconds_until_reset,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def headers(remaining: int, reset_in: float, now: float, limit: int = 1200) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(int(now + reset_in)),
    }


def test_no_pause_while_plenty_remain() -> None:
    clock = FakeClock()
    tracker = RateLimitTracker(now=clock.time, sleep=clock.sleep)
    tracker.observe(headers(remaining=500, reset_in=30, now=clock.now))

    assert tracker.pause_if_low() == 0.0
    assert clock.slept == []


def test_pauses_until_the_reset_when_the_window_is_nearly_used_up() -> None:
    clock = FakeClock()
    tracker = RateLimitTracker(now=clock.time, sleep=clock.sleep)
    tracker.observe(headers(remaining=5, reset_in=20, now=clock.now))
    clock.now += 4  # time spent on the page since that response

    waited = tracker.pause_if_low()

    assert waited == 20 - 4 + RESET_MARGIN_SECONDS
    assert clock.slept == [waited]
    # Once reset, it does not pause again until a response says the window is low.
    assert tracker.pause_if_low() == 0.0


def test_reserve_scales_with_the_limit() -> None:
    assert RateLimitTracker(limit=1200).reserve == 12
    assert RateLimitTracker(limit=50).reserve == 0


def test_a_window_with_nothing_left_pauses_whatever_the_limit() -> None:
    clock = FakeClock()
    tracker = RateLimitTracker(now=clock.time, sleep=clock.sleep)
    tracker.observe(headers(remaining=1, reset_in=5, now=clock.now, limit=4))
    assert tracker.pause_if_low() == 0.0
    tracker.observe(headers(remaining=0, reset_in=5, now=clock.now, limit=4))
    assert tracker.pause_if_low() == 5 + RESET_MARGIN_SECONDS


def test_responses_without_rate_limit_headers_never_pause() -> None:
    clock = FakeClock()
    tracker = RateLimitTracker(now=clock.time, sleep=clock.sleep)
    tracker.observe({})
    assert tracker.pause_if_low() == 0.0


def test_wait_for_reset_prefers_retry_after_and_is_bounded() -> None:
    now = 5000.0
    assert seconds_until_reset({"Retry-After": "7"}, lambda: now) == 7
    assert (
        seconds_until_reset({"X-RateLimit-Reset": "5010"}, lambda: now) == 10 + RESET_MARGIN_SECONDS
    )
    # A reset in the past (clock skew) still waits a moment; one far ahead is capped.
    assert seconds_until_reset({"X-RateLimit-Reset": "4000"}, lambda: now) == RESET_MARGIN_SECONDS
    assert (
        seconds_until_reset({"X-RateLimit-Reset": "99999"}, lambda: now) == MAX_RESET_WAIT_SECONDS
    )
    assert seconds_until_reset({"X-RateLimit-Reset": "soon"}, lambda: now) is None
