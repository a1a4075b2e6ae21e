"""Record shapes follow the v3.1 schemas and Clever's guarantees, and the documented quirks occur.

The checks themselves are in ``schema_checks.py``.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from typing import Any

import pytest

from clever_sandbox import SandboxServer
from clever_sandbox import schema as s
from clever_sandbox.schema import RECORD_TYPES
from tests.sandbox.schema_checks import DATE_FORMS, check_record, date_form


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
                check_record(record_type, record, district_id)


def test_event_objects_match_the_schema(shared_sandbox: SandboxServer) -> None:
    for district_id in shared_sandbox.district_ids:
        events = shared_sandbox.events(district_id)
        assert events
        for event in events:
            assert set(event) == {"created", "data", "id", "type"}
            record_type, action = event["type"].split(".")
            assert action in s.EVENT_ACTIONS
            check_record(record_type, event["data"]["object"], district_id)


def test_schema_descriptions_cover_every_spec_key() -> None:
    assert s.RECORD_KEYS["users"] == {
        "created", "district", "email", "id", "last_modified", "lms_status", "name", "roles"
    }  # fmt: skip
    guaranteed = {
        record_type: {k for k, f in shape.items() if f.presence == s.GUARANTEED}
        for record_type, shape in s.RECORD_SHAPES.items()
    }
    assert guaranteed["users"] == {"id", "district", "name", "created", "last_modified"}
    assert guaranteed["sections"] == {
        "id", "district", "school", "created", "last_modified", "name", "sis_id", "subject",
        "students", "teacher", "teachers",
    }  # fmt: skip
    assert guaranteed["schools"] == {
        "id", "district", "name", "created", "last_modified", "sis_id", "school_number"
    }  # fmt: skip
    for record_type in ("terms", "courses", "resources"):
        assert guaranteed[record_type] == {"id", "district"}
    assert guaranteed["districts"] == {"id"}
    student = {k for k, f in s.STUDENT.items() if f.presence == s.GUARANTEED}
    assert student == {"school", "schools", "enrollments", "sis_id"}
    assert {k for k, f in s.ENROLLMENT.items() if not f.may_be_missing} == {"school"}
    assert {k for k, f in s.NAME.items() if f.presence == s.GUARANTEED} == {"first", "last"}


def test_ids_unique_across_districts_and_types_and_ascending(state) -> None:
    ids: list[str] = []
    for by_type in state.values():
        for records in by_type.values():
            ids.extend(r["id"] for r in records)
    assert len(ids) == len(set(ids))
    created = [r for by_type in state.values() for r in by_type["users"] + by_type["sections"]]
    for record in created:  # the id's timestamp is the creation time
        stamp = int(record["id"][:8], 16)
        assert record["created"].startswith(time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(stamp)))


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
            assert section.get("term_id") in terms | {None, ""}
            assert section.get("course") in courses | {None, ""}
        for user in by_type["users"]:
            contact = user["roles"].get("contact")
            if contact:
                linked = contact.get("students") or [
                    r["student"] for r in contact.get("student_relationships") or []
                ]
                assert set(linked) <= students
            student = user["roles"].get("student")
            if student:
                assert set(student["schools"]) <= schools
                assert {e["school"] for e in student["enrollments"]} <= schools


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
    term_dates = [t[k] for t in terms for k in ("start_date", "end_date") if t.get(k)]
    assert {date_form(d) for d in term_dates} == set(DATE_FORMS)
    assert any(t.get("end_date") is None for t in terms)
    assert any(t.get("name") is None for t in terms)
    starts = [e["start_date"] for e in enrollments if e.get("start_date")]
    assert {date_form(d) for d in starts} == set(DATE_FORMS)
    assert any(e.get("end_date") for e in enrollments)
    assert any(len(st["schools"]) > 1 for st in students)
    assert any(st.get("dob") and len(st["dob"]) < 10 for st in students)
    for key in ("ell_status", "gifted_status", "hispanic_ethnicity", "section_504_status"):
        assert {"Y", "N", ""} <= {st.get(key) for st in students}, key
    for key in ("gender", "race", "grade", "frl_status"):
        assert "" in {st.get(key) for st in students}, key
    contacts = [u["roles"]["contact"] for u in users if "contact" in u["roles"]]
    assert "" in {c.get("phone_type") for c in contacts}
    assert any("students" in c for c in contacts)
    assert any(c.get("student_relationships") for c in contacts)
    assert any(len(x["teachers"]) > 1 for x in sections)
    names = [u["name"] for u in users]
    assert any("middle" not in n for n in names)
    assert any(n.get("middle") is None and "middle" in n for n in names)
    text = " ".join(f"{n.get('first', '')} {n['last']}" for n in names)
    assert re.search(r"[À-ɏ]", text), "accented names"
    assert re.search(r"[\u4e00-\u9fff\uac00-\ud7af\u3040-\u30ff]", text), "CJK names"
    assert "'" in text
    assert "-" in text
    assert any(u.get("email") is None for u in users)
    assert any(st.get("preferred_name") for st in students)
    assert any(u.get("lms_status") for u in users)
    exts = [st["ext"] for st in students if st.get("ext")]
    assert any(isinstance(v, dict) for ext in exts for v in ext.values())
    assert any(isinstance(v, list) for ext in exts for v in ext.values())
    assert any(isinstance(v, int | float) for ext in exts for v in ext.values())
    staff_roles = [u["roles"]["staff"].get("roles") or [] for u in users if "staff" in u["roles"]]
    assert any(len(r) > 1 for r in staff_roles)
    resources = [x for by_type in state.values() for x in by_type["resources"]]
    assert {tuple(x["roles"]) for x in resources if x.get("roles")} >= {
        ("teacher", "student"),
        ("teacher",),
    }
