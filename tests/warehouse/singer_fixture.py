"""Hand-made Singer messages that follow tap-clever's output contract, with Clever's quirks.

Synthetic data only (no real person's data). Used to load a DuckDB file through the loader and
build the dbt project without the tap or the sandbox: every quirk the warehouse must absorb
appears at least once, with the expected result noted next to it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

DISTRICT_A = "5f00000000000000000000d1"
DISTRICT_B = "5f00000000000000000000d2"
SCHOOL_A1 = "5f00000000000000000000a1"
SCHOOL_A2 = "5f00000000000000000000a2"
SCHOOL_B1 = "5f00000000000000000000b1"
TERM_A = "5f00000000000000000000e1"
TERM_B = "5f00000000000000000000e2"
TERM_BAD = "5f00000000000000000000e3"
COURSE_A = "5f00000000000000000000c1"
SECTION_A = "5f00000000000000000000f1"
SECTION_B = "5f00000000000000000000f2"
RESOURCE_A = "5f00000000000000000000f9"
RESOURCE_B = "5f00000000000000000000fa"

STUDENT_1 = "5f0000000000000000000101"  # enrollment dates in the three forms, dob 8/5/2011
STUDENT_2 = "5f0000000000000000000102"  # bad dob, Y/N edge cases
STUDENT_3 = "5f0000000000000000000103"  # district B
TEACHER_ADMIN = "5f0000000000000000000201"  # teacher and district admin: two roles
TEACHER_2 = "5f0000000000000000000202"
STAFF_1 = "5f0000000000000000000301"
CONTACT_V3 = "5f0000000000000000000401"  # v3 student_relationships
CONTACT_V2 = "5f0000000000000000000402"  # v2 relationship/type/students, empty v3 list
ADMIN_B = "5f0000000000000000000501"

STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}
TIMESTAMP = {"type": ["string", "null"], "format": "date-time"}
OBJECT = {"type": ["object", "null"], "additionalProperties": True, "properties": {}}
ARRAY = {"type": ["array", "null"], "items": {}}

SCHEMAS: dict[str, dict[str, Any]] = {
    "districts": {
        "id": STRING,
        "district": STRING,
        "name": STRING,
        "state": NULLABLE_STRING,
        "sis_type": STRING,
        "nces_id": NULLABLE_STRING,
        "mdr_number": NULLABLE_STRING,
        "portal_url": STRING,
        "lms_state": NULLABLE_STRING,
        "lms_type": NULLABLE_STRING,
        "error": STRING,
        "launch_date": STRING,
        "last_sync": TIMESTAMP,
        "last_attendance_sync": TIMESTAMP,
        "pause_start": TIMESTAMP,
        "pause_end": TIMESTAMP,
        "district_contact": OBJECT,
        "login_methods": ARRAY,
    },
    "schools": {
        "id": STRING,
        "district": STRING,
        "name": STRING,
        "low_grade": NULLABLE_STRING,
        "high_grade": NULLABLE_STRING,
        "school_number": STRING,
        "sis_id": STRING,
        "state_id": NULLABLE_STRING,
        "nces_id": NULLABLE_STRING,
        "mdr_number": NULLABLE_STRING,
        "phone": NULLABLE_STRING,
        "location": OBJECT,
        "principal": OBJECT,
        "ext": OBJECT,
        "created": TIMESTAMP,
        "last_modified": TIMESTAMP,
    },
    "users": {
        "id": STRING,
        "district": STRING,
        "email": NULLABLE_STRING,
        "name": OBJECT,
        "roles": OBJECT,
        "lms_status": OBJECT,
        "created": TIMESTAMP,
        "last_modified": TIMESTAMP,
    },
    "sections": {
        "id": STRING,
        "district": STRING,
        "school": STRING,
        "course": NULLABLE_STRING,
        "term_id": NULLABLE_STRING,
        "teacher": NULLABLE_STRING,
        "teachers": ARRAY,
        "students": ARRAY,
        "name": STRING,
        "subject": NULLABLE_STRING,
        "grade": NULLABLE_STRING,
        "period": NULLABLE_STRING,
        "section_number": NULLABLE_STRING,
        "sis_id": STRING,
        "ext": OBJECT,
        "lms_status": OBJECT,
        "created": TIMESTAMP,
        "last_modified": TIMESTAMP,
    },
    "terms": {
        "id": STRING,
        "district": STRING,
        "name": NULLABLE_STRING,
        "start_date": NULLABLE_STRING,
        "end_date": NULLABLE_STRING,
    },
    "courses": {
        "id": STRING,
        "district": STRING,
        "name": NULLABLE_STRING,
        "number": NULLABLE_STRING,
    },
    "resources": {
        "id": STRING,
        "district": STRING,
        "title": STRING,
        "resource_id": STRING,
        "roles": ARRAY,
        # Text, as the tap declares them (Clever's spec gives no date-time format).
        "created": NULLABLE_STRING,
        "updated": NULLABLE_STRING,
    },
    "events": {
        "id": STRING,
        "type": STRING,
        "created": TIMESTAMP,
        "data": OBJECT,
        "district": STRING,
    },
}

CREATED = "2024-07-01T12:00:00.000Z"


def _user(user_id: str, district: str, first: str, last: str, roles: dict[str, Any]) -> dict:
    return {
        "id": user_id,
        "district": district,
        "email": f"{first.lower()}.{last.lower()}@example.org",
        "name": {"first": first, "middle": "", "last": last},
        "roles": roles,
        "created": CREATED,
        "last_modified": CREATED,
    }


def records() -> dict[str, list[dict[str, Any]]]:
    """The fixture's records by stream."""
    districts = [
        {
            "id": d,
            "district": d,
            "name": name,
            "state": "success",
            "sis_type": "oneroster",
            "nces_id": "",
            "mdr_number": None,
            "portal_url": "https://example.org",
            "lms_state": "",
            "lms_type": "",
            "error": "",
            "launch_date": "2020-01-15",
            "last_sync": CREATED,
            "district_contact": {"email": "it@example.org"},
            "login_methods": ["google"],
        }
        for d, name in ((DISTRICT_A, "Fixture District A"), (DISTRICT_B, "Fixture District B"))
    ]
    schools = [
        {
            "id": s,
            "district": d,
            "name": f"School {s[-2:]}",
            "low_grade": low,
            "high_grade": high,
            "school_number": s[-2:],
            "sis_id": s[-2:],
            "state_id": None,
            "phone": "",
            "location": {"city": "Springfield", "zip": "00000", "lat": "", "lon": ""},
            "principal": {"name": "Pat Principal", "email": ""},
            "ext": {"custom": [1, 2]},
            "created": CREATED,
            "last_modified": CREATED,
        }
        for s, d, low, high in (
            (SCHOOL_A1, DISTRICT_A, "Kindergarten", "5"),
            (SCHOOL_A2, DISTRICT_A, "6", "8"),
            (SCHOOL_B1, DISTRICT_B, "", "12"),  # "" grade: NULL
        )
    ]
    terms = [
        # The three documented forms of one date, and an unparseable one.
        {
            "id": TERM_A,
            "district": DISTRICT_A,
            "name": "Fall",
            "start_date": "2015-08-25",
            "end_date": "2015-12-20T00:00:00.000Z",
        },
        {
            "id": TERM_B,
            "district": DISTRICT_B,
            "name": "Year",
            "start_date": "2015-08-25 00:00:00.000000",
            "end_date": "2016-06-10",
        },
        {
            "id": TERM_BAD,
            "district": DISTRICT_B,
            "name": "Odd",
            "start_date": "sometime",
            "end_date": "",
        },
    ]
    courses = [{"id": COURSE_A, "district": DISTRICT_A, "name": "Math 6", "number": "M6"}]
    resources = [
        {
            "id": RESOURCE_A,
            "district": DISTRICT_A,
            "title": "Fractions",
            "resource_id": "r-1",
            "roles": ["student", "teacher"],
            "created": CREATED,
            "updated": CREATED,
        },
        # Clever sends "" for a field the source system left empty: NULL, not a failed build.
        {
            "id": RESOURCE_B,
            "district": DISTRICT_A,
            "title": "Decimals",
            "resource_id": "r-2",
            "roles": ["teacher"],
            "created": CREATED,
            "updated": "",
        },
    ]
    users = [
        _user(
            STUDENT_1,
            DISTRICT_A,
            "Ada",
            "Example",
            {
                "student": {
                    "school": SCHOOL_A1,
                    "schools": [SCHOOL_A1, SCHOOL_A2],
                    "grade": "5",
                    "dob": "8/5/2011",
                    "gender": "F",
                    "ell_status": "Y",
                    "gifted_status": "N",
                    "hispanic_ethnicity": "",
                    "section_504_status": "N",
                    "legacy_id": "legacy-s1",
                    "disability": {"disability_status": "N"},
                    "ext": {"anything": {"goes": True}},
                    "enrollments": [
                        {"school": SCHOOL_A1, "start_date": "2015-08-25", "end_date": "2016-06-10"},
                        {
                            "school": SCHOOL_A2,
                            "start_date": "2016-08-25T00:00:00.000Z",
                            "end_date": "2017-06-10 00:00:00.000000",
                        },
                    ],
                }
            },
        ),
        _user(
            STUDENT_2,
            DISTRICT_A,
            "Bo",
            "Sample",
            {
                "student": {
                    "school": SCHOOL_A1,
                    "schools": [SCHOOL_A1],
                    "grade": "Kindergarten",
                    "dob": "31/31/2011",
                    "gender": "",
                    "ell_status": "maybe",
                    "gifted_status": None,
                    "enrollments": [{"school": SCHOOL_A1, "start_date": "25.08.2015"}],
                }
            },
        ),
        _user(
            STUDENT_3,
            DISTRICT_B,
            "Cy",
            "Test",
            {
                "student": {
                    "school": SCHOOL_B1,
                    "schools": [SCHOOL_B1],
                    "grade": "12",
                    "dob": "12/31/2005",
                    "gender": "X",
                    "ell_status": "N",
                    "enrollments": [],
                }
            },
        ),
        _user(
            TEACHER_ADMIN,
            DISTRICT_A,
            "Di",
            "Mentor",
            {
                "teacher": {
                    "school": SCHOOL_A1,
                    "schools": [SCHOOL_A1],
                    "legacy_id": "legacy-t1",
                    "title": "Teacher",
                },
                "district_admin": {"legacy_id": "legacy-da1", "title": "Curriculum lead"},
            },
        ),
        _user(
            TEACHER_2,
            DISTRICT_A,
            "Ed",
            "Tutor",
            {
                "teacher": {"school": SCHOOL_A2, "schools": [SCHOOL_A2], "legacy_id": "legacy-t2"},
            },
        ),
        _user(
            STAFF_1,
            DISTRICT_A,
            "Flo",
            "Office",
            {
                "staff": {
                    "schools": [SCHOOL_A1],
                    "staff_id": "S-77",
                    "roles": ["counselor"],
                    "department": "Guidance",
                    "title": "",
                }
            },
        ),
        _user(
            CONTACT_V3,
            DISTRICT_A,
            "Gus",
            "Parent",
            {
                "contact": {
                    "phone": "(555) 010-0000",
                    "phone_type": "Cell",
                    "legacy_id": "legacy-c1",
                    "student_relationships": [
                        {"student": STUDENT_1, "relationship": "Parent", "type": "Parent/Guardian"},
                        {"student": STUDENT_2, "relationship": "Aunt/Uncle", "type": "Family"},
                    ],
                }
            },
        ),
        _user(
            CONTACT_V2,
            DISTRICT_A,
            "Hal",
            "Guardian",
            {
                "contact": {
                    "phone": "",
                    "phone_type": "Other",
                    "legacy_id": "legacy-c2",
                    "relationship": "Grandparent",
                    "type": "Emergency",
                    "students": [STUDENT_1, STUDENT_2],
                    "student_relationships": [],
                }
            },
        ),
        _user(ADMIN_B, DISTRICT_B, "Ivy", "Admin", {"district_admin": {"legacy_id": "l-da2"}}),
    ]
    sections = [
        {
            "id": SECTION_A,
            "district": DISTRICT_A,
            "school": SCHOOL_A1,
            "course": COURSE_A,
            "term_id": TERM_A,
            "teacher": TEACHER_ADMIN,
            "teachers": [TEACHER_ADMIN, TEACHER_2],
            "students": [STUDENT_1, STUDENT_2],
            "name": "Math 6 - 1",
            "subject": "math",
            "grade": "6",
            "period": "1",
            "sis_id": "sec-1",
            "ext": {},
            "created": CREATED,
            "last_modified": CREATED,
        },
        # The primary teacher missing from `teachers`; no course, "" subject.
        {
            "id": SECTION_B,
            "district": DISTRICT_A,
            "school": SCHOOL_A2,
            "course": None,
            "term_id": TERM_A,
            "teacher": TEACHER_2,
            "teachers": [],
            "students": [STUDENT_1],
            "name": "Homeroom",
            "subject": "",
            "grade": "",
            "sis_id": "sec-2",
            "created": CREATED,
            "last_modified": CREATED,
        },
    ]
    events = [
        {
            "id": "6100000000000000000000a1",
            "type": "users.updated",
            "created": CREATED,
            "district": DISTRICT_A,
            "data": {"object": users[0], "previous_attributes": {"email": "old@example.org"}},
        },
        {
            "id": "6100000000000000000000a2",
            "type": "sections.deleted",
            "created": "2024-07-02T08:30:00.000Z",
            "district": DISTRICT_A,
            "data": {"object": sections[1]},
        },
        {
            "id": "6100000000000000000000a3",
            "type": "users.created",
            "created": "2024-07-03T09:00:00.000Z",
            "district": DISTRICT_A,
            "data": {"object": users[7]},
        },
    ]
    return {
        "districts": districts,
        "schools": schools,
        "terms": terms,
        "courses": courses,
        "sections": sections,
        "users": users,
        "resources": resources,
        "events": events,
    }


SNAPSHOT_STREAMS = ("districts", "schools", "terms", "courses", "sections", "users", "resources")
FIRST_SNAPSHOT = "2024-07-04T00:00:00.000000Z"
SNAPSHOTS_SCHEMA = {
    "type": "object",
    "properties": {
        "district": STRING,
        "snapshot_id": STRING,
        "event_cursor": NULLABLE_STRING,
        "reason": NULLABLE_STRING,
        "completed_at": TIMESTAMP,
    },
}


def messages(
    snapshot_id: str = FIRST_SNAPSHOT,
    *,
    without_ids: frozenset[str] = frozenset(),
    completed: bool = True,
) -> Iterator[str]:
    """SCHEMA, RECORD and STATE lines for every stream, as the tap prints them for one snapshot.

    Each snapshot record carries `_clever_snapshot_id`; when `completed`, a `snapshots` record
    per district follows, as the tap writes once a district's snapshot read without failing.
    `without_ids` leaves records out, as if they had left Clever since the last snapshot.
    """
    time_extracted = snapshot_id.replace("Z", "+00:00")
    for stream, stream_records in records().items():
        properties = dict(SCHEMAS[stream])
        if stream in SNAPSHOT_STREAMS:
            properties["_clever_snapshot_id"] = STRING
        schema = {"type": "object", "additionalProperties": True, "properties": properties}
        yield json.dumps(
            {"type": "SCHEMA", "stream": stream, "schema": schema, "key_properties": ["id"]}
        )
        for record in stream_records:
            if record["id"] in without_ids:
                continue
            if stream in SNAPSHOT_STREAMS:
                record = {**record, "_clever_snapshot_id": snapshot_id}
            yield json.dumps(
                {
                    "type": "RECORD",
                    "stream": stream,
                    "record": record,
                    "time_extracted": time_extracted,
                }
            )
    yield json.dumps(
        {
            "type": "SCHEMA",
            "stream": "snapshots",
            "schema": SNAPSHOTS_SCHEMA,
            "key_properties": ["district", "snapshot_id"],
        }
    )
    for district in (DISTRICT_A, DISTRICT_B) if completed else ():
        snapshot = {
            "district": district,
            "snapshot_id": snapshot_id,
            # The fixture's events happened before its snapshot: the snapshot already reflects
            # them, so its cursor is the newest event and none of them applies on top.
            "event_cursor": "6100000000000000000000a3",
            "reason": "fixture",
            "completed_at": snapshot_id,
        }
        yield json.dumps(
            {
                "type": "RECORD",
                "stream": "snapshots",
                "record": snapshot,
                "time_extracted": time_extracted,
            }
        )
    bookmark = {"replication_key": "id", "replication_key_value": "6100000000000000000000a3"}
    yield json.dumps({"type": "STATE", "value": {"bookmarks": {"events": bookmark}}})


if __name__ == "__main__":
    for line in messages():
        print(line)
