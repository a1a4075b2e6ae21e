"""Record shapes follow the v3.1 schemas, and the documented data quirks are all present."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

from clever_sandbox import SandboxServer
from clever_sandbox import schema as s
from clever_sandbox.schema import RECORD_TYPES

OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
DOB = re.compile(r"^(?:[0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
DATE_FORMS = {
    "plain": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
    "iso": re.compile(r"^\d{4}-\d{2}-\d{2}T00:00:00\.000Z$"),
    "sql": re.compile(r"^\d{4}-\d{2}-\d{2} 00:00:00\.000000$"),
}
LANGUAGE_NAMES = {name for name, _ in s.HOME_LANGUAGES}
LANGUAGE_CODES = {code for _, code in s.HOME_LANGUAGES}


def _date_form(value: str) -> str:
    for name, pattern in DATE_FORMS.items():
        if pattern.match(value):
            return name
    raise AssertionError(f"not a Clever date: {value!r}")


def _enum(value: Any, allowed: tuple[str, ...], nullable: bool = True) -> None:
    assert value in allowed or (nullable and value is None), value


def _check_user(user: dict[str, Any]) -> None:
    assert set(user) <= s.USER_KEYS
    assert {"id", "district", "created", "last_modified", "name", "roles"} <= set(user)
    assert DATETIME.match(user["created"])
    assert DATETIME.match(user["last_modified"])
    assert set(user["name"]) <= s.NAME_KEYS
    assert user["email"] is None or re.match(r"^[^@\s]+@example\.(org|com)$", user["email"])
    if "lms_status" in user:
        assert set(user["lms_status"]) == s.LMS_STATUS_KEYS
    roles = user["roles"]
    assert roles
    assert set(roles) <= set(s.ROLE_KEYS)
    if "student" in roles or "contact" in roles:
        assert len(roles) == 1, "student and contact roles are never combined"
    for name, role in roles.items():
        assert set(role) <= s.ROLE_KEYS[name], (name, set(role) - s.ROLE_KEYS[name])
        assert OBJECT_ID.match(role["legacy_id"])
        if "credentials" in role:
            assert set(role["credentials"]) <= s.CREDENTIALS_KEYS
    if "student" in roles:
        _check_student(roles["student"])
    if "contact" in roles:
        contact = roles["contact"]
        _enum(contact["phone_type"], s.PHONE_TYPES)
        for rel in contact["student_relationships"]:
            assert set(rel) == s.STUDENT_RELATIONSHIP_KEYS
            _enum(rel["relationship"], s.RELATIONSHIPS)
            _enum(rel["type"], s.RELATIONSHIP_TYPES)
        if "students" in contact:  # v2 shape
            assert contact["student_relationships"] == []
            _enum(contact["relationship"], s.RELATIONSHIPS)
            _enum(contact["type"], s.RELATIONSHIP_TYPES)
    if "staff" in roles:
        assert isinstance(roles["staff"]["roles"], list)


def _check_student(student: dict[str, Any]) -> None:
    assert student["dob"] is None or DOB.match(student["dob"])
    for key in ("ell_status", "gifted_status", "hispanic_ethnicity", "section_504_status"):
        _enum(student[key], s.YES_NO)
    _enum(student["gender"], s.GENDERS)
    _enum(student["race"], s.RACES)
    _enum(student["frl_status"], s.FRL_STATUSES)
    _enum(student["grade"], s.GRADES)
    assert student["home_language"] is None or student["home_language"] in LANGUAGE_NAMES
    assert student["home_language_code"] is None or student["home_language_code"] in (
        LANGUAGE_CODES
    )
    disability = student["disability"]
    assert set(disability) <= s.DISABILITY_KEYS
    _enum(disability["disability_status"], s.YES_NO)
    _enum(disability["disability_code"], s.DISABILITY_CODES)
    _enum(disability["disability_type"], s.DISABILITY_TYPES)
    assert set(student["location"]) <= s.LOCATION_KEYS
    if "preferred_name" in student:
        assert set(student["preferred_name"]) <= s.NAME_KEYS
    assert student["school"] in student["schools"]
    for enrollment in student["enrollments"]:
        assert set(enrollment) <= s.ENROLLMENT_KEYS
        _date_form(enrollment["start_date"])
        if "end_date" in enrollment:
            _date_form(enrollment["end_date"])


def _check(record_type: str, record: dict[str, Any], district_id: str) -> None:
    assert OBJECT_ID.match(record["id"])
    assert set(record) <= s.RECORD_KEYS[record_type], set(record) - s.RECORD_KEYS[record_type]
    if record_type == "districts":
        assert record["id"] == district_id
        assert set(record["district_contact"]) <= s.DISTRICT_CONTACT_KEYS
        _enum(record["state"], s.DISTRICT_STATES)
        _enum(record["lms_state"], s.LMS_STATES)
        _enum(record["lms_type"], s.LMS_TYPES)
        return
    assert record["district"] == district_id
    if record_type == "users":
        _check_user(record)
    elif record_type == "sections":
        _enum(record["subject"], s.SUBJECTS)
        _enum(record["grade"], s.GRADES)
        if record["teachers"]:
            assert record["teacher"] == record["teachers"][0]
    elif record_type == "schools":
        _enum(record["low_grade"], s.GRADES)
        _enum(record["high_grade"], s.GRADES)
        assert set(record["principal"]) <= s.PRINCIPAL_KEYS
        assert set(record["location"]) <= s.LOCATION_KEYS
    elif record_type == "terms":
        for key in ("start_date", "end_date"):
            if record[key] is not None:
                _date_form(record[key])
    elif record_type == "resources":
        assert set(record["roles"]) <= set(s.RESOURCE_ROLES)


@pytest.fixture(scope="module")
def state(shared_sandbox: SandboxServer) -> dict[str, dict[str, list[dict[str, Any]]]]:
    return {
        d: {t: shared_sandbox.records(t, d) for t in RECORD_TYPES}
        for d in shared_sandbox.district_ids
    }


def test_every_record_matches_the_schema(state) -> None:
    for district_id, by_type in state.items():
        for record_type, records in by_type.items():
            assert records, record_type
            for record in records:
                _check(record_type, record, district_id)


def test_event_objects_match_the_schema(shared_sandbox: SandboxServer) -> None:
    for district_id in shared_sandbox.district_ids:
        events = shared_sandbox.events(district_id)
        assert events
        for event in events:
            assert set(event) == {"created", "data", "id", "type"}
            record_type, action = event["type"].split(".")
            assert action in s.EVENT_ACTIONS
            _check(record_type, event["data"]["object"], district_id)


def test_ids_unique_across_districts_and_types_and_ascending(state) -> None:
    ids: list[str] = []
    for by_type in state.values():
        for records in by_type.values():
            ids.extend(r["id"] for r in records)
    assert len(ids) == len(set(ids))
    created = [r for by_type in state.values() for r in by_type["users"] + by_type["sections"]]
    for record in created:  # the id's timestamp is the creation time
        stamp = int(record["id"][:8], 16)
        assert record["created"].startswith(
            __import__("time").strftime("%Y-%m-%dT%H:%M:%S", __import__("time").gmtime(stamp))
        )


def test_references_stay_inside_the_district(state) -> None:
    for by_type in state.values():
        students = {u["id"] for u in by_type["users"] if "student" in u["roles"]}
        teachers = {u["id"] for u in by_type["users"] if "teacher" in u["roles"]}
        schools = {x["id"] for x in by_type["schools"]}
        terms = {x["id"] for x in by_type["terms"]}
        courses = {x["id"] for x in by_type["courses"]}
        for section in by_type["sections"]:
            assert set(section["students"]) <= students
            assert set(section["teachers"]) <= teachers
            assert section["school"] in schools
            assert section["term_id"] is None or section["term_id"] in terms
            assert section["course"] is None or section["course"] in courses
        for user in by_type["users"]:
            contact = user["roles"].get("contact")
            if contact:
                linked = contact.get("students") or [
                    r["student"] for r in contact["student_relationships"]
                ]
                assert set(linked) <= students
            student = user["roles"].get("student")
            if student:
                assert set(student["schools"]) <= schools


def test_documented_quirks_are_present(state) -> None:
    users = [u for by_type in state.values() for u in by_type["users"]]
    terms = [t for by_type in state.values() for t in by_type["terms"]]
    sections = [x for by_type in state.values() for x in by_type["sections"]]
    students = [u["roles"]["student"] for u in users if "student" in u["roles"]]
    enrollments = [e for st in students for e in st["enrollments"]]
    role_sets = Counter(frozenset(u["roles"]) for u in users)
    for combo in (
        {"teacher", "district_admin"},
        {"staff", "teacher"},
        {"staff", "district_admin"},
    ):
        assert role_sets[frozenset(combo)] > 0, combo
    term_dates = [t[k] for t in terms for k in ("start_date", "end_date") if t[k]]
    assert {_date_form(d) for d in term_dates} == set(DATE_FORMS)
    assert any(t["end_date"] is None for t in terms)
    assert any(t["name"] is None for t in terms)
    assert {_date_form(e["start_date"]) for e in enrollments} == set(DATE_FORMS)
    assert any("end_date" in e for e in enrollments)
    assert any(len(st["schools"]) > 1 for st in students)
    assert any(st["dob"] and DOB.match(st["dob"]) and len(st["dob"]) < 10 for st in students)
    for key in ("ell_status", "gifted_status", "hispanic_ethnicity", "section_504_status"):
        assert {st[key] for st in students} == {"Y", "N", ""}, key
    assert {st["disability"]["disability_status"] for st in students} == {"Y", "N", ""}
    for key in ("gender", "race", "grade", "frl_status"):
        assert "" in {st[key] for st in students}, key
    contacts = [u["roles"]["contact"] for u in users if "contact" in u["roles"]]
    assert "" in {c["phone_type"] for c in contacts}
    assert any("students" in c for c in contacts)
    assert any("students" not in c and c["student_relationships"] for c in contacts)
    assert any(len(x["teachers"]) > 1 for x in sections)
    assert any(x["term_id"] is None or x["course"] is None for x in sections)
    names = [u["name"] for u in users]
    assert any("middle" not in n for n in names)
    assert any(n.get("middle") is None and "middle" in n for n in names)
    text = " ".join(f"{n['first']} {n['last']}" for n in names)
    assert re.search(r"[À-ɏ]", text), "accented names"
    assert re.search(r"[\u4e00-\u9fff\uac00-\ud7af\u3040-\u30ff]", text), "CJK names"
    assert "'" in text
    assert "-" in text
    assert any(u["email"] is None for u in users)
    assert any("preferred_name" in st for st in students)
    assert any("lms_status" in u for u in users)
    exts = [st["ext"] for st in students]
    assert any(ext == {} for ext in exts)
    assert any(isinstance(v, dict) for ext in exts for v in ext.values())
    assert any(isinstance(v, list) for ext in exts for v in ext.values())
    assert any(isinstance(v, int | float) for ext in exts for v in ext.values())
    staff_roles = [u["roles"]["staff"]["roles"] for u in users if "staff" in u["roles"]]
    assert any(len(r) > 1 for r in staff_roles)
    resources = [x for by_type in state.values() for x in by_type["resources"]]
    assert {tuple(x["roles"]) for x in resources} >= {("teacher", "student"), ("teacher",)}
