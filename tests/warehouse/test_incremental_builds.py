"""Incremental dbt builds give what a full rebuild gives: every mart, every row and column.

One sandbox (two small districts) and one warehouse go through the real pipeline, step by step:
the first run (a full snapshot, and dbt's first build), creates, updates and deletes that arrive
as events, more changes to records changed before, and a resync that drops records removed
without an event. After each step dbt has built the warehouse incrementally (the current-state
models and the marts recompute only the records with new inputs); a copy of the warehouse is
then rebuilt from the raw tables with `dbt build --full-refresh`, and both must hold the same
tables, row for row, column for column (`loaded_at` included). The tests depend on each other's
order (pytest runs a module's tests in file order).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from . import dbt_output
from .conftest import run_meltano, sandbox_pipeline

duckdb = pytest.importorskip("duckdb", reason="duckdb is not installed: pip install -e '.[dev]'")
clever_sandbox = pytest.importorskip("clever_sandbox")

#: The schemas dbt builds tables in (staging holds views and the typed copies of big sources).
BUILT_SCHEMAS = ("staging", "intermediate", "analytics")


@dataclass
class Warehouse:
    server: Any  # clever_sandbox.SandboxServer
    database: Path
    work: Path
    env: dict[str, str]

    def run(self, *extra: str) -> str:
        """`meltano run tap-clever target-duckdb dbt-duckdb:build` (extra options first)."""
        result = run_meltano(
            "--environment=sandbox",
            "run",
            *extra,
            "tap-clever",
            "target-duckdb",
            "dbt-duckdb:build",
            env=self.env,
        )
        output = result.stdout + result.stderr
        dbt_output.assert_build(output, {})
        return output

    def ran_incrementally(self) -> bool:
        """Whether the last build merged into int_clever__users_current (an incremental run's
        SQL deletes the recomputed records' rows) instead of creating it anew."""
        run_sql = next((self.work / "dbt-target" / "run").rglob("int_clever__users_current.sql"))
        return "delete from" in run_sql.read_text()


@pytest.fixture(scope="module")
def warehouse(meltano_plugins, tmp_path_factory) -> Iterator[Warehouse]:
    config = clever_sandbox.SandboxConfig(
        districts=2, users_per_district=200, seed=31, initial_events=10
    )
    with sandbox_pipeline(tmp_path_factory, "incremental", config) as run:
        yield Warehouse(server=run.server, database=run.database, work=run.work, env=run.env)


def built_tables(database: Path) -> dict[str, list[tuple]]:
    """Every table dbt built (views aside) -> all its rows, in a stable order."""
    with duckdb.connect(str(database), read_only=True) as connection:
        tables = connection.execute(
            "select table_schema || '.' || table_name from information_schema.tables"
            " where table_type = 'BASE TABLE' and table_schema in (?, ?, ?)",
            list(BUILT_SCHEMAS),
        ).fetchall()
        return {
            table: connection.execute(f"select * from {table} order by all").fetchall()  # noqa: S608 - names from the catalog
            for (table,) in tables
        }


def assert_same_as_a_full_rebuild(warehouse: Warehouse) -> None:
    """A copy of the warehouse rebuilt with --full-refresh holds what the incremental build
    made, table for table (the marts and the models they read)."""
    copy = warehouse.work / "full-refresh.duckdb"
    shutil.copyfile(warehouse.database, copy)
    rebuild_work = warehouse.work / "full-refresh"
    env = {
        **warehouse.env,
        "CLEVER_DUCKDB_PATH": str(copy),
        # Its own dbt target folder: the incremental build's artifacts stay as they are.
        "DBT_TARGET_PATH": str(rebuild_work / "dbt-target"),
        "DBT_LOG_PATH": str(rebuild_work / "dbt-logs"),
    }
    result = run_meltano("invoke", "dbt-duckdb:rebuild", env=env)
    dbt_output.assert_build(result.stdout + result.stderr, {})

    incremental, rebuilt = built_tables(warehouse.database), built_tables(copy)
    assert incremental.keys() == rebuilt.keys()
    assert any(table.startswith("analytics.") for table in rebuilt)
    for table, rows in rebuilt.items():
        assert incremental[table] == rows, f"{table} differs from a full rebuild"


def users_with_role(server: Any, district: str, role: str) -> list[dict[str, Any]]:
    return [user for user in server.records("users", district) if role in user["roles"]]


def another_school(server: Any, district: str, student_id: str) -> str:
    """A school of the district other than the student's primary one."""
    school = server.record("users", student_id)["roles"]["student"]["school"]
    return next(s["id"] for s in server.records("schools", district) if s["id"] != school)


def test_the_first_run_builds_everything(warehouse):
    warehouse.run()
    assert not warehouse.ran_incrementally()


def test_creates_updates_and_deletes(warehouse):
    server = warehouse.server
    first, second = server.district_ids
    students = users_with_role(server, first, "student")
    teachers = users_with_role(server, first, "teacher")
    contacts = users_with_role(server, first, "contact")
    schools = [school["id"] for school in server.records("schools", first)]
    sections = [s for s in server.records("sections", first) if len(s.get("students") or []) > 1]
    term = server.records("terms", second)[0]
    events = server.apply_changes(
        [
            {"op": "set_grade", "user": students[0]["id"], "grade": "7"},
            {
                "op": "move_school",
                "user": students[1]["id"],
                "school": another_school(server, first, students[1]["id"]),
            },
            {"op": "delete", "id": students[2]["id"]},
            {"op": "delete", "id": sections[0]["id"]},
            {
                "op": "create",
                "type": "users",
                "role": "student",
                "district": first,
                "school": schools[0],
            },
            {"op": "add_role", "user": teachers[0]["id"], "role": "district_admin"},
            {
                "op": "set_contact_relationships",
                "user": contacts[0]["id"],
                "shape": "v2",
                "event_shape": "v2",
                "relationships": [
                    {"student": students[3]["id"], "relationship": "Parent", "type": "Family"}
                ],
            },
            {
                "op": "set_term_dates",
                "term": term["id"],
                "start_date": "2025-01-06T00:00:00.000Z",
                "end_date": "2025-06-13 00:00:00.000000",
            },
        ]
    )
    events += server.random_changes(25, seed=5)
    assert {event["type"].split(".")[1] for event in events} == {"created", "updated", "deleted"}

    warehouse.run()

    assert warehouse.ran_incrementally()
    assert_same_as_a_full_rebuild(warehouse)


def test_changes_to_records_changed_before(warehouse):
    """The same records again (a student moved twice, a role dropped after it was added), the
    roster of a section, and a deleted teacher: rows built from earlier events are replaced."""
    server = warehouse.server
    first = server.district_ids[0]
    students = users_with_role(server, first, "student")
    admin = next(
        u for u in users_with_role(server, first, "district_admin") if "teacher" in u["roles"]
    )
    section = next(s for s in server.records("sections", first) if len(s.get("students") or []) > 2)
    teacher = next(u for u in users_with_role(server, first, "teacher") if len(u["roles"]) == 1)
    server.apply_changes(
        [
            {
                "op": "move_school",
                "user": students[1]["id"],
                "school": another_school(server, first, students[1]["id"]),
            },
            {"op": "set_grade", "user": students[0]["id"], "grade": "8"},
            {"op": "drop_role", "user": admin["id"], "role": "district_admin"},
            {
                "op": "remove_section_students",
                "section": section["id"],
                "students": section["students"][:2],
            },
            {"op": "delete", "id": teacher["id"]},
        ]
    )
    server.random_changes(15, seed=6)

    warehouse.run()

    assert warehouse.ran_incrementally()
    assert_same_as_a_full_rebuild(warehouse)


def test_a_resync_drops_what_left_without_an_event(warehouse):
    """Records removed without an event are in the raw tables still; the resync's snapshot no
    longer holds them, so the incremental build drops them (and applies the events since)."""
    server = warehouse.server
    first = server.district_ids[0]
    student = users_with_role(server, first, "student")[4]
    section = server.records("sections", first)[2]
    assert student["id"] in server.silent_remove([student["id"], section["id"]])
    server.random_changes(10, seed=7)

    warehouse.run("--full-refresh")

    assert warehouse.ran_incrementally()
    assert_same_as_a_full_rebuild(warehouse)
    with duckdb.connect(str(warehouse.database), read_only=True) as connection:
        for table, key, oid in [
            ("dim_users", "user_id", student["id"]),
            ("dim_sections", "section_id", section["id"]),
            ("fct_section_students", "student_id", student["id"]),
        ]:
            sql = f"select count(*) from analytics.{table} where {key} = ?"  # noqa: S608
            assert connection.execute(sql, [oid]).fetchall() == [(0,)]
