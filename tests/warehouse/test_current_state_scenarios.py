"""Exact current state through events: the real `meltano run` against a sandbox, step by step.

The whole module runs twice, once per warehouse: DuckDB (target-duckdb, dbt-duckdb) and
PostgreSQL (the `postgres` environment: target-postgres, dbt-postgres, a real server).
One sandbox (two small districts) and one warehouse go through the steps in order, each a test:
initial sync; a batch of changes that reach the warehouse only as events; a run after no
changes; a silent removal and a full resync; an expired bookmark; runs killed in the tap and
in dbt, then rerun; two districts with one failing. After each step every mart must hold
exactly the sandbox's current data (tests/warehouse/marts_vs_sandbox.py), without doubled rows.
The tests depend on each other's order (pytest runs a module's tests in file order).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from . import dbt_output
from .conftest import MELTANO, run_and_kill, run_meltano, sandbox_pipeline

duckdb = pytest.importorskip("duckdb", reason="duckdb is not installed: pip install -e '.[dev]'")
clever_sandbox = pytest.importorskip("clever_sandbox")

from tests.postgres_server import PostgresServer  # noqa: E402

from .marts_vs_sandbox import Warehouse as MartsWarehouse  # noqa: E402
from .marts_vs_sandbox import assert_marts_equal_sandbox, expected_marts, query  # noqa: E402


@dataclass(frozen=True)
class Pipeline:
    """One warehouse's pipeline: its Meltano environment, loader and dbt utility."""

    environment: str
    loader: str
    dbt: str

    @property
    def state_id(self) -> str:
        return f"{self.environment}:tap-clever-to-{self.loader}"

    def run_args(self, *extra: str) -> tuple[str, ...]:
        """`meltano run tap-clever <loader> <dbt>:build`, extra options before the plugins."""
        return (f"--environment={self.environment}", "run", *extra, *self.plugins)

    @property
    def plugins(self) -> tuple[str, ...]:
        return ("tap-clever", self.loader, f"{self.dbt}:build")


PIPELINES = {
    "duckdb": Pipeline("sandbox", "target-duckdb", "dbt-duckdb"),
    "postgres": Pipeline("postgres", "target-postgres", "dbt-postgres"),
}


@dataclass
class Warehouse:
    server: Any  # clever_sandbox.SandboxServer
    marts: MartsWarehouse  # the DuckDB file, or the PostgreSQL database
    work: Path
    env: dict[str, str]
    pipeline: Pipeline
    outputs: list[str] = field(default_factory=list)
    #: Set once a run was killed: Meltano then records that job as running until it calls it
    #: stale (5 minutes without a heartbeat) and refuses the same pipeline without --force.
    force: bool = False

    def run(self, *extra: str, check: bool = True) -> subprocess.CompletedProcess:
        """`meltano run tap-clever <loader> <dbt>:build` (extra options first)."""
        if self.force:
            extra = ("--force", *extra)
        result = run_meltano(*self.pipeline.run_args(*extra), env=self.env, check=check)
        self.outputs.append(result.stdout + result.stderr)
        if check:
            # The sandbox's data leaves no dangling reference, unknown enum value or unparsed
            # date: any warning is new.
            dbt_output.assert_build(self.outputs[-1], {})
        return result

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        """The rows of `sql`, its `?` placeholders bound to `params` (as literals: test data)."""
        for value in params or []:
            sql = sql.replace("?", "'" + str(value).replace("'", "''") + "'", 1)
        return query(self.marts, sql)

    def state(self) -> dict[str, Any]:
        result = run_meltano("state", "get", self.pipeline.state_id, env=self.env)
        return json.loads(result.stdout.strip().splitlines()[-1])

    def bookmark(self, district_id: str) -> str | None:
        partitions = self.state()["singer_state"]["bookmarks"]["events"]["partitions"]
        for partition in partitions:
            if partition["context"]["district"] == district_id:
                return partition.get("replication_key_value")
        return None

    def assert_current(self, expected: dict[str, set[tuple]] | None = None) -> None:
        assert_marts_equal_sandbox(self.marts, self.server, expected)


@pytest.fixture(scope="module", params=list(PIPELINES))
def warehouse(request, meltano_plugins, tmp_path_factory) -> Iterator[Warehouse]:
    config = clever_sandbox.SandboxConfig(
        districts=2, users_per_district=300, seed=23, initial_events=6
    )
    postgres: PostgresServer | None = None
    if request.param == "postgres":
        postgres = request.getfixturevalue("postgres_server").create_database("scenarios")
    # Every record checked against its SCHEMA, as a validating loader does.
    with sandbox_pipeline(
        tmp_path_factory,
        f"scenarios-{request.param}",
        config,
        postgres=postgres,
        # Run folders of its own: a developer's run or another module's cannot delete its
        # plugins' settings files mid-run.
        private_runs=True,
        TARGET_DUCKDB_VALIDATE_RECORDS="true",
        TARGET_POSTGRES_VALIDATE_RECORDS="true",
    ) as run:
        yield Warehouse(
            server=run.server,
            marts=postgres or run.database,
            work=run.work,
            env=run.env,
            pipeline=PIPELINES[request.param],
        )


def users_with_role(server: Any, district: str, role: str) -> list[dict[str, Any]]:
    return [user for user in server.records("users", district) if role in user["roles"]]


def test_initial_sync(warehouse):
    warehouse.run()
    assert "first sync of this district" in warehouse.outputs[-1]
    warehouse.assert_current()
    snapshots = warehouse.query("select district, event_cursor from raw_clever.snapshots")
    assert {district for district, _ in snapshots} == set(warehouse.server.district_ids)
    # The cursor is the newest event when the snapshot started: the initial feed's last.
    for district, cursor in snapshots:
        assert cursor == warehouse.server.events(district)[-1]["id"]


def test_changes_arrive_through_events(warehouse):
    server = warehouse.server
    first, second = server.district_ids
    students = users_with_role(server, first, "student")
    schools = [school["id"] for school in server.records("schools", first)]
    sections = [s for s in server.records("sections", first) if len(s.get("students") or []) > 2]
    contacts = users_with_role(server, first, "contact")
    teachers = [u for u in users_with_role(server, first, "teacher") if len(u["roles"]) == 1]
    multi_role = next(
        user
        for district in (first, second)
        for user in server.records("users", district)
        if len(user["roles"]) > 1
    )
    term = server.records("terms", first)[0]
    graded, moved, deleted = students[0], students[1], students[2]
    roster, doomed = sections[0], sections[1]
    new_school = next(school for school in schools if school != moved["roles"]["student"]["school"])
    events = server.apply_changes(
        [
            {"op": "set_grade", "user": graded["id"], "grade": "PreKindergarten"},
            {"op": "move_school", "user": moved["id"], "school": new_school},
            {"op": "delete", "id": deleted["id"]},
            {
                "op": "create",
                "type": "users",
                "role": "student",
                "district": first,
                "school": schools[0],
            },
        ]
    )
    new_student = next(e for e in events if e["type"] == "users.created")["data"]["object"]["id"]
    leaver = next(s for s in roster["students"] if s != deleted["id"])
    events += server.apply_changes(
        [
            {"op": "add_section_students", "section": roster["id"], "students": [new_student]},
            {"op": "remove_section_students", "section": roster["id"], "students": [leaver]},
            {"op": "delete", "id": doomed["id"]},
            {
                "op": "set_contact_relationships",
                "user": contacts[0]["id"],
                "shape": "v3",
                "relationships": [
                    {"student": new_student, "relationship": "Grandparent", "type": "Emergency"}
                ],
            },
            {
                "op": "set_contact_relationships",
                "user": contacts[1]["id"],
                "shape": "v2",
                "event_shape": "v2",
                "relationships": [
                    {"student": graded["id"], "relationship": "Aunt/Uncle", "type": "Family"}
                ],
            },
            {
                "op": "set_term_dates",
                "term": term["id"],
                "start_date": "2025-01-06T00:00:00.000Z",
                "end_date": "2025-06-13 00:00:00.000000",
            },
            {"op": "add_role", "user": teachers[0]["id"], "role": "district_admin"},
            {"op": "drop_role", "user": multi_role["id"], "role": sorted(multi_role["roles"])[0]},
            {
                "op": "set_grade",
                "user": users_with_role(server, second, "student")[0]["id"],
                "grade": "12",
            },
        ]
    )
    assert len(events) >= 13
    snapshots_before = warehouse.query("select count(*) from raw_clever.snapshots")

    warehouse.run()

    assert "incremental: events after the bookmark" in warehouse.outputs[-1]
    assert warehouse.query("select count(*) from raw_clever.snapshots") == snapshots_before
    warehouse.assert_current()
    # Spot checks of the changes themselves (the full comparison above covers every column).
    assert warehouse.query(
        "select grade from analytics.dim_students where student_id = ?", [graded["id"]]
    ) == [("PreKindergarten",)]
    assert (
        warehouse.query(
            "select user_id from analytics.dim_users where user_id = ?", [deleted["id"]]
        )
        == []
    )
    assert (
        warehouse.query(
            "select section_id from analytics.dim_sections where section_id = ?", [doomed["id"]]
        )
        == []
    )
    assert warehouse.query(
        "select start_date::varchar, end_date::varchar from analytics.dim_terms where term_id = ?",
        [term["id"]],
    ) == [("2025-01-06", "2025-06-13")]
    # The history: who joined and left which section and school, event by event.
    changes = set(
        warehouse.query(
            "select student_id, scope, coalesce(section_id, school_id), change"
            " from analytics.fct_roster_changes"
        )
    )
    section_deleted = next(e for e in events if e["type"] == "sections.deleted")
    assert {
        (leaver, "section", roster["id"], "left"),
        (new_student, "section", roster["id"], "joined"),
        (new_student, "school", schools[0], "joined"),
        (moved["id"], "school", moved["roles"]["student"]["school"], "left"),
        (moved["id"], "school", new_school, "joined"),
        (deleted["id"], "school", deleted["roles"]["student"]["school"], "left"),
        *(
            (student, "section", doomed["id"], "left")
            for student in section_deleted["data"]["object"]["students"]
        ),
    } <= changes
    # The raw table still holds the deleted student (the loader never deletes): only the
    # event application removes it.
    assert warehouse.query(
        "select count(*) from raw_clever.users where id = ?", [deleted["id"]]
    ) == [(1,)]


def mart_contents(warehouse: Warehouse) -> dict[str, list[tuple]]:
    tables = [
        name
        for (name,) in warehouse.query(
            "select table_name from information_schema.tables where table_schema = 'analytics'"
        )
    ]
    return {
        table: sorted(warehouse.query(f"select * from analytics.{table}"), key=repr)  # noqa: S608
        for table in tables
    }


def test_a_run_after_no_changes_changes_nothing(warehouse):
    before = mart_contents(warehouse)
    warehouse.run()
    assert mart_contents(warehouse) == before
    warehouse.assert_current()


def test_a_full_resync_drops_records_removed_without_an_event(warehouse):
    server = warehouse.server
    first = server.district_ids[0]
    student = users_with_role(server, first, "student")[5]
    section = server.records("sections", first)[3]
    removed = server.silent_remove([student["id"], section["id"]])
    assert student["id"] in removed
    feed_before = len(server.events(first))

    warehouse.run("--full-refresh")

    assert len(server.events(first)) == feed_before  # no event told of the removal
    assert "first sync of this district (or a full refresh)" in warehouse.outputs[-1]
    warehouse.assert_current()
    for table, key, oid in [
        ("dim_users", "user_id", student["id"]),
        ("dim_sections", "section_id", section["id"]),
        ("fct_section_students", "student_id", student["id"]),
    ]:
        sql = f"select count(*) from analytics.{table} where {key} = ?"  # noqa: S608
        assert warehouse.query(sql, [oid]) == [(0,)]


def test_a_bookmark_older_than_the_retained_feed_falls_back_to_a_snapshot(warehouse):
    server = warehouse.server
    first = server.district_ids[0]
    students = users_with_role(server, first, "student")
    events = server.apply_changes(
        [{"op": "set_grade", "user": student["id"], "grade": "3"} for student in students[:3]]
    )
    # Clever dropped the oldest events, including two of the three new ones.
    assert server.expire_events(before_id=events[-1]["id"], district_id=first) > 0

    warehouse.run()

    output = warehouse.outputs[-1]
    assert "older than the oldest event Clever still keeps" in output
    assert "full snapshot" in output
    warehouse.assert_current()


def kill_pipeline(warehouse: Warehouse, ready: Any) -> None:
    """Start the pipeline and SIGKILL it, Meltano and its plugins, once ready()."""
    force = ("--force",) if warehouse.force else ()
    run_and_kill(
        [str(MELTANO), *warehouse.pipeline.run_args(*force)],
        env=warehouse.env,
        log=warehouse.work / "killed-run.log",
        ready=ready,
    )


def rerun(warehouse: Warehouse) -> None:
    """Rerun after a kill: Meltano still records the killed job as running (it calls it stale
    only after 5 minutes without a heartbeat) and refuses a second one without --force."""
    if not warehouse.force:
        refused = warehouse.run(check=False)
        assert refused.returncode != 0
        assert "--force" in refused.stdout + refused.stderr
        warehouse.force = True
    warehouse.run()
    warehouse.assert_current()


def test_a_run_killed_in_the_tap_then_rerun(warehouse):
    server = warehouse.server
    first, second = server.district_ids
    for district in (first, second):
        students = users_with_role(server, district, "student")
        server.apply_changes(
            [
                {"op": "set_grade", "user": students[7]["id"], "grade": "9"},
                {"op": "delete", "id": students[8]["id"]},
            ]
        )
    # Events requests past the sync plan's probes (two per district) wait 2 s each: the run
    # is killed while the tap reads the feed, after the first district's events went out.
    injected = server.configure_faults()["injected"]
    server.add_fault(kind="latency", latency_ms=2000, path=r"/v3\.1/events", times=None, after=5)
    try:
        kill_pipeline(warehouse, lambda: server.configure_faults()["injected"] > injected)
    finally:
        server.clear_faults()

    rerun(warehouse)


def test_a_run_killed_in_dbt_then_rerun(warehouse):
    server = warehouse.server
    first = server.district_ids[0]
    sections = [s for s in server.records("sections", first) if s.get("students")]
    server.apply_changes(
        [
            {
                "op": "remove_section_students",
                "section": sections[0]["id"],
                "students": sections[0]["students"][:1],
            },
            {"op": "delete", "id": sections[1]["id"]},
        ]
    )
    dbt_log = warehouse.work / "dbt-logs" / "dbt.log"
    dbt_log.parent.mkdir(exist_ok=True)
    dbt_log.write_text("")
    kill_pipeline(warehouse, lambda: "START sql incremental model" in dbt_log.read_text())

    rerun(warehouse)


def test_one_failing_district_does_not_hold_back_the_other(warehouse):
    server = warehouse.server
    first, second = server.district_ids
    second_before = expected_marts(server, [second])
    second_bookmark = warehouse.bookmark(second)
    assert second_bookmark
    for district in (first, second):
        students = users_with_role(server, district, "student")
        server.apply_changes([{"op": "delete", "id": students[10]["id"]}])
    # Every request naming the second district's bookmark (its event probe and its feed)
    # is refused as if its token had been revoked.
    server.add_fault(
        kind="status", status=401, path=f"starting_after={second_bookmark}", times=None
    )
    try:
        failed = warehouse.run(check=False)
    finally:
        server.clear_faults()

    assert failed.returncode != 0
    output = failed.stdout + failed.stderr
    assert re.search(rf"1 district\(s\) failed.*\n.*{second}", output)
    assert warehouse.bookmark(second) == second_bookmark
    pipeline = warehouse.pipeline
    result = run_meltano(
        f"--environment={pipeline.environment}",
        "run",
        "--force",
        f"{pipeline.dbt}:build",
        env=warehouse.env,
    )
    dbt_output.assert_build(result.stdout + result.stderr, {})
    expected = expected_marts(server, [first])
    for mart, rows in second_before.items():
        expected[mart] |= rows
    warehouse.assert_current(expected)

    warehouse.run()
    warehouse.assert_current()
