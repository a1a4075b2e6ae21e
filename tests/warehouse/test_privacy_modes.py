"""`pii_mode` through the real pipeline: no personal value of the sandbox reaches the warehouse.

For `drop` and for `hash`: `meltano run tap-clever target-duckdb dbt-duckdb:build` against a
small sandbox (a full snapshot), changes in the sandbox that touch personal fields (they arrive
as events, with the old values in `previous_attributes`), and a second run. Then every column
of every table and view of the DuckDB file (raw, staging, intermediate, marts; nested JSON and
structs included) and the runs' logs are scanned for every name part, email, dob, phone,
username and address (and, in hash mode, SIS id) the sandbox held at any point: none may be
there. The marts must build without a new warning, and keys still join. The control: the same
scan on a warehouse loaded with `pii_mode` keep finds every kind of value.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.privacy_scan import leaks, personal_values, sandbox_records, strings_in

from . import dbt_output
from .conftest import pipeline_env, run_meltano

duckdb = pytest.importorskip("duckdb", reason="duckdb is not installed: pip install -e '.[dev]'")
clever_sandbox = pytest.importorskip("clever_sandbox")

PIPELINE = ("--environment=sandbox", "run", "tap-clever", "target-duckdb", "dbt-duckdb:build")
SALT = "warehouse-test-salt-5b1f0c7e"


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    config = clever_sandbox.SandboxConfig(districts=2, users_per_district=150, seed=29)
    with clever_sandbox.SandboxServer(config) as sandbox:
        yield sandbox


@dataclass
class Warehouse:
    database: Path
    env: dict[str, str]
    logs: str = ""

    def run(self) -> str:
        result = run_meltano(*PIPELINE, env=self.env)
        output = result.stdout + result.stderr
        # The marts build in every mode, without a warning the sandbox's data does not cause.
        dbt_output.assert_build(output, {})
        self.logs += output
        return output

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.database), read_only=True) as connection:
            return connection.execute(sql, params or []).fetchall()

    def texts(self) -> set[str]:
        """Every text of every column of every table and view, nested values included: each
        row as JSON (structs, lists and JSON columns stay nested), then its every string."""
        tables = self.query(
            "select table_schema, table_name from information_schema.tables"
            " where table_catalog = current_database()"
            " and table_schema not in ('information_schema', 'pg_catalog')"
        )
        assert {schema for schema, _ in tables} >= {"raw_clever", "staging", "analytics"}
        found: set[str] = set()
        for schema, table in tables:
            # Names from information_schema, not from input.
            sql = f'select to_json(t)::varchar from "{schema}"."{table}" t'  # noqa: S608
            for (row,) in self.query(sql):
                found.update(strings_in(row))
        return found


def warehouse(tmp_path: Path, server: Any, mode: str) -> Warehouse:
    database = tmp_path / "clever.duckdb"
    settings = {"TAP_CLEVER_PII_MODE": mode}
    if mode == "hash":
        settings["TAP_CLEVER_PII_SALT"] = SALT
    env = pipeline_env(
        tmp_path,
        database,
        server.base_url,
        server.district_tokens,
        # Records checked against their SCHEMA: a hash or a null must fit it.
        TARGET_DUCKDB_VALIDATE_RECORDS="true",
        **settings,
    )
    return Warehouse(database=database, env=env)


def change_personal_fields(server: Any, seed: int) -> None:
    """Changes whose events carry personal values, old ones in `previous_attributes`."""
    district = server.district_ids[0]
    users = server.records("users", district)
    student = next(u for u in users if "student" in u["roles"] and u.get("email"))
    contact = next(u for u in users if "contact" in u["roles"])
    teacher = next(u for u in users if "teacher" in u["roles"])
    school = server.records("schools", district)[0]
    server.apply_changes(
        [
            {
                "op": "update",
                "id": student["id"],
                "set": {
                    "email": f"renamed.{seed}@example.org",
                    "name.first": f"Renamed{seed}",
                    "roles.student.dob": f"2/{seed % 28 + 1}/2012",
                },
            },
            {"op": "update", "id": contact["id"], "set": {"roles.contact.phone": "(555) 077-1234"}},
            {
                "op": "update",
                "id": school["id"],
                "set": {"principal.email": f"p{seed}@example.org"},
            },
            {"op": "create", "type": "users", "role": "student", "district": district},
            {"op": "create", "type": "users", "role": "contact", "district": district},
            {"op": "delete", "id": teacher["id"]},
        ]
    )
    server.random_changes(n=20, seed=seed)


def hashed(value: str) -> str:
    return hmac.new(SALT.encode(), value.encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize(("mode", "seed"), [("drop", 3), ("hash", 4)])
def test_no_personal_value_reaches_the_warehouse(
    meltano_plugins, tmp_path: Path, server: Any, mode: str, seed: int
) -> None:
    wh = warehouse(tmp_path, server, mode)
    held = sandbox_records(server)
    wh.run()
    change_personal_fields(server, seed)
    held += sandbox_records(server)
    second = wh.run()
    assert "incremental: events after the bookmark" in second

    # Identifiers are hashed in hash mode, so they must not be found either; drop keeps them.
    values = personal_values(held, identifiers=mode == "hash")
    assert len(values) > 400
    texts = wh.texts()
    found = leaks(texts, "\n".join(texts) + wh.logs, values)
    assert found == [], f"{len(found)} personal values in the warehouse, e.g. {found[:5]}"

    # The marts built, personal columns null or hashed, and keys still join.
    students = {
        u["id"]: u["roles"]["student"] for u in server.records("users") if "student" in u["roles"]
    }
    rows = wh.query("select student_id, sis_id, email, dob from analytics.dim_students")
    assert {row[0] for row in rows} == set(students)
    assert all(dob is None for _, _, _, dob in rows)
    for student_id, sis_id, email, _ in rows:
        sent = students[student_id].get("sis_id")
        # hash: a district matches its own SIS ids by hashing them with the same salt.
        assert sis_id == (hashed(sent) if mode == "hash" else sent)
        assert email is None or (mode == "hash" and len(email) == 64)
    orphans = wh.query(
        "select count(*) from analytics.fct_section_students f"
        " left join analytics.dim_students s using (student_id) where s.student_id is null"
    )
    assert orphans == [(0,)]
    assert wh.query("select count(*) from analytics.fct_section_students")[0][0] > 0
    if mode == "hash":
        # A first name held in both districts has one hash in both.
        shared = wh.query(
            "select first_name from analytics.dim_users where first_name is not null"
            " group by first_name"
            " having count(distinct district_id) = 2"
        )
        assert shared
        assert all(len(name) == 64 for (name,) in shared)


def test_the_scan_finds_personal_data_of_a_warehouse_that_keeps_it(
    meltano_plugins, tmp_path: Path, server: Any
) -> None:
    """The control: the same scan, on a warehouse loaded with pii_mode keep, finds each kind."""
    wh = warehouse(tmp_path, server, "keep")
    wh.run()

    values = personal_values(sandbox_records(server), identifiers=True)
    texts = wh.texts()
    found = set(leaks(texts, "\n".join(texts), values))
    users = server.records("users")
    students = [u["roles"]["student"] for u in users if "student" in u["roles"]]
    contacts = [u["roles"]["contact"] for u in users if "contact" in u["roles"]]
    for kind, sample in [
        ("email", {u.get("email") for u in users}),
        ("first name", {u["name"].get("first") for u in users}),
        ("last name", {u["name"].get("last") for u in users}),
        ("dob", {s.get("dob") for s in students}),
        ("phone", {c.get("phone") for c in contacts}),
        ("sis_id", {s.get("sis_id") for s in students}),
    ]:
        expected = sample & values
        assert expected, kind
        assert expected <= found, (kind, sorted(expected - found)[:5])


def test_a_deselected_field_stays_out_of_events_too(
    meltano_plugins, tmp_path: Path, server: Any
) -> None:
    """`!users.roles.student.dob` in Meltano's select: no student's dob in any table, neither
    from the users stream nor from the copies of users that events carry."""
    wh = warehouse(tmp_path, server, "keep")
    wh.env["TAP_CLEVER__SELECT"] = json.dumps(["*.*", "!users.roles.student.dob"])
    wh.run()
    district = server.district_ids[0]
    students = [u for u in server.records("users", district) if "student" in u["roles"]]
    server.apply_changes(
        [
            {"op": "update", "id": students[0]["id"], "set": {"roles.student.dob": "3/4/2013"}},
            {"op": "set_grade", "user": students[1]["id"], "grade": "10"},
        ]
    )
    second = wh.run()
    assert "incremental: events after the bookmark" in second

    events = wh.query(
        "select count(*) from raw_clever.events where type = 'users.updated'"
        " and json_extract(data, '$.object.roles.student') is not null"
    )
    assert events[0][0] >= 2  # events embedding a student, which would carry the dob
    dobs = {
        s.get("dob")
        for kind, record in sandbox_records(server)
        if kind == "users" and isinstance(s := (record.get("roles") or {}).get("student"), dict)
    } - {None, ""}
    assert "3/4/2013" in dobs
    texts = wh.texts()
    assert dobs & texts == set()
    assert wh.query("select count(*) from analytics.dim_students where dob is not null") == [(0,)]
