"""Paging: follow `links[rel=next]` to the end, keeping the limit and the host."""

from __future__ import annotations

import json

from pytest_httpserver import HTTPServer

from tests.tap.conftest import DISTRICT_A, TOKEN_A, FakeClever, object_id, run_sync


def _users(n: int) -> list[dict]:
    return [
        {"id": object_id(i), "district": DISTRICT_A, "name": {"first": f"Ada{i}"}, "roles": {}}
        for i in range(1, n + 1)
    ]


def config(clever: FakeClever, **extra: object) -> dict:
    return {"api_url": clever.url, "auth_token": TOKEN_A, "page_size": 2, **extra}


def test_follows_next_links_to_the_end_keeping_limit_on_every_page(clever: FakeClever) -> None:
    clever.set_records(TOKEN_A, "users", _users(5))

    result = run_sync(config(clever), streams={"users"})

    assert result.error is None
    assert [r["id"] for r in result.records("users")] == [object_id(i) for i in range(1, 6)]
    user_requests = [r for r in clever.requests() if r.path == "/v3.1/users"]
    assert len(user_requests) == 3
    # Clever's next links carry only starting_after: the tap must put its limit back.
    assert all(r.args.get("limit") == "2" for r in user_requests)
    assert [r.args.get("starting_after") for r in user_requests] == [
        None,
        object_id(2),
        object_id(4),
    ]


def test_exactly_full_last_page_then_empty_page_with_prev_link(
    clever: FakeClever, httpserver: HTTPServer
) -> None:
    clever.set_records(TOKEN_A, "users", _users(4))
    # After an exactly full last page, Clever still links `next`; that page is empty and may
    # carry a `prev` link even though following it is pointless.
    httpserver.expect_oneshot_request(
        "/v3.1/users", query_string={"starting_after": object_id(4), "limit": "2"}
    ).respond_with_json(
        {"data": [], "links": [{"rel": "prev", "uri": f"/v3.1/users?ending_before={object_id(5)}"}]}
    )

    result = run_sync(config(clever), streams={"users"})

    assert result.error is None
    assert len(result.records("users")) == 4
    user_requests = [r for r in clever.requests() if r.path == "/v3.1/users"]
    assert len(user_requests) == 3
    assert not any("ending_before" in r.args for r in user_requests)


def test_next_link_is_followed_on_the_configured_host_only(
    clever: FakeClever, httpserver: HTTPServer
) -> None:
    clever.set_records(TOKEN_A, "users", _users(3))
    httpserver.expect_oneshot_request("/v3.1/users", query_string={"limit": "2"}).respond_with_json(
        {
            "data": [{"data": u} for u in _users(2)],
            "links": [
                {
                    "rel": "next",
                    "uri": f"https://attacker.invalid/v3.1/users?starting_after={object_id(2)}",
                }
            ],
        }
    )

    result = run_sync(config(clever), streams={"users"})

    assert result.error is None
    assert len(result.records("users")) == 3
    second = [r for r in clever.requests() if r.path == "/v3.1/users"][1]
    assert second.host == httpserver.url_for("").split("//")[1].rstrip("/")
    assert second.args["starting_after"] == object_id(2)


def test_next_link_filters_and_limit_from_link_are_kept(
    clever: FakeClever, httpserver: HTTPServer
) -> None:
    clever.set_records(
        TOKEN_A,
        "events",
        [
            {
                "id": object_id(i, "61"),
                "type": "users.created",
                "created": "2026-11-01T00:00:00Z",
                "data": {"object": {"id": object_id(i)}},
            }
            for i in range(1, 4)
        ],
    )

    result = run_sync(config(clever, event_record_types=["users", "sections"]), streams={"events"})

    assert result.error is None
    # The sync's requests (the probes that plan the run read the feed unfiltered): a next link
    # that lost the filters would show as a second request without them.
    event_requests = [r for r in clever.requests("/v3.1/events") if "record_type" in r.args]
    assert len(event_requests) == 2
    for request in event_requests:
        assert request.args.getlist("record_type") == ["users", "sections"]
        assert request.args["limit"] == "2"


def test_records_are_the_inner_objects_unchanged_with_district(clever: FakeClever) -> None:
    term = {
        "id": object_id(7),
        "district": DISTRICT_A,
        "name": "Fall",
        "start_date": "8/25/2015",
        "end_date": "2015-12-20 00:00:00.000000",
        "ext": {"custom": {"nested": [1, 2]}},
    }
    clever.set_records(TOKEN_A, "terms", [term])

    result = run_sync(config(clever), streams={"terms"})

    assert result.clever_records("terms") == [term]
    assert json.dumps(result.records("terms")[0]["ext"]) == '{"custom": {"nested": [1, 2]}}'


def test_district_records_carry_their_own_id_as_district(clever: FakeClever) -> None:
    result = run_sync(config(clever), streams={"districts"})

    assert result.clever_records("districts") == [
        {"id": DISTRICT_A, "name": "Ashfield Unified", "district": DISTRICT_A}
    ]
