"""The real pipeline against the sandbox: `meltano run tap-clever target-duckdb dbt-duckdb:build`.

A sandbox on a free port (two districts, some random changes so the events feed is not empty),
the Meltano project of this repository (plugins installed by `meltano install`), a temporary
DuckDB file and temporary Meltano state. The marts are then checked against the sandbox's own
records (`/_sandbox/records/...`), with the expected values computed here independently of the
dbt models: counts, keys, a multi-role user's roles, the contacts' relationships (v2 and v3
shapes), enrollment dates in every form, dobs and Y/N flags.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from . import dbt_output
from .conftest import REPO_ROOT, pipeline_env, run_meltano

# duckdb (same pin as the pipeline) and meltano come with the dev extra.
duckdb = pytest.importorskip("duckdb", reason="duckdb is not installed: pip install -e '.[dev]'")

USERS_PER_DISTRICT = 1500
RANDOM_CHANGES = 40


@dataclass
class Sandbox:
    base_url: str
    info: dict[str, Any]

    def control(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.base_url}/_sandbox{path}", timeout=60) as response:  # noqa: S310 - local sandbox
            return json.loads(response.read())

    def records(self, record_type: str) -> list[dict[str, Any]]:
        """Every district's current records of one type."""
        return [
            record
            for district in self.info["districts"]
            for record in self.control(f"/records/{record_type}?district={district['id']}")["data"]
        ]

    def events(self) -> list[dict[str, Any]]:
        return [
            event
            for district in self.info["districts"]
            for event in self.control(f"/events?district={district['id']}")["data"]
        ]

    @property
    def tokens(self) -> list[str]:
        return [district["token"] for district in self.info["districts"]]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Iterator[Sandbox]:
    run_dir = tmp_path_factory.mktemp("sandbox")
    ready_file = run_dir / "ready.json"
    log = (run_dir / "sandbox.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "clever_sandbox.cli",
            "serve",
            "--port",
            "0",
            "--districts",
            "2",
            "--users",
            str(USERS_PER_DISTRICT),
            "--seed",
            "42",
            "--initial-events",
            str(RANDOM_CHANGES),
            "--ready-file",
            str(ready_file),
        ],
        cwd=REPO_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while not (ready_file.exists() and ready_file.stat().st_size):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"sandbox did not start: {(run_dir / 'sandbox.log').read_text()}")
            time.sleep(0.1)
        info = json.loads(ready_file.read_text())
        yield Sandbox(base_url=info["base_url"], info=info)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@dataclass
class Pipeline:
    database: Path
    env: dict[str, str]
    output: str


@pytest.fixture(scope="module")
def pipeline(meltano_plugins, sandbox, tmp_path_factory) -> Pipeline:
    work = tmp_path_factory.mktemp("pipeline")
    database = work / "clever.duckdb"
    env = pipeline_env(
        work,
        database,
        sandbox.base_url,
        sandbox.tokens,
        # Every record checked against its SCHEMA, as a validating loader does.
        TARGET_DUCKDB_VALIDATE_RECORDS="true",
    )
    result = run_meltano(
        "--environment=sandbox",
        "run",
        "tap-clever",
        "target-duckdb",
        "dbt-duckdb:build",
        env=env,
    )
    return Pipeline(database=database, env=env, output=result.stdout + result.stderr)


def query(database: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.execute(sql, params or []).fetchall()


def ids(database: Path, table: str, column: str) -> set[str]:
    sql = f"select {column} from analytics.{table}"  # noqa: S608 - names from the tests
    return {row[0] for row in query(database, sql)}


def clever_date(text: str | None) -> date | None:
    """The date in any of Clever's three documented forms (independent of the dbt macro)."""
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})([T ].*)?", (text or "").strip())
    return date(*map(int, match.groups()[:3])) if match else None


def clever_dob(text: str | None) -> date | None:
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", (text or "").strip())
    if not match:
        return None
    month, day, year = map(int, match.groups())
    return date(year, month, day)


def clever_yn(text: str | None) -> bool | None:
    return {"Y": True, "N": False}.get((text or "").strip().upper())


def blank_to_none(text: str | None) -> str | None:
    return (text or "").strip() or None


def test_pipeline_succeeds(pipeline):
    # No dangling reference, value outside Clever's enums or unparsed date in the sandbox's
    # data: the warning tests stay quiet, and a new warning fails here. (That no credential
    # reaches the output, the files or the warehouse: test_secrets_never_stored.py.)
    dbt_output.assert_build(pipeline.output, {})


@pytest.mark.parametrize(
    ("mart", "key", "record_type"),
    [
        ("dim_districts", "district_id", "districts"),
        ("dim_schools", "school_id", "schools"),
        ("dim_users", "user_id", "users"),
        ("dim_sections", "section_id", "sections"),
        ("dim_terms", "term_id", "terms"),
        ("dim_courses", "course_id", "courses"),
        ("dim_resources", "resource_id", "resources"),
    ],
)
def test_dimension_keys_match_the_sandbox(pipeline, sandbox, mart, key, record_type):
    expected = {record["id"] for record in sandbox.records(record_type)}
    assert expected
    assert ids(pipeline.database, mart, key) == expected


def test_every_event_is_in_fct_events(pipeline, sandbox):
    events = sandbox.events()
    assert events, "the sandbox made no events"
    rows = query(
        pipeline.database,
        "select event_id, event_type, record_type, action, object_id, district_id"
        " from analytics.fct_events",
    )
    expected = {
        (
            event["id"],
            event["type"],
            *event["type"].split("."),
            event["data"]["object"]["id"],
            event.get("district") or event["data"]["object"].get("district"),
        )
        for event in events
    }
    assert set(rows) == expected


def test_user_roles_one_row_per_role_held(pipeline, sandbox):
    users = sandbox.records("users")
    expected = {
        (user["id"], role)
        for user in users
        for role, value in user["roles"].items()
        if isinstance(value, dict)
    }
    rows = set(query(pipeline.database, "select user_id, role from analytics.fct_user_roles"))
    assert rows == expected

    multi_role = [user for user in users if len(user["roles"]) > 1]
    assert multi_role, "the sandbox has no multi-role user"
    user = multi_role[0]
    roles = query(
        pipeline.database,
        "select role from analytics.fct_user_roles where user_id = ? order by role",
        [user["id"]],
    )
    assert [role for (role,) in roles] == sorted(user["roles"])
    (listed,) = query(
        pipeline.database, "select roles from analytics.dim_users where user_id = ?", [user["id"]]
    )[0]
    assert listed == sorted(user["roles"])


@pytest.mark.parametrize(
    ("mart", "key", "role"),
    [
        ("dim_students", "student_id", "student"),
        ("dim_teachers", "teacher_id", "teacher"),
        ("dim_staff", "staff_id", "staff"),
        ("dim_contacts", "contact_id", "contact"),
        ("dim_district_admins", "district_admin_id", "district_admin"),
    ],
)
def test_role_dimensions_hold_every_user_with_the_role(pipeline, sandbox, mart, key, role):
    expected = {user["id"] for user in sandbox.records("users") if role in user["roles"]}
    assert expected
    assert ids(pipeline.database, mart, key) == expected


def expected_contact_relationships(users: list[dict[str, Any]]) -> dict[tuple[str, str], tuple]:
    """(contact, student) -> (relationship, type): v3 entries first, then the v2 shape."""
    expected: dict[tuple[str, str], tuple] = {}
    for user in users:
        contact = user["roles"].get("contact")
        if not isinstance(contact, dict):
            continue
        for entry in contact.get("student_relationships") or []:
            expected.setdefault(
                (user["id"], entry["student"]),
                (blank_to_none(entry.get("relationship")), blank_to_none(entry.get("type"))),
            )
        for student in contact.get("students") or []:
            expected.setdefault(
                (user["id"], student),
                (blank_to_none(contact.get("relationship")), blank_to_none(contact.get("type"))),
            )
    return expected


def test_contact_relationships_from_both_shapes(pipeline, sandbox):
    users = sandbox.records("users")
    expected = expected_contact_relationships(users)
    rows = query(
        pipeline.database,
        "select contact_id, student_id, relationship, relationship_type, source_shape"
        " from analytics.fct_contact_relationships",
    )
    assert {(c, s): (r, t) for c, s, r, t, _ in rows} == expected
    assert len(rows) == len(expected)

    v2_contact = next(
        user
        for user in users
        if (user["roles"].get("contact") or {}).get("students")
        and not user["roles"]["contact"].get("student_relationships")
    )
    contact = v2_contact["roles"]["contact"]
    v2_rows = [row for row in rows if row[0] == v2_contact["id"]]
    assert sorted(row[1] for row in v2_rows) == sorted(contact["students"])
    assert {(row[2], row[3], row[4]) for row in v2_rows} == {
        (blank_to_none(contact["relationship"]), blank_to_none(contact["type"]), "v2")
    }


def test_enrollment_dates_are_normalized(pipeline, sandbox):
    students = [user for user in sandbox.records("users") if "student" in user["roles"]]
    expected = sorted(
        (
            user["id"],
            position,
            blank_to_none(enrollment.get("school")),
            clever_date(enrollment.get("start_date")),
            clever_date(enrollment.get("end_date")),
        )
        for user in students
        for position, enrollment in enumerate(user["roles"]["student"].get("enrollments") or [], 1)
    )
    rows = query(
        pipeline.database,
        "select student_id, enrollment_position, school_id, start_date, end_date"
        " from analytics.fct_student_enrollments order by all",
    )
    assert rows == expected

    forms = {
        "T" if "T" in text else " " if " " in text else "-"
        for user in students
        for enrollment in user["roles"]["student"].get("enrollments") or []
        for text in [enrollment.get("start_date") or ""]
        if text
    }
    assert forms == {"T", " ", "-"}, "the sandbox should send all three date forms"
    sample = next(
        (user["id"], enrollment)
        for user in students
        for enrollment in user["roles"]["student"].get("enrollments") or []
        if "T" in (enrollment.get("start_date") or "")
    )
    (start,) = query(
        pipeline.database,
        "select start_date from analytics.fct_student_enrollments"
        " where student_id = ? and school_id = ?",
        [sample[0], sample[1]["school"]],
    )[0]
    assert start == date.fromisoformat(sample[1]["start_date"][:10])


def test_student_dob_and_flags_are_typed(pipeline, sandbox):
    students = {
        user["id"]: user["roles"]["student"]
        for user in sandbox.records("users")
        if "student" in user["roles"]
    }
    rows = query(
        pipeline.database,
        "select student_id, dob, ell_status, gifted_status, grade, school_id"
        " from analytics.dim_students",
    )
    assert len(rows) == len(students)
    for student_id, dob, ell_status, gifted_status, grade, school_id in rows:
        student = students[student_id]
        assert dob == clever_dob(student.get("dob"))
        assert ell_status == clever_yn(student.get("ell_status"))
        assert gifted_status == clever_yn(student.get("gifted_status"))
        assert grade == blank_to_none(student.get("grade"))
        assert school_id == blank_to_none(student.get("school"))
    with_dob = next(sid for sid, student in students.items() if clever_dob(student.get("dob")))
    (dob,) = query(
        pipeline.database,
        "select dob from analytics.dim_students where student_id = ?",
        [with_dob],
    )[0]
    month, day, year = map(int, students[with_dob]["dob"].split("/"))
    assert dob == date(year, month, day)


def test_term_dates_are_normalized(pipeline, sandbox):
    expected = {
        term["id"]: (clever_date(term.get("start_date")), clever_date(term.get("end_date")))
        for term in sandbox.records("terms")
    }
    rows = query(pipeline.database, "select term_id, start_date, end_date from analytics.dim_terms")
    assert {term_id: (start, end) for term_id, start, end in rows} == expected


def test_section_students_and_teachers(pipeline, sandbox):
    sections = sandbox.records("sections")
    expected_students = {
        (s["id"], student) for s in sections for student in s.get("students") or []
    }
    expected_teachers = {
        (s["id"], teacher, teacher == s.get("teacher"))
        for s in sections
        for teacher in {*(s.get("teachers") or []), *([s["teacher"]] if s.get("teacher") else [])}
    }
    students = set(
        query(
            pipeline.database, "select section_id, student_id from analytics.fct_section_students"
        )
    )
    teachers = set(
        query(
            pipeline.database,
            "select section_id, teacher_id, is_primary from analytics.fct_section_teachers",
        )
    )
    assert students == expected_students
    assert teachers == expected_teachers


def mart_contents(database: Path) -> dict[str, list[tuple[Any, ...]]]:
    tables = [
        name
        for (name,) in query(
            database,
            "select table_name from information_schema.tables where table_schema = 'analytics'",
        )
    ]
    return {
        table: query(database, f"select * from analytics.{table} order by all")  # noqa: S608
        for table in tables
    }


def test_dbt_build_twice_gives_the_same_tables(pipeline):
    before = mart_contents(pipeline.database)
    result = run_meltano("--environment=sandbox", "run", "dbt-duckdb:build", env=pipeline.env)
    dbt_output.assert_build(result.stdout + result.stderr, {})
    after = mart_contents(pipeline.database)
    assert after.keys() == before.keys()
    for table, rows in before.items():
        assert after[table] == rows, f"analytics.{table} changed on the second build"


def post_changes(sandbox: Sandbox, random_changes: int, seed: int) -> list[dict[str, Any]]:
    request = urllib.request.Request(  # noqa: S310 - local sandbox
        f"{sandbox.base_url}/_sandbox/changes",
        data=json.dumps({"random": random_changes, "seed": seed}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        return json.loads(response.read())["events"]


def test_a_second_run_reads_the_new_events(pipeline, sandbox):
    """Runs last in this module: it changes the sandbox. With the first run's state, the tap
    reads the events since its bookmark (and no new snapshot), and the loader adds them."""
    new_events = post_changes(sandbox, random_changes=15, seed=3)
    assert new_events
    result = run_meltano(
        "--environment=sandbox",
        "run",
        "tap-clever",
        "target-duckdb",
        "dbt-duckdb:build",
        env=pipeline.env,
    )
    dbt_output.assert_build(result.stdout + result.stderr, {})
    event_ids = ids(pipeline.database, "fct_events", "event_id")
    assert event_ids == {event["id"] for event in sandbox.events()}
    assert {event["id"] for event in new_events} <= event_ids
    (snapshots,) = query(pipeline.database, "select count(*) from raw_clever.snapshots")[0]
    assert snapshots == len(sandbox.info["districts"])  # still the first run's snapshots
