"""Several districts read at once, over HTTP: interleaved reads, ordered output, each district
paced by its own token, one failing without the others, connections bounded."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator

import pytest
from werkzeug import Request, Response

from tap_clever import streams
from tap_clever.client import Page
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


def test_a_run_that_fails_sends_nothing_more(
    threaded_clever: FakeClever, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One district, whose users are read ahead page by page while its schools page, malformed,
    # is still being written: once the run has failed, no new request of it may reach Clever
    # (or whatever answers at that address later).
    _districts(threaded_clever, 1)
    threaded_clever.set_records(
        TOKEN_A, "users", [{"id": object_id(i), "district": DISTRICT_A} for i in range(40)]
    )
    users_requests: list[float] = []

    def malformed_schools_and_slow_users(request: Request) -> Response | None:
        if request.path == "/v3.1/schools":
            return Response('{"data": [{"uri": "/v3.1/schools/1"}]}', status=200)
        if request.path == "/v3.1/users":
            users_requests.append(time.monotonic())
            time.sleep(0.02)
        return None

    threaded_clever.intercept = malformed_schools_and_slow_users
    read_schools = streams.SchoolsStream.district_records

    def slowly(self: streams.SchoolsStream, pages: Iterable[Page], context: dict) -> Iterator:
        time.sleep(0.3)  # the users pages are on their way meanwhile
        yield from read_schools(self, pages, context)

    monkeypatch.setattr(streams.SchoolsStream, "district_records", slowly)

    result = run_sync(
        {"api_url": threaded_clever.url, "auth_token": TOKEN_A, "page_size": 1},
        streams={"districts", "schools", "users"},
    )
    returned = time.monotonic()
    time.sleep(0.5)

    assert result.error is not None
    assert "no `data` object" in str(result.error)
    assert users_requests, "the users pages were not read ahead: the test shows nothing"
    # At most the one request that was on the wire when the run stopped (the district's token
    # sends one at a time); without stopping, the twenty-odd pages left would follow.
    assert len([at for at in users_requests if at > returned]) <= 1
