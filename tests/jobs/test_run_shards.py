"""scripts/run_shards.py without Meltano: its refusals of bad input, the environment each shard
runs with, and how it reads and reports the shards' runs (tests/warehouse/test_postgres_shards.py
runs it for real)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "run_shards.py"
sys.path.insert(0, str(SCRIPT.parent))

import run_shards  # noqa: E402
import sync  # noqa: E402

DISTRICT = "6681f186000000000000008b"
CAUSE = "GET /v3.1/events?limit=1 failed with HTTP 401. Clever rejected the bearer token."


def clean_env(**overrides: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CLEVER_POSTGRES_", "PG", "MELTANO_", "GITHUB_"))
    }
    return env | overrides


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("args", "env", "said"),
    [
        (["--shards", "4", "--only", "5"], {}, "--only 5 is not a shard of 4 (1 to 4)"),
        (["--shards", "4", "--only", "0"], {}, "--only 0 is not a shard of 4"),
        (["--shards", "0"], {}, "--shards must be at least 1, not 0"),
        (["--shards", "two"], {}, "argument --shards: invalid int value: 'two'"),
        (["--only", "1"], {}, "the following arguments are required: --shards"),
        (["--shards", "2", "--dbt-only", "--only", "1"], {}, "--dbt-only runs no shard"),
        (["--shards", "2", "--dbt-only", "--skip-dbt"], {}, "--dbt-only runs no shard"),
        (["--shards", "2"], {}, "CLEVER_POSTGRES_HOST is not set"),
        (["--shards", "2"], {"CLEVER_POSTGRES_HOST": ""}, "CLEVER_POSTGRES_HOST is not set"),
        (
            ["--shards", "2"],
            {"CLEVER_POSTGRES_HOST": "127.0.0.1", "CLEVER_POSTGRES_PORT": "54x"},
            "CLEVER_POSTGRES_PORT is '54x': set it to a port number",
        ),
        (
            ["--shards", "2", "--only", "1"],
            {
                "CLEVER_POSTGRES_HOST": "127.0.0.1",
                "CLEVER_POSTGRES_PORT": "{free_port}",
                # Past the check that the plugins are installed, which a fresh clone's tests
                # reach before the warehouse tests install them.
                "MELTANO_SYS_DIR_ROOT": "/nonexistent",
            },
            "cannot connect to PostgreSQL as clever@127.0.0.1:{free_port}/clever: ",
        ),
    ],
)
def test_bad_input_is_one_line_before_anything_runs(
    tmp_path: Path, args: list[str], env: dict[str, str], said: str
) -> None:
    port = str(free_port())  # nothing listens on it
    env = {key: value.replace("{free_port}", port) for key, value in env.items()}
    work_dir = tmp_path / "work"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *args, "--work-dir", str(work_dir)],
        env=clean_env(CLEVER_POSTGRES_PASSWORD="not-a-real-password-1234", **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("run_shards.py: ")
    assert said.replace("{free_port}", port) in line
    assert "not-a-real-password" not in line
    assert not work_dir.exists()


def test_the_warehouse_comes_from_the_loaders_variables_with_its_defaults() -> None:
    warehouse = run_shards.Warehouse.from_env(
        {"CLEVER_POSTGRES_HOST": "db.example.org", "CLEVER_POSTGRES_PASSWORD": "pw-0123456789"}
    )
    assert str(warehouse) == "clever@db.example.org:5432/clever"
    assert "pw-0123456789" not in repr(warehouse)
    # No password in the system database's URI: libpq reads PGPASSWORD.
    assert warehouse.meltano_uri == (
        "postgresql+psycopg://clever@db.example.org:5432/clever?options=-csearch_path%3Dmeltano"
    )


def test_each_shard_runs_with_its_own_run_folder_and_the_shared_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed = tmp_path / "installed"
    for kind in run_shards.PLUGIN_KINDS:
        (installed / kind).mkdir(parents=True)
    for key in ("MELTANO_DATABASE_URI", "MELTANO_STATE_BACKEND_URI", "DBT_TARGET_PATH"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("MELTANO_SYS_DIR_ROOT", str(installed))
    monkeypatch.setenv("CLEVER_POSTGRES_HOST", "db.example.org")
    monkeypatch.setenv("CLEVER_POSTGRES_PORT", "")  # an undefined secret in GitHub Actions
    monkeypatch.setenv("CLEVER_POSTGRES_PASSWORD", "pw-0123456789")
    monkeypatch.setenv("TAP_CLEVER_BATCH_CONFIG", "{}")
    base = run_shards.base_env()
    assert "CLEVER_POSTGRES_PORT" not in base
    assert "TAP_CLEVER_BATCH_CONFIG" not in base
    assert base["MELTANO_STATE_BACKEND_URI"] == "systemdb"
    warehouse = run_shards.Warehouse.from_env(base)

    envs = [
        run_shards.meltano_env_for(base, warehouse, run_shards.shard_dir(tmp_path, i, 2))
        for i in (1, 2)
    ]

    system_dirs = {Path(env["MELTANO_SYS_DIR_ROOT"]) for env in envs}
    assert system_dirs == {tmp_path / f"shard-{i}-of-2" / "meltano" for i in (1, 2)}
    for system_dir in system_dirs:
        for kind in run_shards.PLUGIN_KINDS:
            assert (system_dir / kind).resolve() == installed / kind
        assert not (system_dir / "run").is_symlink()
    for env in envs:
        assert env["MELTANO_DATABASE_URI"] == warehouse.meltano_uri
        assert env["PGPASSWORD"] == "pw-0123456789"
    # Made again (the next run): the links stay.
    run_shards.meltano_env_for(base, warehouse, run_shards.shard_dir(tmp_path, 1, 2))


def test_a_callers_system_database_is_kept(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("MELTANO_DATABASE_URI", "sqlite:////somewhere/meltano.db")
    monkeypatch.setenv("MELTANO_STATE_BACKEND_URI", "s3://bucket/state")
    monkeypatch.setenv("MELTANO_SYS_DIR_ROOT", str(tmp_path / "installed"))
    monkeypatch.delenv("PGPASSWORD", raising=False)
    base = run_shards.base_env()
    warehouse = run_shards.Warehouse("h", 5432, "u", "d", "pw-0123456789")
    env = run_shards.meltano_env_for(base, warehouse, tmp_path / "shard-1-of-1")
    assert env["MELTANO_DATABASE_URI"] == "sqlite:////somewhere/meltano.db"
    assert env["MELTANO_STATE_BACKEND_URI"] == "s3://bucket/state"
    assert "PGPASSWORD" not in env


def meltano_line(plugin: str, text: str) -> str:
    """A line of Meltano's JSON log, as a block's plugin writes it."""
    return json.dumps({"stdio": "stderr", "string_id": plugin, "name": plugin, "event": text})


def test_a_shards_districts_are_read_from_the_taps_line(tmp_path: Path) -> None:
    log = tmp_path / "extract-load.jsonl"
    log.write_text(
        "\n".join(
            [
                json.dumps({"event": "Environment 'postgres' is active", "level": "info"}),
                meltano_line(
                    "tap-clever",
                    "2026-01-01 00:00:00,000 | INFO | tap-clever | "
                    "Shard 2/4 (district_shard): 3 of the 11 district(s) found.",
                ),
            ]
        )
    )
    assert run_shards.districts_in_log(log) == (3, 11)
    assert run_shards.districts_in_log(tmp_path / "missing.jsonl") == (None, None)


@pytest.mark.parametrize(
    ("plugin", "text", "lost"),
    [
        ("target-postgres", 'psycopg.errors.DuplicateTable: relation "users" already exists', True),
        (
            "target-postgres",
            "sqlalchemy.exc.IntegrityError: (psycopg.errors.UniqueViolation) duplicate key value"
            ' violates unique constraint "pg_type_typname_nsp_index"',
            True,
        ),
        ("target-postgres", 'column "email" of relation "users" already exists', True),
        ("target-postgres", 'relation "users" does not exist', False),
        ("tap-clever", 'relation "users" already exists', False),
        ("tap-clever", CAUSE, False),
    ],
)
def test_a_lost_table_creation_race_is_recognised(
    tmp_path: Path, plugin: str, text: str, lost: bool
) -> None:
    log = tmp_path / "extract-load.jsonl"
    log.write_text(meltano_line(plugin, text) + "\n")
    assert run_shards.lost_creation_race(log) is lost


def failed_shard() -> run_shards.ShardResult:
    failure = {
        "plugin": "tap-clever",
        "district": DISTRICT,
        "district_name": "Example Valley",
        "stream": "events",
        "cause": CAUSE,
    }
    return run_shards.ShardResult(1, 2, sync.StepOutcome("shard 1/2", 1, 12.5, [failure]), 3, 6)


def test_the_report_names_each_failed_shard_and_its_error_lines() -> None:
    ok = run_shards.ShardResult(2, 2, sync.StepOutcome("shard 2/2", 0, 11.0), 3, 6)
    dbt = sync.StepOutcome("dbt build", 0, 30.2)

    lines = run_shards.report_lines([failed_shard(), ok], dbt, dbt_ran=True)

    assert lines == [
        "shard 1/2: failed (exit code 1), 12.5 s, 3 of 6 districts",
        f"    district 'Example Valley' ({DISTRICT}), stream events: {CAUSE}",
        "shard 2/2: ok, 11.0 s, 3 of 6 districts",
        "dbt build: ok, 30.2 s",
        "FAILED: shard 1/2",
    ]


def test_a_failed_dbt_build_fails_the_run_and_a_skipped_one_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    ok = run_shards.ShardResult(1, 1, sync.StepOutcome("shard 1/1", 0, 5.0), 2, 2)
    dbt_error = {"plugin": "dbt-postgres", "cause": "Database Error in model dim_users"}
    failed_dbt = sync.StepOutcome("dbt build", 1, 9.0, [dbt_error])
    assert run_shards.report([ok], failed_dbt, dbt_ran=True) == 1
    assert run_shards.report_lines([ok], failed_dbt, dbt_ran=True)[-3:] == [
        "dbt build: failed (exit code 1), 9.0 s",
        "    dbt-postgres: Database Error in model dim_users",
        "FAILED: dbt build",
    ]
    # No raw table yet (every shard failed on a new warehouse): nothing for dbt to build.
    assert run_shards.report([], None, dbt_ran=True) == 0
    assert run_shards.report_lines([], None, dbt_ran=True) == [
        "dbt build: skipped, no raw table in the warehouse yet",
        "all ok",
    ]


def test_the_outcome_a_shard_leaves_is_read_back(tmp_path: Path) -> None:
    path = tmp_path / "outcome.json"
    path.write_text(json.dumps(asdict(failed_shard())))
    assert run_shards.read_shard_result(path) == failed_shard()
    assert run_shards.read_shard_result(tmp_path / "none.json") is None


def test_the_step_summary_has_a_row_a_shard_and_each_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert run_shards.report([failed_shard()], None, dbt_ran=False) == 1
    markdown = summary.read_text()
    assert markdown.startswith("## Clever sync into PostgreSQL: failed\n")
    assert "| shard 1/2 | failed (1) | 12.5 | 3 of 6 |" in markdown
    assert f"| shard 1/2 | district 'Example Valley' ({DISTRICT}), stream events: " in markdown
    assert "dbt build" not in markdown


def test_dbts_lines_are_read_as_its_own_and_its_errors_named() -> None:
    """A utility run as a command (dbt) has a `name` in Meltano's JSON log, not a `string_id`
    (scripts/sync.py's readable, changed for dbt-postgres: dbt-duckdb's errors were missed too)."""
    dbt_line = {
        "stdio": "stderr",
        "cmd_type": "command",
        "name": "dbt-postgres",
        "level": "info",
    }
    lines = [
        "\x1b[0m06:20:18  \x1b[31mCompleted with 1 error, 0 partial successes, and 0 warnings:",
        "\x1b[0m06:20:18  \x1b[31mFailure in model dim_users (models/marts/dim_users.sql)\x1b[0m",
        "\x1b[0m06:20:18  Done. PASS=65 WARN=0 ERROR=1 SKIP=0 NO-OP=0 TOTAL=66",
    ]
    plugin_lines: dict[str, list[str]] = {}
    for text in lines:
        plugin, read, level = sync.readable(json.dumps({**dbt_line, "event": text}))
        assert (plugin, read, level) == ("dbt-postgres", text, "info")
        plugin_lines.setdefault(plugin, []).append(read)
    assert sync.failures_of("dbt build", plugin_lines) == [
        {
            "plugin": "dbt-postgres",
            "cause": "Failure in model dim_users (models/marts/dim_users.sql)",
        }
    ]
