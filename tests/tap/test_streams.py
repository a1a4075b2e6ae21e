"""Stream behaviours: the events bookmark, and the user role filter."""

from __future__ import annotations

from tests.tap.conftest import DISTRICT_A, TOKEN_A, FakeClever, object_id, run_sync


def _events(ids: range) -> list[dict]:
    return [
        {
            "id": object_id(i, "61"),
            "type": "sections.updated",
            "created": "2026-11-01T00:00:00.000Z",
            "data": {"object": {"id": object_id(i)}, "previous_attributes": {"name": "old"}},
        }
        for i in ids
    ]


def _bookmark(state: dict) -> str | None:
    partitions = state["bookmarks"]["events"]["partitions"]
    assert [p["context"] for p in partitions] == [{"district": DISTRICT_A}]
    return partitions[0].get("replication_key_value")


def test_events_resume_after_the_bookmark_of_the_previous_run(clever: FakeClever) -> None:
    config = {"api_url": clever.url, "auth_token": TOKEN_A, "page_size": 2}
    clever.set_records(TOKEN_A, "events", _events(range(1, 4)))

    first = run_sync(config, streams={"events"})
    assert first.error is None
    assert len(first.records("events")) == 3
    assert _bookmark(first.final_state) == object_id(3, "61")

    clever.set_records(TOKEN_A, "events", _events(range(1, 6)))
    second = run_sync(config, state=first.final_state, streams={"events"})

    assert second.error is None
    assert [e["id"] for e in second.records("events")] == [object_id(4, "61"), object_id(5, "61")]
    sync_requests = [r for r in clever.requests("/v3.1/events") if r.args["limit"] != "1"]
    first_request = sync_requests[-2]
    assert first_request.args["starting_after"] == object_id(3, "61")
    assert _bookmark(second.final_state) == object_id(5, "61")


def test_events_run_with_nothing_new_keeps_the_bookmark(clever: FakeClever) -> None:
    config = {"api_url": clever.url, "auth_token": TOKEN_A}
    clever.set_records(TOKEN_A, "events", _events(range(1, 3)))
    first = run_sync(config, streams={"events"})

    again = run_sync(config, state=first.final_state, streams={"events"})

    assert again.records("events") == []
    assert _bookmark(again.final_state) == object_id(2, "61")


def test_event_records_keep_clever_fields_and_gain_district(clever: FakeClever) -> None:
    clever.set_records(TOKEN_A, "events", _events(range(1, 2)))

    result = run_sync({"api_url": clever.url, "auth_token": TOKEN_A}, streams={"events"})

    assert result.records("events") == [{**_events(range(1, 2))[0], "district": DISTRICT_A}]


def _user(n: int, *roles: str) -> dict:
    return {"id": object_id(n), "district": DISTRICT_A, "roles": {r: {} for r in roles}}


def test_one_user_role_is_filtered_by_clever(clever: FakeClever) -> None:
    clever.set_records(TOKEN_A, "users", [_user(1, "student"), _user(2, "teacher")])

    result = run_sync(
        {"api_url": clever.url, "auth_token": TOKEN_A, "user_roles": ["teacher"]},
        streams={"users"},
    )

    assert [u["id"] for u in result.records("users")] == [object_id(2)]
    assert [r.args.get("role") for r in clever.requests("/v3.1/users")] == ["teacher"]


def test_several_roles_emit_a_multi_role_user_once(clever: FakeClever) -> None:
    clever.set_records(
        TOKEN_A,
        "users",
        [
            _user(1, "student"),
            _user(2, "teacher", "district_admin"),
            _user(3, "district_admin"),
            _user(4, "contact"),
        ],
    )

    result = run_sync(
        {"api_url": clever.url, "auth_token": TOKEN_A, "user_roles": ["teacher", "district_admin"]},
        streams={"users"},
    )

    assert sorted(u["id"] for u in result.records("users")) == [object_id(2), object_id(3)]
    assert [r.args.get("role") for r in clever.requests("/v3.1/users")] == [
        "teacher",
        "district_admin",
    ]


def test_all_users_without_a_role_filter(clever: FakeClever) -> None:
    clever.set_records(TOKEN_A, "users", [_user(1, "student"), _user(2, "teacher", "staff")])

    result = run_sync({"api_url": clever.url, "auth_token": TOKEN_A}, streams={"users"})

    assert len(result.records("users")) == 2
    assert "role" not in clever.requests("/v3.1/users")[0].args


def test_fields_clever_adds_later_pass_through(clever: FakeClever) -> None:
    user = {**_user(1, "student"), "pronouns": "they/them", "name": {"first": "Ío", "nick": "I"}}
    clever.set_records(TOKEN_A, "users", [user])

    result = run_sync({"api_url": clever.url, "auth_token": TOKEN_A}, streams={"users"})

    assert result.clever_records("users") == [user]


def test_deselected_properties_are_dropped(clever: FakeClever) -> None:
    from tap_clever.tap import TapClever

    user = {**_user(1, "student"), "email": "someone@example.org", "name": {"first": "A"}}
    clever.set_records(TOKEN_A, "users", [user])
    config = {"api_url": clever.url, "auth_token": TOKEN_A}
    catalog = TapClever(config=config).catalog_dict
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == []:
                entry["metadata"]["selected"] = stream["tap_stream_id"] == "users"
            if entry["breadcrumb"] == ["properties", "email"]:
                entry["metadata"]["selected"] = False

    result = run_sync(config, catalog=catalog)

    assert result.clever_records("users") == [{k: v for k, v in user.items() if k != "email"}]


def _user_event(n: int, roles_after: list[str], roles_before: list[str] | None = None) -> dict:
    data: dict = {"object": {"id": object_id(n), "roles": {r: {} for r in roles_after}}}
    if roles_before is not None:
        data["previous_attributes"] = {"roles": {r: {} for r in roles_before}}
    return {
        "id": object_id(n, "61"),
        "type": "users.updated",
        "created": "2026-11-01T00:00:00.000Z",
        "data": data,
    }


def test_user_roles_apply_to_users_events_and_filtered_events_move_the_bookmark(
    clever: FakeClever,
) -> None:
    section_event = {**_events(range(5, 6))[0]}
    clever.set_records(
        TOKEN_A,
        "events",
        [
            _user_event(1, ["teacher"]),  # a teacher: in scope
            _user_event(2, ["staff"], ["staff", "teacher"]),  # dropped the teacher role: in
            section_event,  # not a users event: in
            _user_event(7, ["student"]),  # out of scope, and the last event of the feed
        ],
    )

    result = run_sync(
        {"api_url": clever.url, "auth_token": TOKEN_A, "user_roles": ["teacher"]},
        streams={"events"},
    )

    assert result.error is None
    assert [e["id"] for e in result.records("events")] == [
        object_id(1, "61"),
        object_id(2, "61"),
        section_event["id"],
    ]
    assert _bookmark(result.final_state) == object_id(7, "61")


def test_event_record_types_that_leave_a_selected_stream_stale_are_refused(
    clever: FakeClever,
) -> None:
    result = run_sync(
        {"api_url": clever.url, "auth_token": TOKEN_A, "event_record_types": ["sections"]},
        streams={"sections", "users", "events"},
    )

    assert result.error is not None
    assert "event_record_types leaves out users" in str(result.error)
    assert clever.requests("/v3.1/users") == []
