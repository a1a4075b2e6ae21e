"""What every mart must hold, computed from the sandbox's own current records.

Independent of the dbt models: the expected rows are derived here, in Python, from
`records(...)` of a `clever_sandbox` server (the source's truth), and compared with the marts'
keys and main columns, in either warehouse: a DuckDB file (its Path) or a PostgreSQL database
(a tests.postgres_server.PostgresServer). `expected_marts` can be taken per district, so a test
can keep one district's expectation from before a change (a district that failed must not
move).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import psycopg

from tests.postgres_server import PostgresServer

#: A warehouse the marts are read from: the DuckDB file, or the PostgreSQL server and database.
Warehouse = Path | PostgresServer


def query(warehouse: Warehouse, sql: str) -> list[tuple]:
    """The rows of `sql` in `warehouse`, list values (DuckDB lists, PostgreSQL arrays) as
    tuples, so rows of either warehouse compare and hash alike."""
    if isinstance(warehouse, PostgresServer):
        with psycopg.connect(warehouse.uri) as connection:
            rows = connection.execute(sql).fetchall()  # type: ignore[arg-type]
    else:
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            rows = connection.execute(sql).fetchall()
    return [
        tuple(tuple(value) if isinstance(value, list) else value for value in row) for row in rows
    ]


def clever_date(text: str | None) -> date | None:
    """The date in any of Clever's three documented forms (independent of the dbt macro)."""
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})([T ].*)?", (text or "").strip())
    return date(*map(int, match.groups()[:3])) if match else None


def clever_dob(text: str | None) -> date | None:
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", (text or "").strip())
    if not match:
        return None
    month, day, year = map(int, match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def clever_yn(text: str | None) -> bool | None:
    return {"Y": True, "N": False}.get((text or "").strip().upper())


def text(value: Any) -> str | None:
    """As clever_text: surrounding blanks removed, "" as None."""
    return None if value is None else str(value).strip() or None


def timestamp(value: str | None) -> datetime | None:
    """A Clever UTC timestamp string as the naive UTC datetime DuckDB holds."""
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)


def _roles(user: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {role: value for role, value in user["roles"].items() if isinstance(value, dict)}


def expected_marts(server: Any, district_ids: list[str]) -> dict[str, set[tuple]]:
    """mart -> the set of rows (the columns of MART_COLUMNS) the sandbox says it must hold."""
    marts: dict[str, set[tuple]] = {mart: set() for mart in MART_COLUMNS}

    def add(mart: str, *row: Any) -> None:
        marts[mart].add(row)

    for district in district_ids:
        for record in server.records("districts", district):
            add("dim_districts", record["id"], text(record.get("name")))
        for school in server.records("schools", district):
            add(
                "dim_schools",
                school["id"],
                district,
                text(school.get("name")),
                timestamp(school.get("last_modified")),
            )
        for term in server.records("terms", district):
            add(
                "dim_terms",
                term["id"],
                district,
                text(term.get("name")),
                clever_date(term.get("start_date")),
                clever_date(term.get("end_date")),
            )
        for course in server.records("courses", district):
            add("dim_courses", course["id"], district, text(course.get("name")))
        for resource in server.records("resources", district):
            add("dim_resources", resource["id"], district, text(resource.get("title")))
        for section in server.records("sections", district):
            students = section.get("students") or []
            add(
                "dim_sections",
                section["id"],
                district,
                section.get("school"),
                text(section.get("course")),
                text(section.get("term_id")),
                text(section.get("name")),
                text(section.get("teacher")),
                len(students),
                timestamp(section.get("last_modified")),
            )
            for student in students:
                add("fct_section_students", section["id"], student)
            teachers = {*(section.get("teachers") or [])}
            if section.get("teacher"):
                teachers.add(section["teacher"])
            for teacher in teachers:
                add(
                    "fct_section_teachers",
                    section["id"],
                    teacher,
                    teacher == section.get("teacher"),
                )
        for user in server.records("users", district):
            _add_user(add, user, district)
    return marts


def _add_user(add: Any, user: dict[str, Any], district: str) -> None:
    roles = _roles(user)
    name = user.get("name") or {}
    add(
        "dim_users",
        user["id"],
        district,
        text(user.get("email")),
        text(name.get("first")),
        text(name.get("middle")),
        text(name.get("last")),
        tuple(sorted(roles)),
        timestamp(user.get("last_modified")),
    )
    for role, attributes in roles.items():
        add("fct_user_roles", user["id"], role)
        if role in ("student", "teacher", "staff"):
            schools = {*(attributes.get("schools") or [])}
            if attributes.get("school"):
                schools.add(attributes["school"])
            for school in schools:
                add(
                    "fct_user_schools", user["id"], role, school, school == attributes.get("school")
                )
    if "student" in roles:
        student = roles["student"]
        add(
            "dim_students",
            user["id"],
            district,
            text(student.get("school")),
            text(student.get("grade")),
            clever_dob(student.get("dob")),
            clever_yn(student.get("ell_status")),
            clever_yn(student.get("gifted_status")),
        )
        for position, enrollment in enumerate(student.get("enrollments") or [], 1):
            add(
                "fct_student_enrollments",
                user["id"],
                position,
                text(enrollment.get("school")),
                clever_date(enrollment.get("start_date")),
                clever_date(enrollment.get("end_date")),
            )
    if "teacher" in roles:
        add("dim_teachers", user["id"], text(roles["teacher"].get("school")))
    if "staff" in roles:
        add("dim_staff", user["id"])
    if "district_admin" in roles:
        add("dim_district_admins", user["id"])
    if "contact" in roles:
        add("dim_contacts", user["id"])
        contact = roles["contact"]
        seen: set[str] = set()
        # v3 entries first; the v2 shape (one relationship for a `students` list) after.
        for entry in contact.get("student_relationships") or []:
            if entry["student"] not in seen:
                seen.add(entry["student"])
                add(
                    "fct_contact_relationships",
                    user["id"],
                    entry["student"],
                    text(entry.get("relationship")),
                    text(entry.get("type")),
                )
        for student in contact.get("students") or []:
            if student not in seen:
                seen.add(student)
                add(
                    "fct_contact_relationships",
                    user["id"],
                    student,
                    text(contact.get("relationship")),
                    text(contact.get("type")),
                )


#: mart -> the columns compared (keys first), in the order expected_marts builds its rows.
MART_COLUMNS: dict[str, str] = {
    "dim_districts": "district_id, name",
    "dim_schools": "school_id, district_id, name, last_modified_at",
    "dim_terms": "term_id, district_id, name, start_date, end_date",
    "dim_courses": "course_id, district_id, name",
    "dim_resources": "resource_id, district_id, title",
    "dim_sections": (
        "section_id, district_id, school_id, course_id, term_id, name, teacher_id,"
        " listed_student_count, last_modified_at"
    ),
    "fct_section_students": "section_id, student_id",
    "fct_section_teachers": "section_id, teacher_id, is_primary",
    "dim_users": (
        "user_id, district_id, email, first_name, middle_name, last_name, roles, last_modified_at"
    ),
    "fct_user_roles": "user_id, role",
    "fct_user_schools": "user_id, role, school_id, is_primary",
    "dim_students": "student_id, district_id, school_id, grade, dob, ell_status, gifted_status",
    "fct_student_enrollments": "student_id, enrollment_position, school_id, start_date, end_date",
    "dim_teachers": "teacher_id, school_id",
    "dim_staff": "staff_id",
    "dim_district_admins": "district_admin_id",
    "dim_contacts": "contact_id",
    "fct_contact_relationships": "contact_id, student_id, relationship, relationship_type",
}


def actual_marts(database: Warehouse) -> dict[str, list[tuple]]:
    """mart -> its rows (the MART_COLUMNS), as a list so that doubled rows show."""
    return {
        mart: query(database, f"select {columns} from analytics.{mart}")  # noqa: S608 - names from this module
        for mart, columns in MART_COLUMNS.items()
    }


def differences(expected: dict[str, set[tuple]], database: Warehouse) -> list[str]:
    """Every way the marts differ from `expected` (empty when they hold exactly it)."""
    problems = []
    for mart, rows in actual_marts(database).items():
        if len(rows) != len(set(rows)):
            problems.append(f"{mart}: {len(rows) - len(set(rows))} doubled rows")
        missing = expected[mart] - set(rows)
        extra = set(rows) - expected[mart]
        if missing or extra:
            problems.append(
                f"{mart}: {len(missing)} missing, e.g. {sorted(missing, key=str)[:3]};"
                f" {len(extra)} unexpected, e.g. {sorted(extra, key=str)[:3]}"
            )
    return problems


def assert_marts_equal_sandbox(
    database: Warehouse, server: Any, expected: dict[str, set[tuple]] | None = None
) -> None:
    """Every mart holds exactly the sandbox's current data (or `expected`), no doubled row."""
    if expected is None:
        expected = expected_marts(server, server.district_ids)
    problems = differences(expected, database)
    assert not problems, "the marts differ from the sandbox:\n" + "\n".join(problems)
