"""Several districts in one run: token discovery, per-district state, one failing district."""

from __future__ import annotations

from pytest_httpserver import HTTPServer

from tap_clever.errors import CleverDistrictsFailedError
from tests.tap.conftest import (
    DISTRICT_A,
    DISTRICT_B,
    TOKEN_A,
    TOKEN_B,
    FakeClever,
    object_id,
    run_sync,
)


def _event(n: int, district_prefix: str) -> dict:
    return {
        "id": object_id(n, "61" + district_prefix),
        "type": "users.created",
        "created": "2026-11-01T00:00:00.000Z",
        "data": {"object": {"id": object_id(n)}},
    }


def _two_districts(clever: FakeClever) -> None:
    clever.add_district(TOKEN_B, DISTRICT_B, "Brookside ISD")
    clever.set_records(TOKEN_A, "users", [{"id": object_id(1), "district": DISTRICT_A}])
    clever.set_records(TOKEN_B, "users", [{"id": object_id(2), "district": DISTRICT_B}])
    clever.set_records(TOKEN_A, "events", [_event(1, "a"), _event(2, "a")])
    clever.set_records(TOKEN_B, "events", [_event(1, "b")])


def _bookmarks(state: dict) -> dict[str, str]:
    partitions = state.get("bookmarks", {}).get("events", {}).get("partitions", [])
    return {p["context"]["district"]: p.get("replication_key_value") for p in partitions}


def test_district_tokens_sync_every_district_with_its_own_token(clever: FakeClever) -> None:
    _two_districts(clever)

    result = run_sync(
        {"api_url": clever.url, "district_tokens": [TOKEN_A, TOKEN_B]},
        streams={"users", "events"},
    )

    assert result.error is None
    assert {(u["id"], u["district"]) for u in result.records("users")} == {
        (object_id(1), DISTRICT_A),
        (object_id(2), DISTRICT_B),
    }
    # Events do not carry a district in Clever's payload: the tap adds it.
    assert {e["district"] for e in result.records("events")} == {DISTRICT_A, DISTRICT_B}
    assert _bookmarks(result.final_state) == {
        DISTRICT_A: _event(2, "a")["id"],
        DISTRICT_B: _event(1, "b")["id"],
    }
    # Each district's requests carry that district's token and no other.
    assert sorted(r.headers["Authorization"] for r in clever.requests("/v3.1/users")) == [
        f"Bearer {TOKEN_A}",
        f"Bearer {TOKEN_B}",
    ]


def test_client_credentials_discover_every_district_token(clever: FakeClever) -> None:
    _two_districts(clever)
    clever.oauth_credentials = ("app-client-id", "app-client-secret")

    result = run_sync(
        {
            "api_url": clever.url,
            "oauth_url": clever.url,
            "client_id": "app-client-id",
            "client_secret": "app-client-secret",
        },
        streams={"users"},
    )

    assert result.error is None
    assert {u["district"] for u in result.records("users")} == {DISTRICT_A, DISTRICT_B}
    discovery = clever.requests("/oauth/tokens")
    assert len(discovery) == 1
    assert discovery[0].args["owner_type"] == "district"
    assert discovery[0].authorization.username == "app-client-id"
    # Discovered tokens already name their district: no extra /districts lookups.
    assert clever.requests("/v3.1/districts") == []


def test_wrong_client_secret_is_reported_without_the_secret(clever: FakeClever) -> None:
    clever.oauth_credentials = ("app-client-id", "right-secret")

    result = run_sync(
        {
            "api_url": clever.url,
            "oauth_url": clever.url,
            "client_id": "app-client-id",
            "client_secret": "wrong-secret-value",
        },
        streams={"users"},
    )

    assert result.error is not None
    assert "client_id/client_secret" in str(result.error)
    assert "HTTP 401" in str(result.error)
    assert "wrong-secret-value" not in result.output


def test_one_failing_district_does_not_stop_or_move_the_others(
    clever: FakeClever, httpserver: HTTPServer
) -> None:
    _two_districts(clever)
    first_state = run_sync(
        {"api_url": clever.url, "district_tokens": [TOKEN_A, TOKEN_B]}, streams={"users", "events"}
    ).final_state
    clever.set_records(TOKEN_A, "events", [_event(1, "a"), _event(2, "a"), _event(3, "a")])
    clever.set_records(TOKEN_B, "events", [_event(1, "b"), _event(2, "b")])
    # District B's token is revoked between runs.
    del clever.districts[TOKEN_B]
    clever.districts["revoked"] = {"id": "x", "name": "x"}

    result = run_sync(
        {"api_url": clever.url, "district_tokens": [TOKEN_A, TOKEN_B]},
        state=first_state,
        streams={"users", "events"},
    )

    assert isinstance(result.error, CleverDistrictsFailedError)
    assert "district_tokens[1]" in str(result.error)
    assert "HTTP 401" in str(result.error)
    assert TOKEN_B not in result.output
    # District A synced fully, and only its bookmark moved.
    assert {u["district"] for u in result.records("users")} == {DISTRICT_A}
    assert _bookmarks(result.final_state) == {
        DISTRICT_A: _event(3, "a")["id"],
        DISTRICT_B: _event(1, "b")["id"],
    }


def test_a_district_failing_mid_run_is_named_and_skipped_for_later_streams(
    clever: FakeClever, httpserver: HTTPServer
) -> None:
    _two_districts(clever)
    for token, district in ((TOKEN_A, DISTRICT_A), (TOKEN_B, DISTRICT_B)):
        clever.set_records(token, "schools", [{"id": object_id(9), "district": district}])
    # Streams sync districts, schools, ..., users, resources, events, snapshots: B fails early.
    httpserver.expect_oneshot_request(
        "/v3.1/schools", headers={"Authorization": f"Bearer {TOKEN_B}"}
    ).respond_with_json({"message": "Schools are not shared"}, status=404)

    result = run_sync(
        {"api_url": clever.url, "district_tokens": [TOKEN_A, TOKEN_B]},
        streams={"districts", "schools", "users", "events", "snapshots"},
    )

    assert isinstance(result.error, CleverDistrictsFailedError)
    assert "'Brookside ISD'" in str(result.error)
    assert "schools" in str(result.error)
    assert "Schools are not shared" in str(result.error)
    assert {c["district"] for c in result.records("schools")} == {DISTRICT_A}
    # Later streams skip the failed district rather than loading half a snapshot, its events
    # bookmark is not created, and its snapshot is not recorded as complete.
    assert {u["district"] for u in result.records("users")} == {DISTRICT_A}
    assert set(_bookmarks(result.final_state)) == {DISTRICT_A}
    assert {s["district"] for s in result.records("snapshots")} == {DISTRICT_A}
