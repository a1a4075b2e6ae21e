"""Errors at the API's edges: retried, waited out, or failed with a message that helps."""

from __future__ import annotations

import logging
import time

import pytest
from pytest_httpserver import HTTPServer

from tap_clever.errors import CleverAPIError, CleverConnectionError, CleverResponseError
from tap_clever.tap import TapClever
from tests.tap.conftest import DISTRICT_A, TOKEN_A, FakeClever, object_id, run_sync

USERS = [{"id": object_id(i), "district": DISTRICT_A, "roles": {}} for i in range(1, 4)]


def config(clever: FakeClever, **extra: object) -> dict:
    return {"api_url": clever.url, "auth_token": TOKEN_A, "page_size": 2, **extra}


def test_429_waits_until_the_reset_then_retries(clever: FakeClever, httpserver: HTTPServer) -> None:
    clever.set_records(TOKEN_A, "users", USERS)
    reset_at = int(time.time()) + 2
    httpserver.expect_oneshot_request("/v3.1/users").respond_with_data(
        "",
        status=429,
        headers={
            "X-RateLimit-Limit": "1200",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(reset_at),
        },
    )

    started = time.time()
    result = run_sync(config(clever), streams={"users"})

    assert result.error is None
    assert len(result.records("users")) == 3
    # Waited for the reset, not for the (0.01 s) exponential backoff the tests configure.
    assert time.time() >= reset_at
    assert time.time() - started < 10


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retried_with_backoff(
    clever: FakeClever, httpserver: HTTPServer, status: int
) -> None:
    clever.set_records(TOKEN_A, "users", USERS)
    for _ in range(2):
        httpserver.expect_oneshot_request("/v3.1/users").respond_with_data("oops", status=status)

    result = run_sync(config(clever), streams={"users"})

    assert result.error is None
    assert len(result.records("users")) == 3
    assert len([r for r in clever.requests() if r.path == "/v3.1/users"]) == 2 + 2


def test_server_error_that_persists_fails_naming_district_and_endpoint(
    clever: FakeClever, httpserver: HTTPServer
) -> None:
    for _ in range(10):
        httpserver.expect_oneshot_request("/v3.1/users").respond_with_data("down", status=503)

    result = run_sync(config(clever), streams={"districts", "users"})

    assert isinstance(result.error, CleverConnectionError)
    message = str(result.error)
    assert "'Ashfield Unified'" in message
    assert DISTRICT_A in message
    assert "users" in message
    assert "4 attempts" in message
    assert TOKEN_A not in result.output


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, "bad request"),
        (401, "rejected the bearer token"),
        (404, "not found"),
        (413, "page_size to 10000 or less"),
        (501, "not implemented"),
    ],
)
def test_fatal_statuses_fail_at_once_with_advice_and_no_token(
    clever: FakeClever, httpserver: HTTPServer, status: int, expected: str
) -> None:
    httpserver.expect_oneshot_request("/v3.1/sections").respond_with_json(
        {"message": "computer says no"}, status=status
    )

    result = run_sync(config(clever), streams={"sections"})

    assert isinstance(result.error, CleverAPIError)
    message = str(result.error)
    assert f"HTTP {status}" in message
    assert expected in message
    assert "GET /v3.1/sections?limit=2" in message
    assert DISTRICT_A in message
    assert "computer says no" in message
    assert TOKEN_A not in result.output
    assert len([r for r in clever.requests() if r.path == "/v3.1/sections"]) == 1


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("<html><body>Sign in</body></html>", "not JSON"),
        ('{"items": []}', "no `data` list"),
        ('{"data": [{"uri": "/v3.1/users/1"}]}', "no `data` object with an `id`"),
        ('{"data": [', "not JSON"),
    ],
)
def test_malformed_response_fails_naming_the_url(
    clever: FakeClever, httpserver: HTTPServer, body: str, problem: str
) -> None:
    httpserver.expect_oneshot_request("/v3.1/users").respond_with_data(
        body, content_type="text/html"
    )

    result = run_sync(config(clever), streams={"users"})

    assert isinstance(result.error, CleverResponseError)
    assert problem in str(result.error)
    assert "/v3.1/users?limit=2" in str(result.error)
    assert result.records("users") == []


def test_malformed_second_page_keeps_state_at_the_last_complete_page(
    clever: FakeClever, httpserver: HTTPServer
) -> None:
    events = [
        {
            "id": object_id(i, "61"),
            "type": "users.updated",
            "created": "2026-11-01T00:00:00Z",
            "data": {"object": {"id": object_id(i)}},
        }
        for i in range(1, 6)
    ]
    clever.set_records(TOKEN_A, "events", events)
    httpserver.expect_oneshot_request(
        "/v3.1/events", query_string={"starting_after": events[1]["id"], "limit": "2"}
    ).respond_with_data('{"data": [{"data": {"id": "x"}}, oops', content_type="application/json")

    result = run_sync(config(clever), streams={"events"})

    assert isinstance(result.error, CleverResponseError)
    assert [e["id"] for e in result.records("events")] == [events[0]["id"], events[1]["id"]]
    bookmarks = [
        p["replication_key_value"]
        for m in result.messages
        if m["type"] == "STATE"
        for p in m["value"].get("bookmarks", {}).get("events", {}).get("partitions", [])
        if "replication_key_value" in p
    ]
    # Resumable at the last complete page, and never past it.
    assert bookmarks[-1] == events[1]["id"]
    assert max(bookmarks) == events[1]["id"]


def test_instant_login_token_is_rejected_before_any_request(clever: FakeClever) -> None:
    with pytest.raises(Exception, match="Instant Login") as caught:
        TapClever(config={"api_url": clever.url, "auth_token": "il3jsfUI2131da2f"})

    assert "district-app token" in str(caught.value)
    assert "il3jsfUI2131da2f" not in str(caught.value)
    assert clever.server.log == []


def test_instant_login_token_in_a_list_is_rejected_naming_its_position(clever: FakeClever) -> None:
    with pytest.raises(Exception, match=r"district_tokens\[1\]"):
        TapClever(config={"api_url": clever.url, "district_tokens": [TOKEN_A, "ilXYZ"]})
    assert clever.server.log == []


def test_missing_credentials_say_which_settings_to_set(clever: FakeClever) -> None:
    result = run_sync({"api_url": clever.url}, streams={"users"})

    assert result.error is not None
    assert "client_id and client_secret" in str(result.error)
    assert clever.server.log == []


def test_unreachable_api_url_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_sync({"api_url": "http://127.0.0.1:9", "auth_token": TOKEN_A}, streams={"users"})

    assert result.error is not None
    assert "could not reach Clever" in str(result.error)
    assert TOKEN_A not in result.output


def test_api_url_with_a_version_path_is_normalised(clever: FakeClever) -> None:
    clever.set_records(TOKEN_A, "users", USERS)

    result = run_sync({"api_url": clever.url + "/v3.1/", "auth_token": TOKEN_A}, streams={"users"})

    assert result.error is None
    assert len(result.records("users")) == 3


def test_no_secret_in_logs_of_a_failing_multi_district_run(
    clever: FakeClever, httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    httpserver.expect_oneshot_request("/v3.1/users").respond_with_json({"message": "no"}, 401)
    clever.oauth_credentials = ("app-id", "s3cr3t-client-secret")

    result = run_sync(
        {
            "api_url": clever.url,
            "oauth_url": clever.url,
            "client_id": "app-id",
            "client_secret": "s3cr3t-client-secret",
            "auth_token": TOKEN_A,
        },
        streams={"users"},
    )

    assert result.error is not None
    everything = result.output + caplog.text
    assert TOKEN_A not in everything
    assert "s3cr3t-client-secret" not in everything
