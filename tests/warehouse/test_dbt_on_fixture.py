"""Loader and dbt on hand-made Singer messages (tests/warehouse/singer_fixture.py).

No tap and no sandbox: the fixture carries the quirks the warehouse must absorb, including
values that cannot be parsed. The build must succeed, turn each bad value into NULL, and count
it in a warning test, never fail on it: exactly the warnings the fixture's bad values make, no
other. The dbt unit tests run here too (the pipeline's builds leave them out).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from . import dbt_output
from . import singer_fixture as fx
from .conftest import MELTANO, REPO_ROOT, meltano_env, run_meltano

# duckdb (same pin as the pipeline) and meltano come with the dev extra.
duckdb = pytest.importorskip("duckdb", reason="duckdb is not installed: pip install -e '.[dev]'")


@dataclass
class Build:
    database: Path
    output: str
    env: dict[str, str]
    work: Path


def load(env: dict[str, str], messages: Iterator[str]) -> None:
    subprocess.run(
        [str(MELTANO), "invoke", "target-duckdb"],
        input="\n".join(messages) + "\n",
        cwd=REPO_ROOT,
        env=env,
        text=True,
        capture_output=True,
        check=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def built(meltano_plugins, tmp_path_factory) -> Build:
    work = tmp_path_factory.mktemp("fixture")
    database = work / "clever.duckdb"
    env = meltano_env(work, CLEVER_DUCKDB_PATH=str(database))
    load(env, fx.messages())
    result = run_meltano("invoke", "dbt-duckdb:build", env=env)
    return Build(database, result.stdout + result.stderr, env, work)


@pytest.fixture(scope="module")
def resnapshotted(meltano_plugins, tmp_path_factory) -> Build:
    """Three snapshots into one database: the second lacks STAFF_1 (it left Clever), the third
    lacks TEACHER_2 and did not complete (a district failed mid-way)."""
    work = tmp_path_factory.mktemp("resnapshotted")
    database = work / "clever.duckdb"
    env = meltano_env(work, CLEVER_DUCKDB_PATH=str(database))
    load(env, fx.messages())
    load(env, fx.messages("2024-07-05T00:00:00.000000Z", without_ids=frozenset({fx.STAFF_1})))
    load(
        env,
        fx.messages(
            "2024-07-06T00:00:00.000000Z",
            without_ids=frozenset({fx.STAFF_1, fx.TEACHER_2}),
            completed=False,
        ),
    )
    result = run_meltano("invoke", "dbt-duckdb:build", env=env)
    return Build(database, result.stdout + result.stderr, env, work)


def query(database: Path, sql: str, params: list[object] | None = None) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.execute(sql, params or []).fetchall()


def test_every_fixture_record_is_loaded(built):
    database = built.database
    for stream, records in fx.records().items():
        (count,) = query(database, f"select count(*) from raw_clever.{stream}")[0]  # noqa: S608
        assert count == len(records), stream


#: The warnings the fixture's bad values make, test -> failing rows (each the field and the
#: text as sent, see unparsed_rows).
FIXTURE_WARNINGS = {"term_dates_not_parsed": 1, "student_values_not_parsed": 3}


def unparsed_rows(build: Build, test_name: str) -> set[tuple]:
    """The rows a warning test returned: its compiled SQL, run again on the warehouse."""
    compiled = next((build.work / "dbt-target" / "compiled").rglob(f"{test_name}.sql"))
    return set(query(build.database, compiled.read_text()))


def test_unparseable_values_are_counted_not_fatal(built):
    dbt_output.assert_build(built.output, FIXTURE_WARNINGS)
    assert unparsed_rows(built, "term_dates_not_parsed") == {("start_date", "sometime")}
    assert unparsed_rows(built, "student_values_not_parsed") == {
        ("dob", "31/31/2011"),
        ("ell_status", "maybe"),
        ("enrollment_start_date", "25.08.2015"),
    }


def test_unit_tests_pass(built):
    """The models' logic on fixed inputs (the unit tests beside the models), on the built
    warehouse: a unit test of an incremental model reads the model's columns."""
    result = run_meltano("invoke", "dbt-duckdb:unit-test", env=built.env)
    counts = dbt_output.tally(result.stdout + result.stderr)
    assert counts["error"] == 0
    assert counts["pass"] == counts["total"] >= 9


def test_students_are_typed(built):
    database = built.database
    rows = query(
        database,
        "select student_id, dob, ell_status, gifted_status, hispanic_ethnicity, grade"
        " from analytics.dim_students order by student_id",
    )
    assert rows == [
        (fx.STUDENT_1, date(2011, 8, 5), True, False, None, "5"),
        (fx.STUDENT_2, None, None, None, None, "Kindergarten"),
        (fx.STUDENT_3, date(2005, 12, 31), False, None, None, "12"),
    ]


def test_enrollment_and_term_dates(built):
    database = built.database
    enrollments = query(
        database,
        "select student_id, school_id, start_date, end_date from analytics.fct_student_enrollments"
        " order by student_id, enrollment_position",
    )
    assert enrollments == [
        (fx.STUDENT_1, fx.SCHOOL_A1, date(2015, 8, 25), date(2016, 6, 10)),
        (fx.STUDENT_1, fx.SCHOOL_A2, date(2016, 8, 25), date(2017, 6, 10)),
        (fx.STUDENT_2, fx.SCHOOL_A1, None, None),
    ]
    terms = query(database, "select term_id, start_date, end_date from analytics.dim_terms")
    assert set(terms) == {
        (fx.TERM_A, date(2015, 8, 25), date(2015, 12, 20)),
        (fx.TERM_B, date(2015, 8, 25), date(2016, 6, 10)),
        (fx.TERM_BAD, None, None),
    }


def test_multi_role_user_and_contacts(built):
    database = built.database
    roles = query(
        database,
        "select role from analytics.fct_user_roles where user_id = ? order by role",
        [fx.TEACHER_ADMIN],
    )
    assert roles == [("district_admin",), ("teacher",)]
    assert query(
        database,
        "select teacher_id from analytics.dim_teachers where teacher_id = ?"
        " union all select district_admin_id from analytics.dim_district_admins"
        " where district_admin_id = ?",
        [fx.TEACHER_ADMIN, fx.TEACHER_ADMIN],
    ) == [(fx.TEACHER_ADMIN,), (fx.TEACHER_ADMIN,)]
    relationships = query(
        database,
        "select contact_id, student_id, relationship, relationship_type, source_shape"
        " from analytics.fct_contact_relationships order by all",
    )
    assert relationships == [
        (fx.CONTACT_V3, fx.STUDENT_1, "Parent", "Parent/Guardian", "v3"),
        (fx.CONTACT_V3, fx.STUDENT_2, "Aunt/Uncle", "Family", "v3"),
        (fx.CONTACT_V2, fx.STUDENT_1, "Grandparent", "Emergency", "v2"),
        (fx.CONTACT_V2, fx.STUDENT_2, "Grandparent", "Emergency", "v2"),
    ]


def test_sections_and_events(built):
    database = built.database
    teachers = query(
        database,
        "select section_id, teacher_id, is_primary from analytics.fct_section_teachers"
        " order by all",
    )
    assert teachers == [
        (fx.SECTION_A, fx.TEACHER_ADMIN, True),
        (fx.SECTION_A, fx.TEACHER_2, False),
        (fx.SECTION_B, fx.TEACHER_2, True),  # primary teacher missing from `teachers`
    ]
    sections = query(
        database,
        "select section_id, course_id, subject, grade from analytics.dim_sections"
        " order by section_id",
    )
    assert sections == [(fx.SECTION_A, fx.COURSE_A, "math", "6"), (fx.SECTION_B, None, None, None)]
    events = query(
        database,
        "select event_id, record_type, action, object_id, created from analytics.fct_events"
        " order by event_id",
    )
    assert [event[1:4] for event in events] == [
        ("users", "updated", fx.STUDENT_1),
        ("sections", "deleted", fx.SECTION_B),
        ("users", "created", fx.CONTACT_V2),
    ]
    assert str(events[1][4]) == "2024-07-02 08:30:00"


def test_every_model_and_column_is_documented(built):
    """Each model has a description, and its documented columns are exactly its real ones."""
    run_meltano("invoke", "dbt-duckdb:docs-generate", env=built.env)
    target = built.work / "dbt-target"
    manifest = json.loads((target / "manifest.json").read_text())
    catalog = json.loads((target / "catalog.json").read_text())
    problems = []
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] != "model":
            continue
        if not node["description"]:
            problems.append(f"{unique_id}: no description")
        actual = {column.lower() for column in catalog["nodes"][unique_id]["columns"]}
        documented = {
            name.lower() for name, column in node["columns"].items() if column.get("description")
        }
        if actual != documented:
            problems.append(
                f"{unique_id}: undocumented {sorted(actual - documented)},"
                f" documented but absent {sorted(documented - actual)}"
            )
    assert not problems, "\n".join(problems)


def test_records_that_left_clever_leave_the_marts(resnapshotted):
    """The latest complete snapshot decides: STAFF_1, missing from it, is gone; TEACHER_2,
    missing only from a later snapshot that did not complete, stays."""
    database = resnapshotted.database
    dbt_output.assert_build(resnapshotted.output, FIXTURE_WARNINGS)
    (raw_users,) = query(database, "select count(*) from raw_clever.users")[0]
    assert raw_users == len(fx.records()["users"])  # the raw table keeps every record seen
    users = {user_id for (user_id,) in query(database, "select user_id from analytics.dim_users")}
    assert fx.STAFF_1 not in users
    assert fx.TEACHER_2 in users
    assert users == {user["id"] for user in fx.records()["users"]} - {fx.STAFF_1}
    assert query(database, "select staff_id from analytics.dim_staff") == []
    assert query(
        database,
        "select district_id, snapshot_id from intermediate.int_clever__latest_snapshots"
        " order by district_id",
    ) == [
        (fx.DISTRICT_A, "2024-07-05T00:00:00.000000Z"),
        (fx.DISTRICT_B, "2024-07-05T00:00:00.000000Z"),
    ]
