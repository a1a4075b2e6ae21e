"""Checks of a record against the sandbox's schema description (keys, guarantees, kinds, enums).

Fields Clever does not guarantee may be null, "", absent or [] (as the source system has them);
guaranteed ones are always present and non-null; every key comes from the spec's key sets and
every enum value from the spec (plus "" and null).
"""

from __future__ import annotations

import re
from typing import Any

from clever_sandbox import schema as s

OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
DOB = re.compile(r"^(?:[0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
DATE_FORMS = {
    "plain": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
    "iso": re.compile(r"^\d{4}-\d{2}-\d{2}T00:00:00\.000Z$"),
    "sql": re.compile(r"^\d{4}-\d{2}-\d{2} 00:00:00\.000000$"),
}
LANGUAGE_NAMES = tuple(name for name, _ in s.HOME_LANGUAGES)
LANGUAGE_CODES = tuple(code for _, code in s.HOME_LANGUAGES)
PYTHON_TYPES: dict[str, type | tuple[type, ...]] = {
    s.STRING: str,
    s.ARRAY: list,
    s.OBJECT: dict,
    s.BOOLEAN: bool,
    s.NUMBER: (int, float),
}
ENUMS: dict[str, tuple[str, ...]] = {
    "ell_status": s.YES_NO,
    "gifted_status": s.YES_NO,
    "hispanic_ethnicity": s.YES_NO,
    "section_504_status": s.YES_NO,
    "disability_status": s.YES_NO,
    "disability_code": s.DISABILITY_CODES,
    "disability_type": s.DISABILITY_TYPES,
    "gender": s.GENDERS,
    "race": s.RACES,
    "frl_status": s.FRL_STATUSES,
    "home_language": LANGUAGE_NAMES,
    "home_language_code": LANGUAGE_CODES,
    "phone_type": s.PHONE_TYPES,
    "relationship": s.RELATIONSHIPS,
    "type": s.RELATIONSHIP_TYPES,
    "low_grade": s.GRADES,
    "high_grade": s.GRADES,
    "subject": s.SUBJECTS,
    "lms_state": s.LMS_STATES,
    "lms_type": s.LMS_TYPES,
}
"""Enum fields by name (within the objects that carry them, the names are unambiguous)."""


def date_form(value: str) -> str:
    for name, pattern in DATE_FORMS.items():
        if pattern.match(value):
            return name
    raise AssertionError(f"not a Clever date: {value!r}")


def check_shape(value: dict[str, Any], shape: s.Shape, where: str, contact: bool = False) -> None:
    """Keys from the spec, guaranteed fields present and non-null, kinds and enums respected."""
    assert set(value) <= set(shape), (where, set(value) - set(shape))
    for key, field in shape.items():
        contact_first_name = contact and where == "users.name" and key == "first"
        if field.presence == s.GUARANTEED and not contact_first_name:
            assert value.get(key) is not None, f"{where}.{key} is guaranteed"
        if value.get(key) is None:
            continue
        item = value[key]
        assert isinstance(item, PYTHON_TYPES[field.kind]), (where, key, item)
        if key in ENUMS:  # "" is a legal value of every validated enum
            assert item in ENUMS[key] or item == "", (where, key, item)
        if key == "grade":
            assert item in s.GRADES, (where, item)
        if field.fields is not None and field.kind == s.OBJECT:
            check_shape(item, field.fields, f"{where}.{key}", contact)
        elif field.fields is not None:
            for element in item:
                check_shape(element, field.fields, f"{where}.{key}[]", contact)


def _check_user(user: dict[str, Any]) -> None:
    roles = user["roles"]
    assert roles, "a user holds at least one role"
    assert set(roles) <= set(s.ROLES)
    if "student" in roles or "contact" in roles:
        assert len(roles) == 1, "student and contact roles are never combined"
    contact = "contact" in roles
    check_shape({k: v for k, v in user.items() if k != "roles"}, s.USER, "users", contact)
    name = user["name"]
    assert name.get("last"), "name.last is guaranteed"
    if not contact:
        assert name.get("first") is not None
    assert DATETIME.match(user["created"])
    assert DATETIME.match(user["last_modified"])
    email = user.get("email")
    assert email in (None, "") or re.match(r"^[^@\s]+(@example\.(org|com))?$", email), email
    for role_name, role in roles.items():
        assert isinstance(role, dict)
        check_shape(role, s.ROLE_SHAPES[role_name], f"roles.{role_name}")
        assert OBJECT_ID.match(role["legacy_id"])
    if "student" in roles:
        _check_student(roles["student"])
    if contact and "students" in roles["contact"]:  # v2 shape
        assert not roles["contact"].get("student_relationships")


def _check_student(student: dict[str, Any]) -> None:
    dob = student.get("dob")
    assert dob in (None, "") or DOB.match(dob), dob
    assert student["school"] in student["schools"]
    for enrollment in student["enrollments"]:
        for key in ("start_date", "end_date"):
            if enrollment.get(key):
                date_form(enrollment[key])


def check_record(record_type: str, record: dict[str, Any], district_id: str) -> None:
    assert OBJECT_ID.match(record["id"])
    assert set(record) <= s.RECORD_KEYS[record_type], set(record) - s.RECORD_KEYS[record_type]
    if record_type == "districts":
        assert record["id"] == district_id
        assert record.get("state") in (*s.DISTRICT_STATES, None)
    else:
        assert record["district"] == district_id
    if record_type == "users":
        _check_user(record)
        return
    check_shape(record, s.RECORD_SHAPES[record_type], record_type)
    if record_type == "sections":
        assert record["teachers"], "a section always has a teacher"
        assert record["teacher"] == record["teachers"][0]
    elif record_type == "terms":
        for key in ("start_date", "end_date"):
            if record.get(key):
                date_form(record[key])
    elif record_type == "resources" and record.get("roles"):
        assert set(record["roles"]) <= set(s.RESOURCE_ROLES)
