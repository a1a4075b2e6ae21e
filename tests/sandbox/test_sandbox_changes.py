"""Changes: the Data API and the event feed must tell the same story."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import requests

from clever_sandbox import ChangeError, SandboxServer
from clever_sandbox.schema import RECORD_TYPES
from tests.sandbox.helpers import get_json, page_all, session_for


def _students(sandbox: SandboxServer, district: int = 0) -> list[dict[str, Any]]:
    users = sandbox.records("users", sandbox.district_ids[district])
    return [u for u in users if "student" in u["roles"]]


def _all_ids(sandbox: SandboxServer) -> list[str]:
    ids = []
    for district in sandbox.district_ids:
        for record_type in RECORD_TYPES:
            ids.extend(r["id"] for r in sandbox.records(record_type, district))
        ids.extend(e["id"] for e in sandbox.events(district))
    return ids


def test_deleted_user_is_gone_and_has_a_deleted_event(make_sandbox) -> None:
    sandbox = make_sandbox()
    session = session_for(sandbox)
    student = _students(sandbox)[5]
    before_ids = _all_ids(sandbox)
    events = sandbox.apply_changes([{"op": "delete", "id": student["id"]}])
    assert events[0]["type"] == "users.deleted"
    assert events[0]["data"]["object"] == student
    assert all(e["id"] > max(before_ids) for e in events)
    assert session.get(sandbox.base_url + f"/v3.1/users/{student['id']}").status_code == 404
    records, _ = page_all(session, sandbox, "/v3.1/users?limit=10000")
    assert student["id"] not in {r["id"] for r in records}
    # cascades: no roster and no contact still points at the deleted student
    for section in sandbox.records("sections", sandbox.district_ids[0]):
        assert student["id"] not in section["students"]
    for user in sandbox.records("users", sandbox.district_ids[0]):
        contact = user["roles"].get("contact")
        if contact:
            assert student["id"] not in (contact.get("students") or [])
            rels = contact.get("student_relationships") or []
            assert student["id"] not in [r["student"] for r in rels]
    feed = get_json(session, sandbox, "/v3.1/events")
    assert [i["data"]["id"] for i in feed["data"]] == [e["id"] for e in events]
    assert feed["data"][0]["uri"] == f"/v3.1/events/{events[0]['id']}"


def test_update_has_previous_attributes(make_sandbox) -> None:
    sandbox = make_sandbox()
    student = _students(sandbox)[0]
    new_grade = "3" if student["roles"]["student"]["grade"] != "3" else "4"
    [event] = sandbox.apply_changes(
        [{"op": "set_grade", "user": student["id"], "grade": new_grade}]
    )
    assert event["type"] == "users.updated"
    assert event["data"]["previous_attributes"]["roles"] == student["roles"]
    assert event["data"]["object"]["roles"]["student"]["grade"] == new_grade
    assert event["data"]["previous_attributes"]["last_modified"] == student["last_modified"]
    assert event["created"] == event["data"]["object"]["last_modified"]
    fetched = get_json(session_for(sandbox), sandbox, f"/v3.1/users/{student['id']}")["data"]
    assert fetched == event["data"]["object"]


def test_generic_update_with_dotted_paths(make_sandbox) -> None:
    sandbox = make_sandbox()
    school = sandbox.records("schools", sandbox.district_ids[1])[0]
    [event] = sandbox.apply_changes(
        [
            {
                "op": "update",
                "id": school["id"],
                "set": {"name": "Zoë's Académie 学校", "location.city": "Nowhere"},
            }
        ]
    )
    assert event["type"] == "schools.updated"
    assert event["data"]["previous_attributes"]["name"] == school["name"]
    assert event["data"]["previous_attributes"]["location"] == school["location"]
    assert sandbox.events(sandbox.district_ids[1])[-1]["id"] == event["id"]
    assert sandbox.events(sandbox.district_ids[0]) == []


def test_move_student_to_another_school(make_sandbox) -> None:
    sandbox = make_sandbox()
    district = sandbox.district_ids[0]
    student = _students(sandbox)[1]
    old = student["roles"]["student"]["school"]
    new = next(s["id"] for s in sandbox.records("schools", district) if s["id"] != old)
    events = sandbox.apply_changes([{"op": "move_school", "user": student["id"], "school": new}])
    role = events[0]["data"]["object"]["roles"]["student"]
    assert role["school"] == new
    assert role["schools"][0] == new
    assert old not in role["schools"]
    ended = [e for e in role["enrollments"] if e["school"] == old]
    assert ended
    assert all("end_date" in e for e in ended)
    assert {"school": new, "start_date": events[0]["created"][:10]} in role["enrollments"]
    for section in sandbox.records("sections", district):
        if section["school"] == old:
            assert student["id"] not in section["students"]
    assert {e["type"] for e in events[1:]} <= {"sections.updated"}
    with pytest.raises(ChangeError):
        sandbox.apply_changes([{"op": "move_school", "user": student["id"], "school": new}])


def test_create_student_with_enrollment(make_sandbox) -> None:
    sandbox = make_sandbox()
    district = sandbox.district_ids[1]
    school = sandbox.records("schools", district)[-1]["id"]
    [event] = sandbox.apply_changes(
        [
            {
                "op": "create",
                "type": "users",
                "role": "student",
                "district": district,
                "school": school,
                "fields": {"name": {"first": "Ņina", "last": "O'Hara-李"}},
            }
        ]
    )
    user = event["data"]["object"]
    assert event["type"] == "users.created"
    assert user["district"] == district
    assert user["name"]["first"] == "Ņina"
    assert user["roles"]["student"]["school"] == school
    assert user["roles"]["student"]["enrollments"][-1]["school"] == school
    records, _ = page_all(session_for(sandbox, 1), sandbox, "/v3.1/users?role=student&limit=10000")
    assert records[-1] == user  # newest id sorts last


def test_section_roster_changes_and_delete(make_sandbox) -> None:
    sandbox = make_sandbox()
    district = sandbox.district_ids[0]
    section = sandbox.records("sections", district)[0]
    outsider = next(s["id"] for s in _students(sandbox) if s["id"] not in section["students"])
    removed = section["students"][0]
    events = sandbox.apply_changes(
        [
            {"op": "add_section_students", "section": section["id"], "students": [outsider]},
            {"op": "remove_section_students", "section": section["id"], "students": [removed]},
        ]
    )
    assert [e["type"] for e in events] == ["sections.updated", "sections.updated"]
    assert events[0]["data"]["previous_attributes"]["students"] == section["students"]
    current = sandbox.record("sections", section["id"])
    assert current is not None
    assert outsider in current["students"]
    assert removed not in current["students"]
    [deleted] = sandbox.apply_changes([{"op": "delete", "id": section["id"]}])
    assert deleted["type"] == "sections.deleted"
    assert deleted["data"]["object"] == current
    session = session_for(sandbox)
    assert session.get(sandbox.base_url + f"/v3.1/sections/{section['id']}").status_code == 404
    with pytest.raises(ChangeError):
        sandbox.apply_changes(
            [{"op": "add_section_students", "section": section["id"], "students": [outsider]}]
        )


def test_contact_relationships_v3_and_v2_events(make_sandbox) -> None:
    sandbox = make_sandbox()
    users = sandbox.records("users", sandbox.district_ids[0])
    contact = next(u for u in users if "student_relationships" in u["roles"].get("contact", {}))
    kids = [s["id"] for s in _students(sandbox)[:2]]
    rels = [
        {"student": kids[0], "relationship": "Grandparent", "type": "Family"},
        {"student": kids[1], "relationship": "Aunt/Uncle", "type": "Emergency"},
    ]
    [v3] = sandbox.apply_changes(
        [{"op": "set_contact_relationships", "user": contact["id"], "relationships": rels}]
    )
    assert v3["data"]["object"]["roles"]["contact"]["student_relationships"] == rels
    assert "students" not in v3["data"]["object"]["roles"]["contact"]
    [v2] = sandbox.apply_changes(
        [
            {
                "op": "set_contact_relationships",
                "user": contact["id"],
                "relationships": rels[:1],
                "event_shape": "v2",
            }
        ]
    )
    role = v2["data"]["object"]["roles"]["contact"]
    assert role["students"] == [kids[0]]
    assert role["relationship"] == "Grandparent"
    assert role["type"] == "Family"
    assert role["student_relationships"] == []
    # the Data API keeps the v3 shape
    stored = sandbox.record("users", contact["id"])
    assert stored is not None
    assert stored["roles"]["contact"]["student_relationships"] == rels[:1]
    with pytest.raises(ChangeError):
        sandbox.apply_changes(
            [
                {
                    "op": "set_contact_relationships",
                    "user": contact["id"],
                    "relationships": [{"student": sandbox.district_ids[0]}],
                }
            ]
        )


def test_term_dates_and_roles(make_sandbox) -> None:
    sandbox = make_sandbox()
    district = sandbox.district_ids[0]
    term = sandbox.records("terms", district)[0]
    [event] = sandbox.apply_changes(
        [
            {
                "op": "set_term_dates",
                "term": term["id"],
                "start_date": "2025-01-06 00:00:00.000000",
                "end_date": "2025-06-12T00:00:00.000Z",
            }
        ]
    )
    assert event["data"]["previous_attributes"] == {
        "end_date": term["end_date"],
        "start_date": term["start_date"],
    }
    users = sandbox.records("users", district)
    teacher = next(u for u in users if set(u["roles"]) == {"teacher"})
    [added] = sandbox.apply_changes(
        [{"op": "add_role", "user": teacher["id"], "role": "district_admin"}]
    )
    assert set(added["data"]["object"]["roles"]) == {"teacher", "district_admin"}
    session = session_for(sandbox)
    admins, _ = page_all(session, sandbox, "/v3.1/users?role=district_admin&limit=10000")
    assert teacher["id"] in {a["id"] for a in admins}
    events = sandbox.apply_changes([{"op": "drop_role", "user": teacher["id"], "role": "teacher"}])
    assert set(events[0]["data"]["object"]["roles"]) == {"district_admin"}
    teachers, _ = page_all(session, sandbox, "/v3.1/users?role=teacher&limit=10000")
    assert teacher["id"] not in {t["id"] for t in teachers}
    for section in sandbox.records("sections", district):
        assert teacher["id"] not in section["teachers"]
        assert section["teacher"] != teacher["id"]
    student = _students(sandbox)[0]
    with pytest.raises(ChangeError):
        sandbox.apply_changes([{"op": "add_role", "user": student["id"], "role": "teacher"}])


@pytest.mark.parametrize("record_type", ["schools", "courses", "terms", "resources", "sections"])
def test_create_and_delete_other_types(make_sandbox, record_type: str) -> None:
    sandbox = make_sandbox()
    district = sandbox.district_ids[1]
    [created] = sandbox.apply_changes([{"op": "create", "type": record_type, "district": district}])
    assert created["type"] == f"{record_type}.created"
    record = created["data"]["object"]
    assert record["district"] == district
    assert sandbox.records(record_type, district)[-1] == record
    events = sandbox.apply_changes([{"op": "delete", "id": record["id"]}])
    assert events[0]["type"] == f"{record_type}.deleted"
    assert sandbox.record(record_type, record["id"]) is None


def test_deleting_a_term_nulls_it_on_sections(make_sandbox) -> None:
    sandbox = make_sandbox()
    district = sandbox.district_ids[0]
    section = next(s for s in sandbox.records("sections", district) if s.get("term_id"))
    events = sandbox.apply_changes([{"op": "delete", "id": section["term_id"]}])
    assert events[0]["type"] == "terms.deleted"
    assert any(e["data"]["object"]["id"] == section["id"] for e in events[1:])
    sections = sandbox.records("sections", district)
    assert all(s.get("term_id") != section["term_id"] for s in sections)


def test_unknown_operations_and_ids_are_rejected(make_sandbox) -> None:
    sandbox = make_sandbox()
    with pytest.raises(ChangeError):
        sandbox.apply_changes([{"op": "teleport"}])
    with pytest.raises(ChangeError):
        sandbox.apply_changes([{"op": "delete", "id": "0" * 24}])
    response = requests.post(
        sandbox.base_url + "/_sandbox/changes",
        json={"ops": [{"op": "delete", "id": "x"}]},
        timeout=10,
    )
    assert response.status_code == 400


def test_silent_removal_has_no_event(make_sandbox) -> None:
    sandbox = make_sandbox()
    student = _students(sandbox)[2]
    response = requests.post(
        sandbox.base_url + "/_sandbox/silent-remove", json={"ids": [student["id"]]}, timeout=10
    )
    assert response.json() == {"removed": [student["id"]]}
    assert sandbox.events(sandbox.district_ids[0]) == []
    session = session_for(sandbox)
    assert session.get(sandbox.base_url + f"/v3.1/users/{student['id']}").status_code == 404
    for section in sandbox.records("sections", sandbox.district_ids[0]):
        assert student["id"] not in section["students"]


def test_event_expiry_and_clock(make_sandbox) -> None:
    sandbox = make_sandbox()
    district = sandbox.district_ids[0]
    old = sandbox.random_changes(5, seed=1, district_id=district)
    sandbox.advance_clock(days=31)
    new = sandbox.random_changes(5, seed=2, district_id=district)
    assert new[0]["created"] > old[-1]["created"]
    assert int(new[0]["id"][:8], 16) - int(old[-1]["id"][:8], 16) >= 31 * 86400
    response = requests.post(
        sandbox.base_url + "/_sandbox/expire-events", json={"older_than_days": 30}, timeout=10
    )
    assert response.json() == {"expired": len(old)}
    feed = [e["id"] for e in sandbox.events(district)]
    assert feed == [e["id"] for e in new]
    session = session_for(sandbox)
    assert session.get(sandbox.base_url + f"/v3.1/events/{old[0]['id']}").status_code == 404
    # a cursor that fell out of the feed still pages from the start of what is left
    payload = get_json(session, sandbox, f"/v3.1/events?starting_after={old[0]['id']}")
    assert [i["data"]["id"] for i in payload["data"]] == feed
    assert sandbox.expire_events(before_id=new[2]["id"]) == 2
    clock = requests.post(sandbox.base_url + "/_sandbox/clock", json={"days": 1}, timeout=10)
    assert clock.json()["now"] > new[-1]["created"]


def _normalize(record: dict[str, Any]) -> dict[str, Any]:
    """Compare contacts by their students only (v2-shaped events lose per-student detail)."""
    out = copy.deepcopy(record)
    roles = out.get("roles")
    contact = roles.get("contact") if isinstance(roles, dict) else None
    if contact is not None:
        students = contact.pop("students", None)
        rels = contact.pop("student_relationships", None) or []
        contact.pop("relationship", None)
        contact.pop("type", None)
        contact["_students"] = sorted(students if students else [r["student"] for r in rels])
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_initial_sync_plus_events_equals_data_api(make_sandbox, seed: int) -> None:
    """A warehouse built by the documented recipe ends up equal to the sandbox's state."""
    sandbox = make_sandbox(seed=seed, initial_events=3)
    for district_no, district in enumerate(sandbox.district_ids):
        session = session_for(sandbox, district_no)
        cursor = get_json(session, sandbox, "/v3.1/events?ending_before=last&limit=1")["data"]
        cursor_id = cursor[0]["data"]["id"] if cursor else None
        warehouse: dict[str, dict[str, dict[str, Any]]] = {}
        for record_type in RECORD_TYPES:
            records, _ = page_all(session, sandbox, f"/v3.1/{record_type}?limit=10000")
            warehouse[record_type] = {r["id"]: r for r in records}
        sandbox.random_changes(120, seed=seed, district_id=district)
        uri = "/v3.1/events?limit=25" + (f"&starting_after={cursor_id}" if cursor_id else "")
        events, _ = page_all(session, sandbox, uri)
        assert events
        for event in events:
            record_type, action = event["type"].split(".")
            obj = event["data"]["object"]
            if action == "deleted":
                warehouse[record_type].pop(obj["id"], None)
            else:
                warehouse[record_type][obj["id"]] = obj
        for record_type in RECORD_TYPES:
            expected = [_normalize(r) for r in sandbox.records(record_type, district)]
            got = [_normalize(warehouse[record_type][k]) for k in sorted(warehouse[record_type])]
            assert got == expected, record_type


def test_random_changes_cover_the_mix(make_sandbox) -> None:
    sandbox = make_sandbox(users_per_district=500)
    events = sandbox.random_changes(400, seed=7)
    types = {e["type"] for e in events}
    for expected in (
        "users.created",
        "users.updated",
        "users.deleted",
        "sections.created",
        "sections.updated",
        "sections.deleted",
        "terms.updated",
        "schools.created",
        "courses.created",
        "resources.created",
    ):
        assert expected in types, expected
    contacts_v2 = [
        e
        for e in events
        if e["type"].startswith("users.")
        and "students" in e["data"]["object"]["roles"].get("contact", {})
    ]
    assert contacts_v2
    ids = [e["id"] for e in events]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    updates = [e for e in events if e["type"].endswith(".updated")]
    assert all("previous_attributes" in e["data"] for e in updates)
    assert all("previous_attributes" not in e["data"] for e in events if e not in updates)


def test_changes_over_http(make_sandbox) -> None:
    sandbox = make_sandbox()
    student = _students(sandbox)[0]
    response = requests.post(
        sandbox.base_url + "/_sandbox/changes",
        json={"ops": [{"op": "delete", "id": student["id"]}], "random": 10, "seed": 4},
        timeout=30,
    )
    payload = response.json()
    assert response.status_code == 200
    assert payload["count"] == len(payload["events"]) >= 11
    assert payload["events"][0]["type"] == "users.deleted"
    records = requests.get(
        sandbox.base_url + "/_sandbox/records/users",
        params={"district": sandbox.district_ids[0]},
        timeout=30,
    ).json()["data"]
    assert records == sandbox.records("users", sandbox.district_ids[0])
    assert student["id"] not in {r["id"] for r in records}


def test_records_and_events_without_district_cover_all_districts(make_sandbox) -> None:
    sandbox = make_sandbox(initial_events=2)
    first, second = sandbox.district_ids
    everyone = sandbox.records("schools")
    assert everyone == sandbox.records("schools", first) + sandbox.records("schools", second)
    assert {s["district"] for s in everyone} == {first, second}
    over_http = requests.get(sandbox.base_url + "/_sandbox/records/schools", timeout=10).json()
    assert over_http["data"] == everyone
    feed = requests.get(sandbox.base_url + "/_sandbox/events", timeout=10).json()["data"]
    assert feed == sandbox.events(first) + sandbox.events(second)
    assert sandbox.events(first)
    assert sandbox.events(second)
    missing = requests.get(sandbox.base_url + "/_sandbox/records/schools?district=nope", timeout=10)
    assert missing.status_code == 404
