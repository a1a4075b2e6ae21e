"""Paging exactly like Clever: ascending ids, limit, cursors, and the documented link quirks."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from clever_sandbox import SandboxServer
from clever_sandbox.schema import RECORD_TYPES, USER_ROLES
from tests.sandbox.helpers import get_json, link, page_all, session_for


def test_every_user_once_in_ascending_order(shared_sandbox: SandboxServer) -> None:
    session = session_for(shared_sandbox)
    records, pages = page_all(session, shared_sandbox, "/v3.1/users?limit=37")
    ids = [r["id"] for r in records]
    assert ids == sorted(ids)
    assert len(ids) == len(set(ids))
    expected = [r["id"] for r in shared_sandbox.records("users", shared_sandbox.district_ids[0])]
    assert ids == expected
    assert all(len(p["data"]) == 37 for p in pages[:-1])
    assert len(pages[-1]["data"]) == len(ids) % 37 or len(pages[-1]["data"]) == 0
    for payload in pages[:-1]:
        query = parse_qs(urlsplit(link(payload, "next") or "").query)
        assert query["limit"] == ["37"]
        assert query["starting_after"] == [payload["data"][-1]["data"]["id"]]


@pytest.mark.parametrize("record_type", RECORD_TYPES)
def test_list_items_carry_uri_and_district(shared_sandbox: SandboxServer, record_type: str) -> None:
    session = session_for(shared_sandbox, 1)
    payload = get_json(session, shared_sandbox, f"/v3.1/{record_type}")
    assert payload["data"], record_type
    assert link(payload, "self") == f"/v3.1/{record_type}"
    for item in payload["data"]:
        assert item["uri"] == f"/v3.1/{record_type}/{item['data']['id']}"
        if record_type == "districts":
            assert item["data"]["id"] == shared_sandbox.district_ids[1]
        else:
            assert item["data"]["district"] == shared_sandbox.district_ids[1]


def test_default_limit_is_100(shared_sandbox: SandboxServer) -> None:
    payload = get_json(session_for(shared_sandbox), shared_sandbox, "/v3.1/users")
    assert len(payload["data"]) == 100
    assert "limit" not in parse_qs(urlsplit(link(payload, "next") or "").query)


def test_exactly_full_last_page_is_followed_by_an_empty_page(
    shared_sandbox: SandboxServer,
) -> None:
    session = session_for(shared_sandbox)
    total = len(shared_sandbox.records("sections", shared_sandbox.district_ids[0]))
    first = get_json(session, shared_sandbox, f"/v3.1/sections?limit={total}")
    assert len(first["data"]) == total
    nxt = link(first, "next")
    assert nxt is not None
    empty = get_json(session, shared_sandbox, nxt)
    assert empty["data"] == []
    assert link(empty, "next") is None
    assert link(empty, "prev") is not None


def test_starting_after_page_has_prev_even_when_nothing_precedes(
    shared_sandbox: SandboxServer,
) -> None:
    session = session_for(shared_sandbox)
    payload = get_json(session, shared_sandbox, "/v3.1/users?starting_after=" + "0" * 24)
    assert len(payload["data"]) == 100
    prev = link(payload, "prev")
    assert prev is not None
    assert get_json(session, shared_sandbox, prev)["data"] == []


def test_ending_before_returns_the_records_just_before_in_ascending_order(
    shared_sandbox: SandboxServer,
) -> None:
    session = session_for(shared_sandbox)
    all_ids = [r["id"] for r in shared_sandbox.records("users", shared_sandbox.district_ids[0])]
    pivot = all_ids[250]
    payload = get_json(session, shared_sandbox, f"/v3.1/users?ending_before={pivot}&limit=20")
    assert [i["data"]["id"] for i in payload["data"]] == all_ids[230:250]
    nxt = link(payload, "next")
    assert nxt is not None
    following = get_json(session, shared_sandbox, nxt)
    assert following["data"][0]["data"]["id"] == pivot
    prev = link(payload, "prev")
    assert prev is not None
    before = get_json(session, shared_sandbox, prev)
    assert [i["data"]["id"] for i in before["data"]] == all_ids[210:230]


def test_ending_before_page_has_next_even_when_nothing_follows(
    shared_sandbox: SandboxServer,
) -> None:
    session = session_for(shared_sandbox)
    payload = get_json(session, shared_sandbox, "/v3.1/terms?ending_before=" + "f" * 24)
    nxt = link(payload, "next")
    assert payload["data"]
    assert nxt is not None
    assert get_json(session, shared_sandbox, nxt)["data"] == []


def test_cursor_is_a_range_not_a_lookup(shared_sandbox: SandboxServer) -> None:
    session = session_for(shared_sandbox)
    all_ids = [r["id"] for r in shared_sandbox.records("users", shared_sandbox.district_ids[0])]
    missing = all_ids[10][:-1] + ("0" if all_ids[10][-1] != "0" else "1")
    assert missing not in all_ids
    payload = get_json(session, shared_sandbox, f"/v3.1/users?starting_after={missing}&limit=5")
    expected = [i for i in all_ids if i > missing][:5]
    assert [i["data"]["id"] for i in payload["data"]] == expected


def test_bare_next_links_drop_limit_and_filters(make_sandbox) -> None:
    sandbox = make_sandbox(bare_next_links=True)
    session = session_for(sandbox)
    payload = get_json(session, sandbox, "/v3.1/users?limit=20&role=student")
    query = parse_qs(urlsplit(link(payload, "next") or "").query)
    assert list(query) == ["starting_after"]
    followed = get_json(session, sandbox, link(payload, "next") or "")
    assert len(followed["data"]) == 100  # verbatim link falls back to the default limit
    assert any("student" not in i["data"]["roles"] for i in followed["data"])


@pytest.mark.parametrize("role", USER_ROLES)
def test_role_filter(shared_sandbox: SandboxServer, role: str) -> None:
    session = session_for(shared_sandbox)
    records, pages = page_all(session, shared_sandbox, f"/v3.1/users?role={role}&limit=50")
    assert records, role
    assert all(role in r["roles"] for r in records)
    everyone = shared_sandbox.records("users", shared_sandbox.district_ids[0])
    assert [r["id"] for r in records] == [r["id"] for r in everyone if role in r["roles"]]
    for payload in pages[:-1]:
        assert parse_qs(urlsplit(link(payload, "next") or "").query)["role"] == [role]


def test_events_record_type_filter_is_repeatable(make_sandbox) -> None:
    sandbox = make_sandbox()
    events = sandbox.random_changes(60, seed=3, district_id=sandbox.district_ids[0])
    session = session_for(sandbox)
    kinds = {"users", "sections"}
    records, pages = page_all(
        session, sandbox, "/v3.1/events?record_type=users&record_type=sections&limit=7"
    )
    expected = [e["id"] for e in events if e["type"].split(".")[0] in kinds]
    assert [e["id"] for e in records] == expected
    assert len(expected) < len(events)
    for payload in pages[:-1]:
        assert parse_qs(urlsplit(link(payload, "next") or "").query)["record_type"] == [
            "users",
            "sections",
        ]


def test_events_ending_before_last_gives_newest_event(shared_sandbox: SandboxServer) -> None:
    session = session_for(shared_sandbox)
    newest = shared_sandbox.events(shared_sandbox.district_ids[0])[-1]
    payload = get_json(session, shared_sandbox, "/v3.1/events?ending_before=last&limit=1")
    assert [i["data"]["id"] for i in payload["data"]] == [newest["id"]]
    single = get_json(session, shared_sandbox, f"/v3.1/events/{newest['id']}")
    assert single["data"] == newest


def test_empty_event_feed(make_sandbox) -> None:
    sandbox = make_sandbox()
    payload = get_json(session_for(sandbox), sandbox, "/v3.1/events")
    assert payload["data"] == []
    assert link(payload, "next") is None


def test_school_filter_on_events(make_sandbox) -> None:
    sandbox = make_sandbox()
    district = sandbox.district_ids[0]
    school = sandbox.records("schools", district)[0]["id"]
    student = next(u for u in sandbox.records("users", district) if "student" in u["roles"])
    other_school = sandbox.records("schools", district)[1]["id"]
    target = other_school if student["roles"]["student"]["school"] == school else school
    sandbox.apply_changes([{"op": "move_school", "user": student["id"], "school": target}])
    sandbox.apply_changes([{"op": "create", "type": "courses", "district": district}])
    payload = get_json(session_for(sandbox), sandbox, f"/v3.1/events?school={target}")
    types = [i["data"]["type"] for i in payload["data"]]
    assert "users.updated" in types
    assert "courses.created" not in types


def test_keep_alive_reuses_one_connection(shared_sandbox: SandboxServer) -> None:
    session = session_for(shared_sandbox)
    ports = set()
    for _ in range(5):
        response = session.get(shared_sandbox.base_url + "/v3.1/schools", stream=True)
        sock = response.raw._connection.sock  # urllib3 internals: the live socket
        ports.add(sock.getsockname()[1])
        response.content  # noqa: B018 - drain the body so the connection is reused
    assert len(ports) == 1
