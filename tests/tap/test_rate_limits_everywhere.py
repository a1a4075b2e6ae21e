"""A 429 never fails a district: every request the tap makes waits for the window to reset."""

from __future__ import annotations

import logging
import time

import pytest
from pytest_httpserver import HTTPServer

from tests.tap.conftest import DISTRICT_A, TOKEN_A, FakeClever, object_id, run_sync

USERS = [{"id": object_id(i), "district": DISTRICT_A} for i in range(1, 4)]


def _rate_limited(httpserver: HTTPServer, path: str, times: int, reset_in: float = 1) -> None:
    """The next `times` requests to `path` answer 429, as when another application sharing the
    token has spent the window's budget."""
    for _ in range(times):
        httpserver.expect_oneshot_request(path).respond_with_data(
            "",
            status=429,
            headers={
                "X-RateLimit-Limit": "1200",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(int(time.time() + reset_in)),
            },
        )


@pytest.mark.parametrize(
    "path",
    [
        "/v3.1/districts",  # the district of the configured token
        "/v3.1/events",  # the event cursor read before the snapshot
        "/v3.1/users",  # a page of a stream
    ],
)
def test_a_budget_spent_before_the_run_is_waited_out_on_every_request(
    clever: FakeClever, httpserver: HTTPServer, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    caplog.set_level(logging.INFO)
    clever.set_records(TOKEN_A, "users", USERS)
    clever.set_records(TOKEN_A, "events", [])
    # More 429s in a row than the attempts a failing request gets (4 in the tests).
    _rate_limited(httpserver, path, times=5, reset_in=0)

    result = run_sync(
        {"api_url": clever.url, "auth_token": TOKEN_A}, streams={"users", "events", "snapshots"}
    )

    assert result.error is None
    assert len(result.records("users")) == 3
    assert [s["district"] for s in result.records("snapshots")] == [DISTRICT_A]
    assert f"GET {path}" in caplog.text
    assert "rate limit reached" in caplog.text


def test_token_discovery_waits_out_a_429_too(clever: FakeClever, httpserver: HTTPServer) -> None:
    clever.oauth_credentials = ("app-id", "app-secret")
    clever.set_records(TOKEN_A, "users", USERS)
    _rate_limited(httpserver, "/oauth/tokens", times=1)

    result = run_sync(
        {
            "api_url": clever.url,
            "oauth_url": clever.url,
            "client_id": "app-id",
            "client_secret": "app-secret",
        },
        streams={"users"},
    )

    assert result.error is None
    assert len(result.records("users")) == 3
    assert len(clever.requests("/oauth/tokens")) == 2


def test_more_429s_than_retry_attempts_still_never_fail(
    clever: FakeClever, httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    clever.set_records(TOKEN_A, "users", USERS)
    # The tests allow 4 attempts for a 5xx; a 429 is not an attempt that can run out.
    _rate_limited(httpserver, "/v3.1/users", times=6, reset_in=0)

    result = run_sync({"api_url": clever.url, "auth_token": TOKEN_A}, streams={"users"})

    assert result.error is None
    assert len(result.records("users")) == 3
    assert len(clever.requests("/v3.1/users")) == 6 + 1
    # Each request is in the SDK's request metric, as its REST streams log it.
    metrics = [r.getMessage() for r in caplog.records if "http_request_duration" in r.getMessage()]
    users = [m for m in metrics if '"endpoint":"/v3.1/users"' in m]
    assert [m.count('"http_status_code":429') for m in users] == [1] * 6 + [0]
