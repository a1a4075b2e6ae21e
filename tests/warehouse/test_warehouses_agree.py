"""The two warehouses agree: one sandbox, loaded by the DuckDB pipeline (target-duckdb,
dbt-duckdb) and by the PostgreSQL one (target-postgres, dbt-postgres), gives the same marts,
every column of every row, after the first sync, after events, and after a full resync.

The marts are also checked against the sandbox itself (marts_vs_sandbox), so two warehouses
agreeing on a wrong answer fail too. `loaded_at` is left out of the comparison: it is the time
of each warehouse's own load. The steps depend on each other's order.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.postgres_server import PostgresServer

from . import dbt_output
from .conftest import run_meltano, sandbox_pipeline
from .marts_vs_sandbox import Warehouse, assert_marts_equal_sandbox, query

clever_sandbox = pytest.importorskip("clever_sandbox")

DUCKDB_PIPELINE = ("--environment=sandbox", "run", "tap-clever", "target-duckdb")
POSTGRES_PIPELINE = ("--environment=postgres", "run", "tap-clever", "target-postgres")


@dataclass
class TwoWarehouses:
    server: Any  # clever_sandbox.SandboxServer
    duckdb: Path
    postgres: PostgresServer
    env: dict[str, str]

    def sync(self, *extra: str) -> None:
        """Both pipelines, one after the other, over the same sandbox data."""
        for pipeline, dbt in ((DUCKDB_PIPELINE, "dbt-duckdb"), (POSTGRES_PIPELINE, "dbt-postgres")):
            result = run_meltano(*pipeline[:2], *extra, *pipeline[2:], f"{dbt}:build", env=self.env)
            # The sandbox's data leaves no dangling reference, unknown enum value or unparsed
            # value: a warning on either warehouse is new.
            dbt_output.assert_build(result.stdout + result.stderr, {})

    def assert_agree(self) -> None:
        duckdb_marts, postgres_marts = mart_rows(self.duckdb), mart_rows(self.postgres)
        assert sorted(postgres_marts) == sorted(duckdb_marts)
        problems = []
        for mart, (columns, rows) in duckdb_marts.items():
            postgres_columns, postgres_rows = postgres_marts[mart]
            if postgres_columns != columns:
                problems.append(f"{mart}: columns {postgres_columns} against {columns}")
                continue
            only_duckdb = rows - postgres_rows
            only_postgres = postgres_rows - rows
            if only_duckdb or only_postgres:
                problems.append(
                    f"{mart}: {sum(only_duckdb.values())} rows only in DuckDB, e.g."
                    f" {list(only_duckdb)[:2]}; {sum(only_postgres.values())} only in"
                    f" PostgreSQL, e.g. {list(only_postgres)[:2]}"
                )
        assert not problems, "the warehouses' marts differ:\n" + "\n".join(problems)
        assert_marts_equal_sandbox(self.duckdb, self.server)
        assert_marts_equal_sandbox(self.postgres, self.server)


def comparable(value: Any) -> Any:
    """A value as both warehouses' drivers can give it: numbers as floats rounded to 9
    significant digits (DuckDB's DOUBLE and PostgreSQL's double precision print alike)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Decimal | float):
        return float(f"{float(value):.9g}") if math.isfinite(value) else float(value)
    if isinstance(value, tuple):
        return tuple(comparable(item) for item in value)
    return value


def mart_rows(warehouse: Warehouse) -> dict[str, tuple[list[str], Counter]]:
    """mart -> (its columns but loaded_at, in order; the multiset of its rows)."""
    columns: dict[str, list[str]] = {}
    for table, column in query(
        warehouse,
        "select table_name, column_name from information_schema.columns"
        " where table_schema = 'analytics' and column_name <> 'loaded_at'"
        " order by table_name, ordinal_position",
    ):
        columns.setdefault(table, []).append(column)
    marts = {}
    for table, names in columns.items():
        rows = query(warehouse, f"select {', '.join(names)} from analytics.{table}")  # noqa: S608
        marts[table] = (names, Counter(tuple(comparable(value) for value in row) for row in rows))
    return marts


@pytest.fixture(scope="module")
def warehouses(meltano_plugins, postgres_server, tmp_path_factory) -> Iterator[TwoWarehouses]:
    config = clever_sandbox.SandboxConfig(
        districts=2, users_per_district=250, seed=31, initial_events=8
    )
    postgres = postgres_server.create_database("agree")
    with sandbox_pipeline(tmp_path_factory, "agree", config, postgres=postgres) as run:
        # Both loaders in one project, each with its own state id (its environment's).
        yield TwoWarehouses(run.server, run.database, postgres, run.env)


def test_first_sync(warehouses):
    warehouses.sync()
    warehouses.assert_agree()


def test_after_events(warehouses):
    server = warehouses.server
    # Random creates, updates and deletes of every record type, in both districts.
    for district in server.district_ids:
        server.random_changes(60, seed=5, district_id=district)
    warehouses.sync()
    warehouses.assert_agree()


def test_after_a_full_resync(warehouses):
    server = warehouses.server
    first = server.district_ids[0]
    students = [u for u in server.records("users", first) if "student" in u["roles"]]
    section = server.records("sections", first)[2]
    assert server.silent_remove([students[4]["id"], section["id"]])
    warehouses.sync("--full-refresh")
    warehouses.assert_agree()


def test_incremental_and_full_builds_agree_on_postgres(warehouses):
    """The incremental materializations (clever_replace) on PostgreSQL: after incremental
    builds, a full rebuild from the raw tables changes no row."""
    before = mart_rows(warehouses.postgres)
    result = run_meltano(
        "--environment=postgres", "invoke", "dbt-postgres:rebuild", env=warehouses.env
    )
    dbt_output.assert_build(result.stdout + result.stderr, {})
    assert mart_rows(warehouses.postgres) == before


def test_unit_tests_pass_on_postgres(warehouses):
    """The models' unit tests (fixed inputs, transform/models/**/*.yml) on PostgreSQL too."""
    result = run_meltano(
        "--environment=postgres", "invoke", "dbt-postgres:unit-test", env=warehouses.env
    )
    counts = dbt_output.tally(result.stdout + result.stderr)
    assert counts["error"] == 0
    assert counts["pass"] == counts["total"] > 0
