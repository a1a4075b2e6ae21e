"""Shards of the sync running at once into one PostgreSQL warehouse (scripts/run_shards.py).

Real Meltano, target-postgres and dbt-postgres, against the session's PostgreSQL server (a
database of this module's own) and a small sandbox. Meltano's system database, and so every
shard's state, is the warehouse's `meltano` schema. Steps in order (pytest runs a module's
tests in order): two shards as two processes at once, as the jobs of an Actions matrix are,
on a new warehouse, then dbt once; a shard failing in a run of both, which moves no other
shard's state, and catches up on the next run; re-sharding from 2 to 3; a shard losing the
race to create a raw table, run again; a wrong password refused in one line; and no secret in
any output or file.

MARTS (on unless CLEVER_TEST_POSTGRES_MARTS=0, for while transform/ does not build on
PostgreSQL): dbt runs after the shards and every mart must equal the sandbox.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tap_clever.shards import DistrictShard
from tests.postgres_server import PostgresServer

from . import dbt_output, secret_scan
from .conftest import REPO_ROOT, sandbox_pipeline

psycopg = pytest.importorskip("psycopg")
clever_sandbox = pytest.importorskip("clever_sandbox")

from .marts_vs_sandbox import assert_marts_equal_sandbox, expected_marts  # noqa: E402

MARTS = os.environ.get("CLEVER_TEST_POSTGRES_MARTS", "1") != "0"
RUN_SHARDS = [sys.executable, str(REPO_ROOT / "scripts" / "run_shards.py")]
STATE_ID = "postgres:tap-clever-to-target-postgres"
#: The tap's snapshot streams: one raw row per record, keyed on its id.
SNAPSHOT_STREAMS = ("districts", "schools", "terms", "courses", "sections", "users", "resources")


@dataclass
class ShardedPostgres:
    server: Any  # clever_sandbox.SandboxServer
    database: PostgresServer
    work: Path
    env: dict[str, str]
    outputs: list[str] = field(default_factory=list)

    @property
    def work_dir(self) -> Path:
        return self.work / "shards"

    def command(self, *args: str) -> list[str]:
        return [*RUN_SHARDS, *args, "--work-dir", str(self.work_dir)]

    def keep(self, result: subprocess.CompletedProcess) -> str:
        output = result.stdout + result.stderr
        self.outputs.append(output)
        # For a failure's post-mortem (pytest keeps the last runs' temporary folders).
        (self.work / f"run-{len(self.outputs)}.log").write_text(output)
        return output

    def run(self, *args: str, exit_code: int = 0) -> str:
        """run_shards.py `args`, which must exit with `exit_code`; its output."""
        result = subprocess.run(
            self.command(*args),
            cwd=REPO_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        output = self.keep(result)
        assert result.returncode == exit_code, output[-8000:]
        return output

    def run_at_once(self, *commands: list[str]) -> list[str]:
        """Several run_shards.py commands started together (an Actions matrix's jobs); each
        must succeed."""
        processes = [
            subprocess.Popen(
                self.command(*args),
                cwd=REPO_ROOT,
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for args in commands
        ]
        outputs = []
        for process in processes:
            stdout, stderr = process.communicate(timeout=600)
            output = self.keep(
                subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
            )
            assert process.returncode == 0, output[-8000:]
            outputs.append(output)
        return outputs

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        with psycopg.connect(self.database.uri) as connection:
            return connection.execute(sql, params or []).fetchall()  # type: ignore[arg-type]

    def state(self, index: int, count: int) -> dict[str, Any] | None:
        rows = self.query(
            "select completed_state from meltano.state where state_id = %s",
            [f"{STATE_ID}:{suffix(index, count)}"],
        )
        # Meltano keeps it as JSON text.
        return json.loads(rows[0][0])["singer_state"] if rows else None

    def bookmarks(self, index: int, count: int) -> dict[str, str | None]:
        """Each district's events bookmark in one shard's state."""
        state = self.state(index, count)
        assert state is not None, f"no state for shard {index}/{count}"
        partitions = state["bookmarks"]["events"]["partitions"]
        return {p["context"]["district"]: p.get("replication_key_value") for p in partitions}

    def raw_event_ids(self, district: str) -> set[str]:
        rows = self.query("select id from raw_clever.events where district = %s", [district])
        return {row_id for (row_id,) in rows}

    def shard_log(self, index: int, count: int) -> str:
        """The text of the lines of one shard's last meltano run."""
        path = self.work_dir / suffix(index, count) / "extract-load.jsonl"
        lines = (json.loads(line) for line in path.read_text().splitlines() if line.strip())
        return "\n".join(str(line.get("event", "")) for line in lines)

    def assert_raw_tables_hold_each_record_once(self, *, exactly: bool) -> None:
        """Every sandbox record, of every district, in its raw table once (`exactly`: and no
        other row; deleted records stay in the raw tables)."""
        for stream in SNAPSHOT_STREAMS:
            rows = self.query(f"select district, id from raw_clever.{stream}")  # noqa: S608
            assert len(rows) == len(set(rows)), f"{stream}: doubled rows"
            assert len({row_id for _, row_id in rows}) == len(rows), f"{stream}: doubled ids"
            expected = {
                (district, record["id"])
                for district in self.server.district_ids
                for record in self.server.records(stream, district)
            }
            if exactly:
                assert set(rows) == expected, stream
            else:
                assert set(rows) >= expected, stream
        events = [row_id for (row_id,) in self.query("select id from raw_clever.events")]
        assert len(events) == len(set(events))
        assert set(events) <= {event["id"] for event in self.server.events()}

    def assert_marts_current(self, output: str, expected: dict[str, set[tuple]] | None = None):
        if MARTS:
            assert "dbt build: ok" in output
            # dbt colours its lines (run_shards.py echoes them as they are).
            dbt_output.assert_build(re.sub(r"\x1b\[[0-9;]*m", "", output), {})
            assert_marts_equal_sandbox(self.database, self.server, expected)


def suffix(index: int, count: int) -> str:
    return f"shard-{index}-of-{count}"


def shard_of(district_id: str, count: int) -> int:
    return next(i for i in range(1, count + 1) if DistrictShard(i, count).holds(district_id))


def held(server: Any, index: int, count: int) -> set[str]:
    return {d for d in server.district_ids if shard_of(d, count) == index}


def dbt_flags() -> tuple[str, ...]:
    return () if MARTS else ("--skip-dbt",)


def delete_a_student_in_each_district(server: Any, nth: int) -> None:
    for district in server.district_ids:
        students = [u for u in server.records("users", district) if "student" in u["roles"]]
        server.apply_changes([{"op": "delete", "id": students[nth]["id"]}])


@pytest.fixture(scope="module")
def shards(meltano_plugins, postgres_server, tmp_path_factory) -> Iterator[ShardedPostgres]:
    database = postgres_server.create_database("postgres_shards")
    config = clever_sandbox.SandboxConfig(
        districts=6, users_per_district=25, seed=37, initial_events=4
    )
    with sandbox_pipeline(tmp_path_factory, "postgres-shards", config, postgres=database) as run:
        # Every shard of 2 and of 3 holds a district, or the test would prove little.
        assert {shard_of(d, 2) for d in run.server.district_ids} == {1, 2}
        assert {shard_of(d, 3) for d in run.server.district_ids} == {1, 2, 3}
        # run_shards.py's own system database and state backend (the warehouse's), not the
        # SQLite file and state folder of the DuckDB pipeline's tests.
        env = {
            key: value
            for key, value in run.env.items()
            if key not in ("MELTANO_DATABASE_URI", "MELTANO_STATE_BACKEND_URI")
        }
        yield ShardedPostgres(server=run.server, database=database, work=run.work, env=env)


def test_two_shards_at_once_on_a_new_warehouse_then_dbt_once(shards):
    server = shards.server
    # Two processes, as two machines' jobs: both set up Meltano's tables in the new warehouse.
    outputs = shards.run_at_once(
        ["--shards", "2", "--only", "1", "--skip-dbt"],
        ["--shards", "2", "--only", "2", "--skip-dbt"],
    )
    for index, output in enumerate(outputs, 1):
        count = len(held(server, index, 2))
        assert f"shard {index}/2: ok, " in output
        assert f", {count} of 6 districts" in output
        assert f"Shard {index}/2 (district_shard): {count} of the 6 district(s)" in output
        assert "dbt build" not in output
    # They ran at once, each under its own state id, in the warehouse's system database.
    runs = shards.query(
        "select job_name, started_at, ended_at from meltano.runs where state = 'SUCCESS'"
        " order by job_name"
    )
    assert [name for name, _, _ in runs] == [f"{STATE_ID}:{suffix(i, 2)}" for i in (1, 2)]
    (_, first_start, first_end), (_, second_start, second_end) = runs
    assert first_start < second_end
    assert second_start < first_end
    for index in (1, 2):
        assert set(shards.bookmarks(index, 2)) == held(server, index, 2)
    shards.assert_raw_tables_hold_each_record_once(exactly=True)

    if MARTS:
        # The final job: dbt once, reporting the shards from the outcomes they left.
        output = shards.run("--shards", "2", "--dbt-only")
        assert "shard 1/2: ok" in output
        assert "shard 2/2: ok" in output
        shards.assert_marts_current(output)


def test_a_failing_shard_moves_no_other_shards_state_and_catches_up(shards):
    server = shards.server
    failing = sorted(held(server, 1, 2))[0]
    before = {index: shards.bookmarks(index, 2) for index in (1, 2)}
    failing_before = expected_marts(server, [failing])
    delete_a_student_in_each_district(server, 3)
    # Every request after the failing district's bookmark is refused, as for a revoked token.
    server.add_fault(
        kind="status", status=401, path=f"starting_after={before[1][failing]}", times=None
    )
    try:
        output = shards.run("--shards", "2", *dbt_flags(), exit_code=1)
    finally:
        server.clear_faults()

    assert "shard 1/2: failed (exit code 1)" in output
    assert "shard 2/2: ok" in output
    error_lines = [line for line in output.splitlines() if line.startswith("    district")]
    assert len(error_lines) == 1
    assert f"({failing}), stream events" in error_lines[0]
    assert "HTTP 401" in error_lines[0]
    assert output.rstrip().endswith("FAILED: shard 1/2")
    # dbt once, after both shards, the failed one included.
    assert output.count("== dbt build: meltano") == (1 if MARTS else 0)
    # The failed district stayed where it was; every other district moved on, in both shards.
    after = {index: shards.bookmarks(index, 2) for index in (1, 2)}
    assert after[1][failing] == before[1][failing]
    for index in (1, 2):
        for district in held(server, index, 2) - {failing}:
            assert after[index][district] != before[index][district], district
    expected = expected_marts(server, [d for d in server.district_ids if d != failing])
    for mart, rows in failing_before.items():
        expected[mart] |= rows
    shards.assert_marts_current(output, expected)
    missed = {e["id"] for e in server.events(failing) if e["id"] > before[1][failing]}
    assert missed
    assert not missed & shards.raw_event_ids(failing)

    # The next run catches the failed district up (the marts follow in the next test's build).
    output = shards.run("--shards", "2", "--skip-dbt")
    assert output.rstrip().endswith("all ok")
    assert shards.bookmarks(1, 2)[failing] != before[1][failing]
    assert missed <= shards.raw_event_ids(failing)
    shards.assert_raw_tables_hold_each_record_once(exactly=False)


def test_resharding_from_two_to_three_loses_and_doubles_nothing(shards):
    server = shards.server
    delete_a_student_in_each_district(server, 4)
    output = shards.run("--shards", "3", *dbt_flags())

    for index in (1, 2, 3):
        districts = held(server, index, 3)
        assert f"shard {index}/3: ok, " in output
        # Three new state ids: every district starts over from a snapshot in its new shard.
        assert set(shards.bookmarks(index, 3)) == districts
        log = shards.shard_log(index, 3)
        assert log.count("full snapshot (first sync") == len(districts)
    shards.assert_raw_tables_hold_each_record_once(exactly=False)
    shards.assert_marts_current(output)


def test_a_shard_that_loses_a_race_to_create_a_table_runs_again(shards):
    """On a new warehouse, every shard creates the raw tables: target-postgres looks for the
    table, then creates it, and PostgreSQL refuses the second of two shards doing so at once.
    Here the other shard is this test's own transaction, committed once the shard waits on it."""
    race = shards.database.create_database("postgres_shards_race")
    race.psql("create schema raw_clever")
    env = {**shards.env, **race.pipeline_env()}
    command = [*RUN_SHARDS, "--shards", "3", "--only", "2", "--skip-dbt"]
    work_dir = shards.work / "race"
    with psycopg.connect(race.uri) as other_shard:
        other_shard.execute("create table raw_clever.users (id varchar primary key)")
        process = subprocess.Popen(
            [*command, "--work-dir", str(work_dir)],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        waiting = (
            "select count(*) from pg_stat_activity where wait_event_type = 'Lock'"
            " and query ilike '%create table raw_clever.users%'"
        )
        deadline = time.monotonic() + 180
        while race.psql(waiting).stdout.strip() == "0":
            assert process.poll() is None, process.communicate()[0][-5000:]
            assert time.monotonic() < deadline, "the shard never tried to create the table"
            time.sleep(0.2)
        other_shard.commit()
    output, _ = process.communicate(timeout=300)
    shards.keep(subprocess.CompletedProcess(process.args, process.returncode, output, ""))

    assert process.returncode == 0, output[-8000:]
    assert "== shard 2/3: another shard created the same table at once; running it again" in output
    assert "shard 2/3: ok, " in output
    first = (work_dir / "shard-2-of-3" / "extract-load.attempt-1.jsonl").read_text()
    assert "already exists" in first or "pg_type_typname_nsp_index" in first
    rows = race.psql("select count(*) from raw_clever.users").stdout.strip()
    district = next(iter(held(shards.server, 2, 3)))
    assert int(rows) == len(shards.server.records("users", district))


def test_a_wrong_password_is_one_line_before_anything_runs(shards):
    wrong = "not-the-password-0123456789"
    result = subprocess.run(
        shards.command("--shards", "2"),
        cwd=REPO_ROOT,
        env={**shards.env, "CLEVER_POSTGRES_PASSWORD": wrong},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    shards.keep(result)
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(
        f"run_shards.py: cannot connect to PostgreSQL as clever@{shards.database.host}"
    )
    assert "password authentication failed" in line
    assert wrong not in line


def test_no_secret_in_any_output_or_file(shards):
    assert len(shards.outputs) >= 5
    secrets = {"PostgreSQL password": shards.database.password}
    for number, token in enumerate(shards.server.district_tokens, 1):
        secrets[f"district token {number}"] = token
    needles = secret_scan.needles(secrets)
    hits = [
        hit
        for number, output in enumerate(shards.outputs, 1)
        for hit in secret_scan.scan_text(output, f"output of run {number}", needles)
    ]
    # The shards' run folders, logs and outcomes, dbt's artifacts: everything the runs wrote.
    hits += secret_scan.scan_tree(shards.work, needles)
    assert not hits, "\n".join(hits)
