"""Several districts read at once, over HTTP: interleaved reads, ordered output, each district
paced by its own token, one failing without the others, connections bounded."""

from __future__ import annotations

import threading
import time

from werkzeug import Request, Response

from tap_clever.errors import CleverDistrictsFailedError
from tests.tap.conftest import (
    DISTRICT_A,
    TOKEN_A,
    FakeClever,
    assert_valid_singer_output,
    object_id,
    run_sync,
)

TOKENS = [TOKEN_A] + [f"{n:040x}" for n in range(1, 6)]
DISTRICTS = [DISTRICT_A] + [f"5f00000000000000000000{n:02x}" for n in range(1, 6)]


def _districts(clever: FakeClever, count: int) -> None:
    for n in range(count):
        token, district = TOKENS[n], DISTRICTS[n]
        clever.add_district(token, district, f"District {n}")
        clever.set_records(
            token,
            "users",
            [{"id": object_id(100 * n + i), "district": district} for i in range(5)],
        )


def _config(clever: FakeClever, count: int, **extra: object) -> dict:
    return {
        "api_url": clever.url,
        "district_tokens": TOKENS[:count],
        "page_size": 2,
        **extra,
    }


class InFlight:
    """Counts requests being answered at once."""

    def __init__(self, delay: float = 0.0, barrier: threading.Barrier | None = None) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0
        self.delay = delay
        self.barrier = barrier

    def __call__(self, request: Request) -> Response | None:
        if request.path != "/v3.1/users":
            return None
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            if self.barrier is not None and request.args.get("starting_after") is None:
                self.barrier.wait()  # every district's first page at once, or a broken barrier
            time.sleep(self.delay)
        finally:
            with self.lock:
                self.now -= 1
        return None


def test_districts_are_read_at_once_and_emitted_one_after_another(
    threaded_clever: FakeClever,
) -> None:
    _districts(threaded_clever, 4)
    # Each district's first users page waits until all four are in flight: read one after
    # another, the first would wait alone and the barrier would break (HTTP 500s, then failure).
    threaded_clever.intercept = InFlight(barrier=threading.Barrier(4, timeout=10))

    result = run_sync(_config(threaded_clever, 4, max_parallel_districts=4), streams={"users"})

    assert result.error is None
    emitted = [u["district"] for u in result.records("users")]
    # Five users a district, one district after another, in the order of the tokens.
    assert emitted == [d for d in DISTRICTS[:4] for _ in range(5)]
    assert_valid_singer_output(result.messages)


def test_requests_in_flight_never_exceed_the_setting(threaded_clever: FakeClever) -> None:
    _districts(threaded_clever, 6)
    in_flight = InFlight(delay=0.05)
    threaded_clever.intercept = in_flight

    result = run_sync(_config(threaded_clever, 6, max_parallel_districts=3), streams={"users"})

    assert result.error is None
    assert len(result.records("users")) == 30
    assert 2 <= in_flight.most <= 3


def test_one_setting_reads_districts_one_after_another(threaded_clever: FakeClever) -> None:
    _districts(threaded_clever, 3)
    in_flight = InFlight(delay=0.02)
    threaded_clever.intercept = in_flight

    result = run_sync(_config(threaded_clever, 3, max_parallel_districts=1), streams={"users"})

    assert result.error is None
    assert in_flight.most == 1


def test_a_rate_limited_token_does_not_hold_back_the_other_districts(
    threaded_clever: FakeClever,
) -> None:
    _districts(threaded_clever, 3)
    log: list[tuple[str, str]] = []
    limited = {"done": False}

    def rate_limit_a_once(request: Request) -> Response | None:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if request.path == "/v3.1/users":
            log.append((token, request.args.get("starting_after") or "first"))
            if token == TOKEN_A and not limited["done"]:
                limited["done"] = True
                reset = str(int(time.time()) + 2)
                headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
                return Response("", status=429, headers=headers)
        return None

    threaded_clever.intercept = rate_limit_a_once

    result = run_sync(_config(threaded_clever, 3), streams={"users"})

    assert result.error is None
    assert [u["district"] for u in result.records("users")] == [
        d for d in DISTRICTS[:3] for _ in range(5)
    ]
    # While A waited for its window to reset, B and C read every page.
    retry_of_a = [n for n, entry in enumerate(log) if entry == (TOKEN_A, "first")][1]
    others_before_retry = [entry for entry in log[:retry_of_a] if entry[0] != TOKEN_A]
    assert len(others_before_retry) == 2 * 3  # 3 pages of users each (5 users, 2 a page)


def test_a_district_failing_among_parallel_ones_leaves_the_others_whole(
    threaded_clever: FakeClever,
) -> None:
    _districts(threaded_clever, 5)

    def fail_c(request: Request) -> Response | None:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if (
            request.path == "/v3.1/users"
            and token == TOKENS[2]
            and request.args.get("starting_after")
        ):
            return Response('{"message": "revoked"}', status=401)
        return None

    threaded_clever.intercept = fail_c

    result = run_sync(_config(threaded_clever, 5), streams={"users", "events", "snapshots"})

    assert isinstance(result.error, CleverDistrictsFailedError)
    assert DISTRICTS[2] in str(result.error)
    assert "HTTP 401" in str(result.error)
    others = [d for n, d in enumerate(DISTRICTS[:5]) if n != 2]
    users = result.records("users")
    for district in others:
        assert len([u for u in users if u["district"] == district]) == 5
    # The failed district's records up to its last complete page, and no completed snapshot.
    assert len([u for u in users if u["district"] == DISTRICTS[2]]) == 2
    assert {s["district"] for s in result.records("snapshots")} == set(others)


def test_districts_waiting_for_their_window_wait_together_and_hold_no_request_slot(
    threaded_clever: FakeClever,
) -> None:
    # Six tokens whose windows another application has spent, two requests at a time: the
    # six waits overlap (a waiting district holds no slot), rather than coming two by two.
    _districts(threaded_clever, 6)
    log: list[tuple[str, int]] = []
    spent = set(TOKENS[:6])

    def spent_window(request: Request) -> Response | None:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if request.path != "/v3.1/districts":
            return None
        if token in spent:
            spent.discard(token)
            log.append((token, 429))
            reset = str(int(time.time()) + 1)
            headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
            return Response("", status=429, headers=headers)
        log.append((token, 200))
        return None

    threaded_clever.intercept = spent_window

    result = run_sync(_config(threaded_clever, 6, max_parallel_districts=2), streams={"users"})

    assert result.error is None
    assert len(result.records("users")) == 30
    statuses = [status for _, status in log]
    assert statuses == [429] * 6 + [200] * 6
