"""Districts sharded over runs (`district_shard`), each run with its own state id, one warehouse.

DuckDB has one writer, so the shards run one after another here; what is tested is what makes
parallel shards correct: each takes its own districts and keeps its own state, a failing shard
moves no other shard's state, dbt after all of them gives every district's current state, and
re-sharding loses and doubles nothing. Steps in order (pytest runs a module's tests in order).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tap_clever.shards import DistrictShard

from . import dbt_output
from .conftest import run_meltano, sandbox_pipeline

clever_sandbox = pytest.importorskip("clever_sandbox")

from .marts_vs_sandbox import assert_marts_equal_sandbox, expected_marts  # noqa: E402

STATE_ID = "sandbox:tap-clever-to-target-duckdb"


@dataclass
class ShardedWarehouse:
    server: Any  # clever_sandbox.SandboxServer
    database: Path
    env: dict[str, str]

    def extract_load(self, index: int, count: int, *, check: bool = True) -> str:
        """One shard's `meltano run tap-clever target-duckdb`, under its own state id."""
        result = run_meltano(
            "--environment=sandbox",
            "run",
            "--state-id-suffix",
            suffix(index, count),
            "tap-clever",
            "target-duckdb",
            env={**self.env, "TAP_CLEVER_DISTRICT_SHARD": f"{index}/{count}"},
            check=check,
        )
        return result.stdout + result.stderr

    def build(self) -> None:
        result = run_meltano("--environment=sandbox", "run", "dbt-duckdb:build", env=self.env)
        dbt_output.assert_build(result.stdout + result.stderr, {})

    def bookmarks(self, index: int, count: int) -> dict[str, str | None]:
        """Each district's events bookmark in one shard's state."""
        state_id = f"{STATE_ID}:{suffix(index, count)}"
        result = run_meltano("state", "get", state_id, env=self.env)
        state = json.loads(result.stdout.strip().splitlines()[-1])
        partitions = state["singer_state"]["bookmarks"]["events"]["partitions"]
        return {p["context"]["district"]: p.get("replication_key_value") for p in partitions}


def suffix(index: int, count: int) -> str:
    return f"shard-{index}-of-{count}"


def shard_of(district_id: str, count: int) -> int:
    return next(i for i in range(1, count + 1) if DistrictShard(i, count).holds(district_id))


@pytest.fixture(scope="module")
def warehouse(meltano_plugins, tmp_path_factory) -> Iterator[ShardedWarehouse]:
    config = clever_sandbox.SandboxConfig(
        districts=6, users_per_district=80, seed=37, initial_events=4
    )
    with sandbox_pipeline(tmp_path_factory, "shards", config) as run:
        # Every shard of 2 and of 3 holds a district, or the test would prove little.
        assert {shard_of(d, 2) for d in run.server.district_ids} == {1, 2}
        assert {shard_of(d, 3) for d in run.server.district_ids} == {1, 2, 3}
        yield ShardedWarehouse(server=run.server, database=run.database, env=run.env)


def delete_a_student_in_each_district(server: Any, nth: int) -> None:
    for district in server.district_ids:
        students = [u for u in server.records("users", district) if "student" in u["roles"]]
        server.apply_changes([{"op": "delete", "id": students[nth]["id"]}])


def test_each_shard_takes_its_districts_and_dbt_builds_them_all(warehouse):
    for index in (1, 2):
        output = warehouse.extract_load(index, 2)
        held = [d for d in warehouse.server.district_ids if shard_of(d, 2) == index]
        found = len(warehouse.server.district_ids)
        assert f"Shard {index}/2 (district_shard): {len(held)} of the {found} district(s)" in output
        assert set(warehouse.bookmarks(index, 2)) == set(held)

    warehouse.build()

    assert_marts_equal_sandbox(warehouse.database, warehouse.server)


def test_each_shard_reads_its_districts_events(warehouse):
    warehouse.server.random_changes(n=30, seed=5)
    for index in (1, 2):
        output = warehouse.extract_load(index, 2)
        held = [d for d in warehouse.server.district_ids if shard_of(d, 2) == index]
        assert output.count("incremental: events after the bookmark") == len(held)
        assert "full snapshot" not in output

    warehouse.build()

    assert_marts_equal_sandbox(warehouse.database, warehouse.server)


def test_a_failing_shard_moves_no_other_shards_state(warehouse):
    server = warehouse.server
    failing = next(d for d in server.district_ids if shard_of(d, 2) == 1)
    before = {index: warehouse.bookmarks(index, 2) for index in (1, 2)}
    failing_before = expected_marts(server, [failing])
    delete_a_student_in_each_district(server, 3)
    # Every request after the failing district's bookmark is refused, as for a revoked token.
    server.add_fault(
        kind="status", status=401, path=f"starting_after={before[1][failing]}", times=None
    )
    try:
        failed = warehouse.extract_load(1, 2, check=False)
    finally:
        server.clear_faults()
    assert "HTTP 401" in failed
    assert warehouse.bookmarks(1, 2)[failing] == before[1][failing]
    warehouse.extract_load(2, 2)
    after = warehouse.bookmarks(2, 2)
    assert all(after[d] != before[2][d] for d in after)  # the other shard moved on

    warehouse.build()

    expected = expected_marts(server, [d for d in server.district_ids if d != failing])
    for mart, rows in failing_before.items():
        expected[mart] |= rows
    assert_marts_equal_sandbox(warehouse.database, server, expected)
    # The failed shard catches up on its next run.
    warehouse.extract_load(1, 2)
    warehouse.build()
    assert_marts_equal_sandbox(warehouse.database, server)


def test_resharding_loses_and_doubles_nothing(warehouse):
    server = warehouse.server
    delete_a_student_in_each_district(server, 4)
    for index in (1, 2, 3):
        output = warehouse.extract_load(index, 3)
        # Three new state ids: every district starts over from a snapshot in its new shard.
        held = [d for d in server.district_ids if shard_of(d, 3) == index]
        assert output.count("full snapshot (first sync") == len(held)

    warehouse.build()

    assert_marts_equal_sandbox(warehouse.database, server)
