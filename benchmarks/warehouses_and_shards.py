"""PostgreSQL against DuckDB, and one shard against several: the PostgreSQL warehouse's figures,
each measured against the run it is compared with, on the same sandbox, in the same session.

    .venv/bin/python benchmarks/warehouses_and_shards.py --scenario postgres-vs-duckdb [--repeat 3]
    .venv/bin/python benchmarks/warehouses_and_shards.py --scenario shards [--repeat 3]
    .venv/bin/python benchmarks/warehouses_and_shards.py --scenario all --repeat 3 --with-dbt

`postgres-vs-duckdb`: the same sandbox loaded by `meltano --environment=sandbox run
--full-refresh tap-clever target-duckdb` and by `meltano --environment=postgres run
--full-refresh tap-clever target-postgres`, with target-postgres's `use_copy` on and off; the
PostgreSQL walls as ratios of the DuckDB run's. `shards`: 200 small districts behind 100 ms of
latency loaded into PostgreSQL by `scripts/run_shards.py --shards 1` and `--shards 4` (and one
shard with `max_parallel_districts` 64, the 4 shards' concurrency), as ratios of the one shard.

Each scenario starts its own pregenerated `clever-sandbox serve` on a free port and a throwaway
PostgreSQL server (tests/postgres_server.py: fsync off), checks the rows of every raw table (and
for the shards, every district's users) against the sandbox's counts, prints a table and saves
`benchmarks/results/<scenario>.json` with the machine, the versions and the commit. The pipeline
is driven only through its command lines. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from benchlib import (
    BIN,
    RECORD_TYPES,
    RESULTS_DIR,
    ROOT,
    SandboxError,
    SandboxProcess,
    best_and_median,
    count_mismatches,
    mib,
    packages_of,
    print_table,
    run_record,
    running_sandbox,
    sandbox_argv,
    save_results,
    tail_lines,
)
from warehouse import (
    _DBT_DONE,
    _DBT_FINISHED,
    PACKAGES,
    RAW_SCHEMA,
    Context,
    StepFailed,
    fresh,
    run_step,
    table_counts,
)

# The throwaway server of the tests (Debian's binaries, scripts/install_postgres.sh).
sys.path.insert(0, str(ROOT))
from tests.postgres_server import PostgresServer, running_postgres

#: Variables of the caller that would point the pipeline elsewhere: dropped.
CALLER_PREFIXES = (
    "TAP_CLEVER_",
    "TARGET_DUCKDB_",
    "TARGET_POSTGRES_",
    "DBT_",
    "CLEVER_DUCKDB_",
    "CLEVER_POSTGRES_",
    "MELTANO_",
    "PG",
)
#: The tap's own default of `max_parallel_districts` (meltano.yml, README's settings table).
TAP_DEFAULT_PARALLEL = 16
DUCKDB_LOAD = ("run", "--full-refresh", "tap-clever", "target-duckdb")
POSTGRES_LOAD = ("run", "--full-refresh", "tap-clever", "target-postgres")
#: The database the PostgreSQL runs load (postgres-vs-duckdb makes it again before each run).
PG_DATABASE = "bench"


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    districts: int
    users: int
    latency_ms: float


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            name="postgres-vs-duckdb",
            summary="2 districts of 28,750 users, every snapshot stream: meltano run into DuckDB "
            "vs into PostgreSQL with COPY and with INSERTs (ratios to DuckDB's)",
            districts=2,
            users=28_750,
            latency_ms=0.0,
        ),
        Scenario(
            name="shards",
            summary="200 districts of 75 users behind 100 ms latency into PostgreSQL: "
            "scripts/run_shards.py --shards 1 vs --shards 4 (ratios to 1 shard)",
            districts=200,
            users=75,
            latency_ms=100.0,
        ),
    )
}


def _say(text: str) -> None:
    print(text, flush=True)


# --- environments --------------------------------------------------------------------------------


def caller_env() -> dict[str, str]:
    """The caller's environment without its pipeline settings, Meltano's noise off."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(CALLER_PREFIXES)}
    env.update(
        MELTANO_SEND_ANONYMOUS_USAGE_STATS="false",
        MELTANO_CLI_DISABLE_VERSION_CHECK="true",
        NO_COLOR="1",
        DBT_USE_COLORS="false",
    )
    return env


def private_system_dir(folder: Path, project: Path) -> Path:
    """A MELTANO_SYS_DIR_ROOT of its own: Meltano writes each plugin's config and state file in
    `<it>/run/<plugin>/` (and deletes them at exit), so two runs sharing it (concurrent shards,
    a developer's run) would delete each other's files. The plugins' venvs stay the project's."""
    folder.mkdir(parents=True, exist_ok=True)
    for kind in ("extractors", "loaders", "utilities"):
        link = folder / kind
        if not link.exists():
            link.symlink_to(project / ".meltano" / kind, target_is_directory=True)
    return folder


def meltano_db_env(workdir: Path, name: str) -> dict[str, str]:
    """Meltano's run records and state in `workdir` (never the project's .meltano/meltano.db)."""
    return {
        "MELTANO_DATABASE_URI": f"sqlite:///{workdir / f'meltano-{name}.db'}",
        "MELTANO_STATE_BACKEND_URI": (workdir / f"state-{name}").as_uri(),
    }


def clever_env(sandbox: SandboxProcess, *, client_credentials: bool) -> dict[str, str]:
    """The sandbox as Clever: its district tokens, or its client id and secret (the tap then
    finds the districts through /oauth/tokens, one request, rather than one a token)."""
    env = {"TAP_CLEVER_API_URL": sandbox.base_url, "TAP_CLEVER_OAUTH_URL": sandbox.base_url}
    if client_credentials:
        env["TAP_CLEVER_CLIENT_ID"] = str(sandbox.info["client_id"])
        env["TAP_CLEVER_CLIENT_SECRET"] = str(sandbox.info["client_secret"])
    else:
        env["TAP_CLEVER_DISTRICT_TOKENS"] = json.dumps(sandbox.tokens)
    return env


def duckdb_env(ctx: Context, sandbox: SandboxProcess, database: Path) -> dict[str, str]:
    """`--environment=sandbox` into the DuckDB file `database`: the tap's batch files in a
    private folder, Meltano's run folders private."""
    batch_config = {
        "encoding": {"format": "jsonl", "compression": "none"},
        "storage": {"root": (ctx.workdir / "batches").as_uri()},
        "batch_size": 50000,
    }
    return {
        **caller_env(),
        **meltano_db_env(ctx.workdir, "duckdb"),
        **clever_env(sandbox, client_credentials=False),
        "MELTANO_SYS_DIR_ROOT": str(private_system_dir(ctx.workdir / "sys-duckdb", ctx.project)),
        "TAP_CLEVER_BATCH_CONFIG": json.dumps(batch_config),
        "CLEVER_DUCKDB_PATH": str(database),
        "DBT_TARGET_PATH": str(ctx.workdir / "dbt-target-duckdb"),
        "DBT_LOG_PATH": str(ctx.workdir / "dbt-logs-duckdb"),
    }


def postgres_env(
    ctx: Context,
    sandbox: SandboxProcess,
    server: PostgresServer,
    *,
    client_credentials: bool = False,
    system_dir: bool = True,
) -> dict[str, str]:
    """`--environment=postgres` into `server`'s database. No TAP_CLEVER_BATCH_CONFIG: that
    environment turns the tap's batch files off on purpose (target-postgres loads RECORDs)."""
    env = {
        **caller_env(),
        **meltano_db_env(ctx.workdir, "postgres"),
        **clever_env(sandbox, client_credentials=client_credentials),
        **server.pipeline_env(),
        "DBT_TARGET_PATH": str(ctx.workdir / "dbt-target-postgres"),
        "DBT_LOG_PATH": str(ctx.workdir / "dbt-logs-postgres"),
    }
    if system_dir:
        env["MELTANO_SYS_DIR_ROOT"] = str(
            private_system_dir(ctx.workdir / "sys-postgres", ctx.project)
        )
    return env


def warm_up_meltano(ctx: Context, env: dict[str, str], environment: str) -> None:
    """Create Meltano's system database (its migrations take seconds) before anything is timed,
    as in a project that has run before."""
    subprocess.run(
        [str(BIN / "meltano"), f"--environment={environment}", "state", "list"],
        cwd=ctx.project,
        env=env,
        capture_output=True,
        check=True,
    )


def meltano(
    ctx: Context, name: str, environment: str, *args: str, env: dict[str, str]
) -> dict[str, Any]:
    return run_step(
        ctx, name, [str(BIN / "meltano"), f"--environment={environment}", *args], env=env
    )


def tolerated(
    ctx: Context, step: Callable[..., dict[str, Any]], *args: Any, **kwargs: Any
) -> dict[str, Any]:
    """`step(ctx, *args, **kwargs)`, whose failure is reported, not fatal (dbt on PostgreSQL,
    whose models are being ported)."""
    ok = ctx.ok
    try:
        result = step(ctx, *args, **kwargs)
    except StepFailed:
        result = ctx.measurements[-1]
        result["tolerated_failure"] = True
        _say("    (failure tolerated: reported, not counted as a failed check)")
    ctx.ok = ok
    return result


def dbt_step(
    ctx: Context, name: str, environment: str, plugin: str, *args: str, env: dict[str, str]
) -> dict[str, Any]:
    """`meltano invoke <plugin> <args>` with dbt's tally and own time read from its output."""
    result = meltano(ctx, name, environment, "invoke", plugin, *args, env=env)
    text = "\n".join("\n".join(tail_lines(path, 400)) for path in result["logs"])
    done = _DBT_DONE.findall(text)
    if done:
        passed, warned, errors, skipped = (int(n) for n in done[-1])
        # dbt exits non-zero on an error: run_step has raised StepFailed by then.
        result["dbt"] = {"pass": passed, "warn": warned, "error": errors, "skip": skipped}
    finished = _DBT_FINISHED.findall(text)
    if finished:
        result["dbt_reported_seconds"] = float(finished[-1])
    return result


# --- PostgreSQL: fresh databases, row counts --------------------------------------------------


def fresh_database(server: PostgresServer) -> PostgresServer:
    return server.create_database(PG_DATABASE)


def pg_rows(server: PostgresServer, sql: str) -> list[list[str]]:
    out = server.psql(sql).stdout
    return [line.split("|") for line in out.splitlines() if line.strip()]


def pg_table_counts(server: PostgresServer, tables: Sequence[str]) -> dict[str, int]:
    """Rows of each raw table (-1: no such table)."""
    existing = {
        row[0]
        for row in pg_rows(
            server,
            "select table_name from information_schema.tables where table_schema = 'raw_clever'",
        )
    }
    counts = dict.fromkeys(tables, -1)
    present = [t for t in tables if t in existing]
    if present:
        # Our own stream names, quoted.
        selects = [f"select '{t}', count(*) from raw_clever.\"{t}\"" for t in present]  # noqa: S608
        sql = " union all ".join(selects)
        counts.update({name: int(n) for name, n in pg_rows(server, sql)})
    return counts


def pg_users_by_district(server: PostgresServer) -> dict[str, int]:
    return {
        district: int(n)
        for district, n in pg_rows(
            server, "select district, count(*) from raw_clever.users group by district"
        )
    }


def check_pg(
    ctx: Context,
    result: dict[str, Any],
    server: PostgresServer,
    expected: dict[str, int],
    users_by_district: dict[str, int] | None = None,
) -> None:
    """Every raw table holds the sandbox's rows; with `users_by_district`, every district's
    users too (a shard that skipped or doubled a district shows here)."""
    try:
        counts: dict[str, int] | None = pg_table_counts(server, list(expected))
    except subprocess.CalledProcessError as exc:
        counts = None
        ctx.check(False, f"{result['run']}: cannot count rows: {exc.stderr}")
    mismatches = count_mismatches(expected, counts)
    result["counts"] = counts
    result["count_mismatches"] = mismatches
    ctx.check(not mismatches, f"{result['run']}: rows differ from the sandbox: {mismatches}")
    if users_by_district is not None and counts is not None:
        got = pg_users_by_district(server) if counts.get("users", -1) >= 0 else {}
        wrong = {
            district: {"expected": n, "got": got.get(district, 0)}
            for district, n in users_by_district.items()
            if got.get(district, 0) != n
        }
        wrong.update(
            {d: {"expected": 0, "got": n} for d, n in got.items() if d not in users_by_district}
        )
        result["districts_loaded"] = sum(1 for d in users_by_district if got.get(d))
        result["district_user_mismatches"] = wrong
        ctx.check(
            not wrong, f"{result['run']}: {len(wrong)} districts' users differ from the sandbox"
        )


def check_duckdb(
    ctx: Context, result: dict[str, Any], database: Path, expected: dict[str, int]
) -> None:
    counts = table_counts(database, RAW_SCHEMA, list(expected))
    mismatches = count_mismatches(expected, counts)
    result["counts"] = counts
    result["count_mismatches"] = mismatches
    ctx.check(not mismatches, f"{result['run']}: rows differ from the sandbox: {mismatches}")


def server_description(server: PostgresServer) -> dict[str, Any]:
    rows = pg_rows(
        server,
        "select name, setting from pg_settings where name in ('fsync', 'synchronous_commit', "
        "'full_page_writes', 'wal_level', 'shared_buffers', 'max_connections')",
    )
    return {
        "version": server.psql("select version()").stdout.strip(),
        "settings": dict(rows),
        "note": "a throwaway cluster (tests/postgres_server.py) with fsync, synchronous_commit "
        "and full_page_writes off: a real server's commits are slower",
    }


# --- the sandbox ---------------------------------------------------------------------------------


@contextmanager
def sandbox_for(
    ctx: Context, scenario: Scenario
) -> Iterator[tuple[SandboxProcess, dict[str, int], dict[str, Any]]]:
    argv = sandbox_argv(
        districts=scenario.districts,
        users=scenario.users,
        seed=ctx.args.seed,
        latency_ms=scenario.latency_ms,
        pregenerate=True,
    )
    _say(f"Starting the sandbox: clever-sandbox serve {' '.join(argv)}")
    with running_sandbox(
        argv, ctx.workdir, log=ctx.workdir / "sandbox.log", timeout=ctx.args.sandbox_timeout
    ) as sandbox:
        counts = sandbox.expected_counts()
        expected = {name: counts[name] for name in RECORD_TYPES}
        total = sum(expected.values())
        _say(
            f"Sandbox ready in {sandbox.start_seconds:.1f} s: {len(sandbox.districts)} districts, "
            f"{total:,} records: " + ", ".join(f"{k} {v:,}" for k, v in expected.items())
        )
        info = {
            "argv": argv,
            "start_seconds": sandbox.start_seconds,
            "districts": len(sandbox.districts),
            "latency_ms": scenario.latency_ms,
            "expected_counts": expected,
            "records": total,
        }
        yield sandbox, expected, info


# --- scenario postgres-vs-duckdb ------------------------------------------------------------------

RUN_DUCKDB = "duckdb"
RUN_PG_COPY = "postgres use_copy=true"
RUN_PG_INSERT = "postgres use_copy=false"
DBT_DUCKDB = "dbt-duckdb build"
DBT_POSTGRES = "dbt-postgres build"


def postgres_vs_duckdb(ctx: Context, scenario: Scenario) -> dict[str, Any]:
    args = ctx.args
    results: dict[str, Any] = {}
    with (
        sandbox_for(ctx, scenario) as (sandbox, expected, info),
        running_postgres() as server,
    ):
        results["sandbox"] = info
        results["postgres_server"] = server_description(server)
        database = ctx.workdir / "warehouse.duckdb"
        duck_env = duckdb_env(ctx, sandbox, database)
        pg_env = postgres_env(ctx, sandbox, server.create_database(PG_DATABASE))
        warm_up_meltano(ctx, duck_env, "sandbox")
        warm_up_meltano(ctx, pg_env, "postgres")
        if args.with_dbt:
            _say("dbt parse on each warehouse (warm-up: dbt's partial-parse cache) ...")
            dbt_step(
                ctx, "dbt-duckdb parse (warm-up)", "sandbox", "dbt-duckdb", "parse", env=duck_env
            )
            tolerated(
                ctx,
                dbt_step,
                "dbt-postgres parse (warm-up)",
                "postgres",
                "dbt-postgres",
                "parse",
                env=pg_env,
            )

        def load_duckdb() -> dict[str, Any]:
            fresh(database)
            result = meltano(ctx, RUN_DUCKDB, "sandbox", *DUCKDB_LOAD, env=duck_env)
            check_duckdb(ctx, result, database, expected)
            return result

        def load_postgres(name: str, use_copy: bool) -> dict[str, Any]:
            db = fresh_database(server)
            env = {
                **pg_env,
                **db.pipeline_env(),
                "TARGET_POSTGRES_USE_COPY": "true" if use_copy else "false",
            }
            before = servers_cpu(server=db)
            result = meltano(ctx, name, "postgres", *POSTGRES_LOAD, env=env)
            add_servers_cpu(result, before, servers_cpu(server=db))
            check_pg(ctx, result, db, expected)
            return result

        runs: list[tuple[str, Callable[[], dict[str, Any]]]] = [
            (RUN_DUCKDB, load_duckdb),
            (RUN_PG_COPY, lambda: load_postgres(RUN_PG_COPY, use_copy=True)),
            (RUN_PG_INSERT, lambda: load_postgres(RUN_PG_INSERT, use_copy=False)),
        ]
        for n in range(1, args.repeat + 1):
            for name, run in runs:
                sandbox.reset_rate_limit()
                _say(f"[{n}/{args.repeat}] {name}: meltano run --full-refresh ...")
                result = run()
                result["repeat"] = n
                _say(f"    {result['wall_seconds']:.2f} s")
                if args.with_dbt and name == RUN_DUCKDB:
                    _say(f"[{n}/{args.repeat}] {DBT_DUCKDB} ...")
                    result = dbt_step(ctx, DBT_DUCKDB, "sandbox", "dbt-duckdb:build", env=duck_env)
                    result["repeat"] = n
                    _say(f"    {result['wall_seconds']:.2f} s")
                if args.with_dbt and name == RUN_PG_COPY:
                    # On the database the COPY run just loaded (the INSERT run makes a new one).
                    _say(f"[{n}/{args.repeat}] {DBT_POSTGRES} ...")
                    env = {**pg_env, **replace(server, database=PG_DATABASE).pipeline_env()}
                    before = servers_cpu(server=server)
                    result = tolerated(
                        ctx, dbt_step, DBT_POSTGRES, "postgres", "dbt-postgres:build", env=env
                    )
                    add_servers_cpu(result, before, servers_cpu(server=server))
                    result["repeat"] = n
                    _say(f"    {result['wall_seconds']:.2f} s (exit {result['exit_code']})")
    results["summary"] = _summarize_pg(ctx, info)
    return results


def _walls(ctx: Context, run: str, *, successful: bool = True) -> list[float]:
    return [
        m["wall_seconds"]
        for m in ctx.measurements
        if m["run"] == run and "repeat" in m and (m["exit_code"] == 0 or not successful)
    ]


def _stats(walls: Sequence[float]) -> dict[str, Any]:
    best, median = best_and_median(walls)
    return {"wall_best": best, "wall_median": median, "runs": len(walls)}


def _ratios(summary: dict[str, Any], run: str, reference: str, key: str) -> None:
    """summary[f"ratio_{key}_{best,median}"] = run's wall / reference's wall."""
    if run in summary and reference in summary:
        for stat in ("best", "median"):
            summary[f"ratio_{key}_{stat}"] = (
                summary[run][f"wall_{stat}"] / summary[reference][f"wall_{stat}"]
            )


def _summarize_pg(ctx: Context, info: dict[str, Any]) -> dict[str, Any]:
    summary: dict[str, Any] = {"records": info["records"]}
    for run in (RUN_DUCKDB, RUN_PG_COPY, RUN_PG_INSERT, DBT_DUCKDB, DBT_POSTGRES):
        walls = _walls(ctx, run)
        if walls:
            summary[run] = _stats(walls)
    _ratios(summary, RUN_PG_COPY, RUN_DUCKDB, "postgres_copy_over_duckdb")
    _ratios(summary, RUN_PG_INSERT, RUN_DUCKDB, "postgres_insert_over_duckdb")
    # > 1: COPY is faster than INSERTs.
    _ratios(summary, RUN_PG_INSERT, RUN_PG_COPY, "insert_over_copy")
    _ratios(summary, DBT_POSTGRES, DBT_DUCKDB, "dbt_postgres_over_dbt_duckdb")
    failed = [m for m in ctx.measurements if m["run"] == DBT_POSTGRES and m["exit_code"] != 0]
    if failed:
        summary["dbt_postgres_failed_runs"] = len(failed)
    summary["checks_passed"] = ctx.ok
    return summary


def _print_pg(ctx: Context, results: dict[str, Any]) -> None:
    summary, records = results["summary"], results["sandbox"]["records"]
    rows = []
    for m in ctx.measurements:
        if "repeat" not in m:
            continue
        by_role = m.get("peak_rss_kib_by_role") or {}
        rows.append(
            [
                f"{m['run']} #{m['repeat']}",
                f"{m['wall_seconds']:.2f}",
                f"{records / m['wall_seconds']:,.0f}" if "counts" in m else "",
                f"{m['user_cpu_seconds'] + m['system_cpu_seconds']:.1f}",
                _cpu_cell(m, "postgres_server_cpu_seconds"),
                ", ".join(f"{role} {mib(kib)}" for role, kib in by_role.items() if kib) or "-",
                _outcome(m),
            ]
        )
    print(
        f"\npostgres-vs-duckdb: {results['sandbox']['districts']} districts, {records:,} records "
        "of every snapshot stream, each run into a fresh database; PostgreSQL with fsync off"
    )
    print_table(
        ["run", "wall s", "records/s", "CPU s", "PG server CPU s", "peak RSS", "outcome"], rows
    )
    print(
        "CPU s: the step's own processes (wait4: meltano, the tap, the loader, dbt); PG server "
        "CPU s: the PostgreSQL server's meanwhile"
    )
    print()
    print_table(
        ["run", "best s", "median s", "/ duckdb (best)", "/ duckdb (median)"],
        [
            [
                run,
                f"{summary[run]['wall_best']:.2f}",
                f"{summary[run]['wall_median']:.2f}",
                *_ratio_cells(summary, key),
            ]
            for run, key in (
                (RUN_DUCKDB, None),
                (RUN_PG_COPY, "postgres_copy_over_duckdb"),
                (RUN_PG_INSERT, "postgres_insert_over_duckdb"),
                (DBT_DUCKDB, None),
                (DBT_POSTGRES, "dbt_postgres_over_dbt_duckdb"),
            )
            if run in summary
        ],
    )
    if "ratio_insert_over_copy_median" in summary:
        print(
            "\nuse_copy=false / use_copy=true: best "
            f"{summary['ratio_insert_over_copy_best']:.2f}x, median "
            f"{summary['ratio_insert_over_copy_median']:.2f}x (above 1: COPY is faster)"
        )
    if summary.get("dbt_postgres_failed_runs"):
        print(
            f"{DBT_POSTGRES} failed {summary['dbt_postgres_failed_runs']} time(s) (tolerated: "
            "the PostgreSQL models are being ported); its logs are in the work folder"
        )


def _ratio_cells(summary: dict[str, Any], key: str | None) -> list[str]:
    if key is None or f"ratio_{key}_best" not in summary:
        return ["", ""]
    return [f"{summary[f'ratio_{key}_best']:.2f}x", f"{summary[f'ratio_{key}_median']:.2f}x"]


def _cpu_cell(m: dict[str, Any], key: str) -> str:
    return f"{m[key]:.1f}" if key in m else ""


def _outcome(m: dict[str, Any]) -> str:
    if m["exit_code"] != 0:
        tolerated = " tolerated" if m.get("tolerated_failure") else ""
        return f"FAILED (exit {m['exit_code']}){tolerated}"
    if "dbt" in m:
        return "dbt PASS={pass} WARN={warn} ERROR={error} SKIP={skip}".format(**m["dbt"])
    outcome = "ok"
    if "count_mismatches" in m:
        wrong = m["count_mismatches"] or m.get("district_user_mismatches")
        outcome = "ROWS DIFFER" if wrong else "rows ok"
    if m.get("shards_run_again"):
        outcome += f", {m['shards_run_again']} shard(s) run again"
    return outcome


# --- scenario shards -------------------------------------------------------------------------


@dataclass(frozen=True)
class ShardConfig:
    """n shards at once, each tap with `max_parallel_districts` `parallel` (None: its default)."""

    shards: int
    parallel: int | None = None

    @classmethod
    def parse(cls, text: str) -> ShardConfig:
        """`4` (4 shards, the tap's default) or `1:64` (1 shard, max_parallel_districts 64)."""
        shards, _, parallel = text.partition(":")
        config = cls(int(shards), int(parallel) if parallel else None)
        if config.shards < 1 or (config.parallel is not None and not 1 <= config.parallel <= 64):
            msg = f"bad shard configuration {text!r}: N or N:P, N >= 1, 1 <= P <= 64"
            raise argparse.ArgumentTypeError(msg)
        return config

    @property
    def label(self) -> str:
        text = f"{self.shards} shard{'s' if self.shards > 1 else ''}"
        return text if self.parallel is None else f"{text}, max_parallel_districts={self.parallel}"

    @property
    def concurrency(self) -> int:
        """Districts in flight at once across the shards (at most)."""
        return self.shards * (self.parallel or TAP_DEFAULT_PARALLEL)


def run_shards(
    ctx: Context, name: str, config: ShardConfig, env: dict[str, str], *options: str
) -> dict[str, Any]:
    """`scripts/run_shards.py --shards N <options>`, timed whole: its set-up, its shards (each a
    `meltano run`) and their plugins; wait4's CPU counts every descendant it waited for. Each
    shard's own outcome (its seconds, the districts it took) is read from its work folder."""
    folder = ctx.workdir / f"run-shards-{config.shards}"
    argv = [
        sys.executable,
        str(ctx.project / "scripts" / "run_shards.py"),
        "--shards",
        str(config.shards),
        *options,
        "--work-dir",
        str(folder),
    ]
    result = run_step(ctx, name, argv, env=env)
    # Shards run again after losing a table-creation race with another (the first load of an
    # empty warehouse): the script says so on its stdout.
    said = "\n".join(tail_lines(result["logs"][0], 400))
    result["shards_run_again"] = len(_RUN_AGAIN.findall(said))
    outcomes = []
    for index in range(1, config.shards + 1):
        path = folder / f"shard-{index}-of-{config.shards}" / "outcome.json"
        if "--dbt-only" not in options and path.exists():
            outcome = json.loads(path.read_text())
            outcomes.append(
                {
                    "index": index,
                    "seconds": outcome.get("outcome", {}).get("seconds"),
                    "exit_code": outcome.get("outcome", {}).get("exit_code"),
                    "districts": outcome.get("districts"),
                    "found": outcome.get("found"),
                }
            )
    if outcomes:
        result["shards"] = outcomes
        seconds = [o["seconds"] for o in outcomes if isinstance(o["seconds"], int | float)]
        if seconds:
            # Each shard's `meltano run` as run_shards.py timed it; the rest of the wall is
            # the script's own start-up and set-up (Meltano's tables, under its lock).
            result["slowest_shard_seconds"] = max(seconds)
    return result


_RUN_AGAIN = re.compile(r"== shard \d+/\d+: .*running it again")


def reset_warehouse(server: PostgresServer, *, keep_raw_tables: bool) -> None:
    """Empty the warehouse for the next run, keeping Meltano's schema (its system database, set
    up once). dbt's schemas are dropped (`public` made again); the raw tables are emptied
    (`keep_raw_tables`: a warehouse loaded before, as every sync but the first finds it) or
    dropped with their schema (an empty warehouse, as the very first sync finds it)."""
    keep = ["meltano", "information_schema"] + (["raw_clever"] if keep_raw_tables else [])
    listed = ", ".join(f"'{name}'" for name in keep)
    schemas = [
        row[0]
        for row in pg_rows(
            server,
            f"select nspname from pg_namespace where nspname not in ({listed}) "  # noqa: S608
            "and nspname not like 'pg\\_%'",
        )
    ]
    sql = "".join(f'drop schema "{schema}" cascade; ' for schema in schemas)
    sql += "create schema public; "
    if keep_raw_tables:
        tables = [
            row[0]
            for row in pg_rows(
                server, "select tablename from pg_tables where schemaname = 'raw_clever'"
            )
        ]
        if tables:
            sql += "truncate " + ", ".join(f'raw_clever."{table}"' for table in tables) + "; "
    server.psql(sql)


def _cpu_of(pid: int) -> tuple[float, float, int] | None:
    """(its own CPU seconds, its reaped children's, its parent pid) from /proc/<pid>/stat."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    fields = stat[stat.rindex(b")") + 2 :].split()
    tick = os.sysconf("SC_CLK_TCK")
    own = (int(fields[11]) + int(fields[12])) / tick
    reaped = (int(fields[13]) + int(fields[14])) / tick
    return own, reaped, int(fields[1])


def sandbox_cpu_seconds(sandbox: SandboxProcess) -> float | None:
    """CPU the sandbox process has used so far (it shares the machine with the pipeline)."""
    cpu = _cpu_of(sandbox.process.pid)
    return None if cpu is None else cpu[0]


def server_cpu_seconds(server: PostgresServer) -> float | None:
    """CPU the PostgreSQL server has used so far: the postmaster, the backends it has reaped
    (a session's backend exits with it), and its live processes. The pipeline's own CPU (wait4)
    does not include it: the server is not its child."""
    try:
        postmaster = int((server.data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    cpu = _cpu_of(postmaster)
    if cpu is None:
        return None
    total = cpu[0] + cpu[1]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != postmaster:
            child = _cpu_of(int(entry.name))
            if child is not None and child[2] == postmaster:
                total += child[0]
    return total


def servers_cpu(
    *, server: PostgresServer | None = None, sandbox: SandboxProcess | None = None
) -> dict[str, float | None]:
    """CPU used so far by the PostgreSQL server and the sandbox (see add_servers_cpu)."""
    return {
        "postgres_server_cpu_seconds": server_cpu_seconds(server) if server else None,
        "sandbox_cpu_seconds": sandbox_cpu_seconds(sandbox) if sandbox else None,
    }


def add_servers_cpu(
    result: dict[str, Any], before: dict[str, float | None], after: dict[str, float | None]
) -> None:
    """The CPU the servers used during a step, into its result: wait4 counts only the step's
    own processes, and the servers share the machine's cores with them."""
    for key, value in before.items():
        later = after.get(key)
        if value is not None and later is not None:
            result[key] = later - value


def shards(ctx: Context, scenario: Scenario) -> dict[str, Any]:
    args = ctx.args
    configs: list[ShardConfig] = args.configs
    results: dict[str, Any] = {}
    with (
        sandbox_for(ctx, scenario) as (sandbox, expected, info),
        running_postgres() as server,
    ):
        results["sandbox"] = info
        results["postgres_server"] = server_description(server)
        counted = sandbox.install_request_counter()
        users_by_district = {
            str(d["id"]): int(d["counts"]["users"]) for d in sandbox.refresh_info()["districts"]
        }
        warehouse = server.create_database(PG_DATABASE)
        # Client credentials: each shard finds the districts with one /oauth/tokens request
        # (with district tokens, each shard would read every token's district to learn its id).
        # No MELTANO_SYS_DIR_ROOT: run_shards.py gives each shard its own.
        env = postgres_env(ctx, sandbox, warehouse, client_credentials=True, system_dir=False)
        env["SYNC_DIR"] = str(ctx.workdir / "sync")
        if args.shard_system_db == "warehouse":
            # run_shards.py's own choice: Meltano's runs and the shards' state in the schema
            # `meltano` of the warehouse (the throwaway server: the project's are untouched).
            for key in ("MELTANO_DATABASE_URI", "MELTANO_STATE_BACKEND_URI"):
                env.pop(key)
        # Set-up, not timed: Meltano's schema and tables (its migrations take seconds), and
        # unless --empty-warehouse the raw tables, by a first load of one shard: then every
        # timed run loads a warehouse used before (its raw tables emptied), as every sync but
        # the very first does.
        if args.empty_warehouse:
            _say("set-up: run_shards.py --dbt-only on the empty warehouse (Meltano's tables) ...")
            run_shards(ctx, "set-up", ShardConfig(1), env, "--dbt-only")
        else:
            _say("set-up: a first load by one shard (Meltano's tables, the raw tables) ...")
            run_shards(ctx, "set-up", ShardConfig(1), env, "--skip-dbt", "--full-refresh")
        for n in range(1, args.repeat + 1):
            for config in configs:
                reset_warehouse(warehouse, keep_raw_tables=not args.empty_warehouse)
                sandbox.reset_rate_limit()
                run_env = dict(env)
                if config.parallel is not None:
                    run_env["TAP_CLEVER_MAX_PARALLEL_DISTRICTS"] = str(config.parallel)
                name = config.label
                before = sandbox.requests_answered()
                cpu_before = servers_cpu(server=warehouse, sandbox=sandbox)
                _say(f"[{n}/{args.repeat}] {name}: run_shards.py --shards {config.shards} ...")
                result = run_shards(ctx, name, config, run_env, "--skip-dbt", "--full-refresh")
                after = sandbox.requests_answered()
                add_servers_cpu(result, cpu_before, servers_cpu(server=warehouse, sandbox=sandbox))
                result["repeat"] = n
                result["config"] = {
                    "shards": config.shards,
                    "max_parallel_districts": config.parallel,
                }
                if counted and before is not None and after is not None:
                    result["api_requests_answered"] = after - before
                check_pg(ctx, result, warehouse, expected, users_by_district)
                taken = [s["districts"] for s in result.get("shards", [])]
                ctx.check(
                    None not in taken and sum(taken) == len(users_by_district),
                    f"{name}: the shards took {taken} districts, not {len(users_by_district)}",
                )
                cpu = result["user_cpu_seconds"] + result["system_cpu_seconds"]
                _say(
                    f"    {result['wall_seconds']:.2f} s, CPU {cpu:.1f} s, districts per shard "
                    f"{taken}, {result.get('districts_loaded', 0)} of {len(users_by_district)} "
                    "loaded"
                )
                if args.with_dbt:
                    _say(f"[{n}/{args.repeat}] {name}: run_shards.py --dbt-only ...")
                    before_dbt = servers_cpu(server=warehouse, sandbox=sandbox)
                    dbt = tolerated(
                        ctx, run_shards, f"{name}: dbt build", config, run_env, "--dbt-only"
                    )
                    add_servers_cpu(dbt, before_dbt, servers_cpu(server=warehouse, sandbox=sandbox))
                    dbt["repeat"] = n
                    _say(f"    {dbt['wall_seconds']:.2f} s (exit {dbt['exit_code']})")
    results["summary"] = _summarize_shards(ctx, info, configs)
    return results


def _summarize_shards(
    ctx: Context, info: dict[str, Any], configs: Sequence[ShardConfig]
) -> dict[str, Any]:
    latency = info["latency_ms"] / 1000
    summary: dict[str, Any] = {"records": info["records"], "districts": info["districts"]}
    reference = configs[0].label
    for config in configs:
        walls = _walls(ctx, config.label)
        if not walls:
            continue
        stats = _stats(walls)
        measured = [m for m in ctx.measurements if m["run"] == config.label and "repeat" in m]
        cpu = [m["user_cpu_seconds"] + m["system_cpu_seconds"] for m in measured]
        stats["cpu_seconds_median"] = statistics.median(cpu)
        machine = [_machine_cpu(m) / m["wall_seconds"] for m in measured]
        stats["machine_cpu_over_wall_median"] = statistics.median(machine)
        # The CPU alone: all of it (pipeline, server, sandbox) spread over every core.
        stats["cpu_bound_seconds"] = statistics.median(_machine_cpu(m) for m in measured) / (
            os.cpu_count() or 1
        )
        requests = [m["api_requests_answered"] for m in measured if "api_requests_answered" in m]
        if requests:
            stats["api_requests_median"] = statistics.median(requests)
            # The wire alone: every request waits `latency`, at most `concurrency` districts at
            # a time, and a district's requests one after another (one per token at a time).
            in_flight = min(config.concurrency, info["districts"])
            requests_per_district = stats["api_requests_median"] / info["districts"]
            stats["latency_bound_seconds"] = latency * max(
                stats["api_requests_median"] / in_flight, requests_per_district
            )
        summary[config.label] = stats
    if reference in summary:
        for config in configs:
            if config.label in summary:
                stats = summary[config.label]
                for stat in ("best", "median"):
                    # Wall over the first configuration's (1 shard by default).
                    stats[f"ratio_to_reference_{stat}"] = (
                        stats[f"wall_{stat}"] / summary[reference][f"wall_{stat}"]
                    )
    summary["reference"] = reference
    summary["checks_passed"] = ctx.ok
    return summary


def _machine_cpu(m: dict[str, Any]) -> float:
    """The CPU a run cost the machine: its own processes, the PostgreSQL server's, the
    sandbox's."""
    return float(
        m["user_cpu_seconds"]
        + m["system_cpu_seconds"]
        + m.get("postgres_server_cpu_seconds", 0.0)
        + m.get("sandbox_cpu_seconds", 0.0)
    )


def _print_shards(ctx: Context, results: dict[str, Any]) -> None:
    summary, info = results["summary"], results["sandbox"]
    rows = []
    for m in ctx.measurements:
        if "repeat" not in m:
            continue
        cpu = m["user_cpu_seconds"] + m["system_cpu_seconds"]
        rows.append(
            [
                f"{m['run']} #{m['repeat']}",
                f"{m['wall_seconds']:.2f}",
                f"{cpu:.1f}",
                _cpu_cell(m, "postgres_server_cpu_seconds"),
                _cpu_cell(m, "sandbox_cpu_seconds"),
                f"{_machine_cpu(m) / m['wall_seconds']:.2f}",
                _cpu_cell(m, "slowest_shard_seconds"),
                m.get("api_requests_answered", ""),
                f"{m['districts_loaded']}/{info['districts']}" if "districts_loaded" in m else "",
                _outcome(m),
            ]
        )
    print(
        f"\nshards: {info['districts']} districts, {info['records']:,} records, "
        f"{info['latency_ms']:g} ms latency on every request, into PostgreSQL (fsync off) by "
        f"scripts/run_shards.py; Meltano's system database: {ctx.args.shard_system_db}"
    )
    print_table(
        [
            "run",
            "wall s",
            "CPU s",
            "PG server CPU s",
            "sandbox CPU s",
            "all CPU / wall",
            "slowest shard s",
            "requests",
            "districts",
            "outcome",
        ],
        rows,
    )
    print(
        "slowest shard s: its `meltano run` as run_shards.py timed it; the rest of the wall is "
        "the script's start-up and set-up"
    )
    reference = summary["reference"]
    print()
    table = []
    for label, stats in summary.items():
        if not isinstance(stats, dict) or "wall_best" not in stats:
            continue
        table.append(
            [
                label,
                f"{stats['wall_best']:.2f}",
                f"{stats['wall_median']:.2f}",
                *(
                    f"{stats[f'ratio_to_reference_{stat}']:.2f}x"
                    if f"ratio_to_reference_{stat}" in stats
                    else ""
                    for stat in ("best", "median")
                ),
                f"{stats['machine_cpu_over_wall_median']:.2f}",
                f"{stats['cpu_bound_seconds']:.1f}",
                f"{stats['latency_bound_seconds']:.1f}" if "latency_bound_seconds" in stats else "",
            ]
        )
    print_table(
        [
            "configuration",
            "best s",
            "median s",
            f"/ {reference} (best)",
            "(median)",
            "all CPU / wall",
            "CPU bound s",
            "latency bound s",
        ],
        table,
    )
    print(
        f"\nThe tap reads {TAP_DEFAULT_PARALLEL} districts at once by default "
        "(max_parallel_districts): 1 shard already has 16 districts' requests in flight, n "
        "shards n x 16. CPU s: run_shards.py and everything it started (wait4); all CPU / "
        "wall: that, the PostgreSQL server's and the sandbox's, over the wall: near the "
        f"machine's {os.cpu_count()} cores, the run is CPU-bound rather than waiting on the API. "
        "'CPU bound' is all that CPU over the cores; 'latency bound' the API requests x "
        "latency / districts in flight (at least a district's requests x latency): the wall "
        "cannot be below either."
    )


# --- the command line ---------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=" ".join(__doc__.split("\n\n", 1)[0].split()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Scenarios:\n" + "\n".join(f"  {s.name}: {s.summary}" for s in SCENARIOS.values()),
    )
    parser.add_argument("--scenario", required=True, choices=[*SCENARIOS, "all"])
    parser.add_argument("--users", type=int, help="users per district (default per scenario)")
    parser.add_argument("--districts", type=int, help="districts (default per scenario)")
    parser.add_argument("--latency-ms", type=float, help="sandbox latency (default per scenario)")
    parser.add_argument("--seed", type=int, default=42, help="the sandbox's seed")
    parser.add_argument("--repeat", type=int, default=1, help="measure N times; best and median")
    parser.add_argument(
        "--with-dbt",
        action="store_true",
        help="also time the dbt build after each load (dbt-postgres failing is tolerated)",
    )
    parser.add_argument(
        "--configs",
        type=ShardConfig.parse,
        nargs="+",
        default=[ShardConfig(1), ShardConfig(4), ShardConfig(1, 64)],
        metavar="N[:P]",
        help="shards: N shards at once, each tap at max_parallel_districts P (default its own); "
        "ratios are to the first (default: 1 4 1:64)",
    )
    parser.add_argument(
        "--shard-system-db",
        choices=["warehouse", "sqlite"],
        default="warehouse",
        help="shards: Meltano's runs and state in the warehouse (run_shards.py's default) or "
        "in a SQLite file of the work folder (MELTANO_DATABASE_URI, shared by the shards)",
    )
    parser.add_argument(
        "--empty-warehouse",
        action="store_true",
        help="shards: each run loads an empty warehouse (the raw tables dropped), as a first "
        "sync does, instead of one loaded before (the raw tables emptied)",
    )
    parser.add_argument(
        "--sample-ms", type=float, default=50, help="how often the process trees are sampled"
    )
    parser.add_argument("--timeout", type=float, default=3 * 3600.0, help="per step (s)")
    parser.add_argument("--sandbox-timeout", type=float, default=3600.0, help="to be ready (s)")
    parser.add_argument(
        "--project", type=Path, default=ROOT, help="the Meltano project to run (default: checkout)"
    )
    parser.add_argument("--workdir", type=Path, help="where the temporary folder goes")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, files)")
    parser.add_argument(
        "--output", type=Path, help="results file (default results/<scenario>.json; one scenario)"
    )
    parser.add_argument("--no-save", action="store_true", help="do not write the results file")
    return parser


def _versions(project: Path) -> dict[str, Any]:
    """Meltano here; the packages of each plugin's virtual environment."""
    found: dict[str, Any] = {}
    for package in ("meltano", "duckdb"):
        with suppress(Exception):
            found[package] = packages_of(sys.executable, [package]).get(package)
    found["plugins"] = {
        python.parents[2].name: packages_of(
            python,
            (*PACKAGES, "psycopg", "psycopg2-binary", "sqlalchemy"),
            ("tap-", "target-", "dbt-", "meltanolabs-"),
        )
        for python in sorted(project.glob(".meltano/*/*/venv/bin/python"))
    }
    return found


def run_scenario(args: argparse.Namespace, scenario: Scenario) -> int:
    parameters: dict[str, Any] = {
        "districts": scenario.districts,
        "users_per_district": scenario.users,
        "latency_ms": scenario.latency_ms,
        "seed": args.seed,
        "repeat": args.repeat,
        "with_dbt": args.with_dbt,
        "sample_ms": args.sample_ms,
        "project": str(args.project.resolve()),
    }
    if scenario.name == "shards":
        parameters.update(
            configs=[
                {"shards": c.shards, "max_parallel_districts": c.parallel} for c in args.configs
            ],
            tap_default_max_parallel_districts=TAP_DEFAULT_PARALLEL,
            shard_system_db=args.shard_system_db,
            warehouse_before_each_run="empty (no raw tables)"
            if args.empty_warehouse
            else "loaded before (raw tables emptied)",
            clever_credentials="client_id/client_secret (discovery through /oauth/tokens)",
        )
    else:
        parameters.update(clever_credentials="district_tokens")
    record = run_record(scenario.name, parameters)
    record["versions"].update(_versions(args.project))
    record["load_average_before"] = os.getloadavg()

    workdir = Path(tempfile.mkdtemp(prefix=f"tap-clever-{scenario.name}-", dir=args.workdir))
    ctx = Context(args, workdir, args.project.resolve())
    _say(f"\n== {scenario.name} ==\nWork folder: {workdir}")
    run, show = {
        "postgres-vs-duckdb": (postgres_vs_duckdb, _print_pg),
        "shards": (shards, _print_shards),
    }[scenario.name]
    started = time.perf_counter()
    results: dict[str, Any] = {}
    failure = None
    try:
        results = run(ctx, scenario)
    except (StepFailed, SandboxError, RuntimeError, subprocess.CalledProcessError) as exc:
        failure = f"{type(exc).__name__}: {exc}"
        ctx.ok = False
    record.update(results)
    record["measurements"] = ctx.measurements
    record["benchmark_seconds"] = time.perf_counter() - started
    record["load_average_after"] = os.getloadavg()
    if failure is None:
        show(ctx, results)
        busy = max(record["load_average_before"][0], record["load_average_after"][0])
        if busy > 0.5 * (os.cpu_count() or 1):
            print(
                f"\nNOTE: the machine was busy (1-minute load average {busy:.1f} on "
                f"{os.cpu_count()} cores): these figures are noisy"
            )
    if ctx.ok:
        print("\nall checks passed: every raw table holds the sandbox's rows")
        if not args.no_save:
            path = save_results(record, args.output or RESULTS_DIR / f"{scenario.name}.json")
            print(f"results saved to {path}")
    else:
        save_results({**record, "failure": failure}, workdir / "results.json")
        print(f"\nFAILED ({failure or 'a check failed'}); logs and results.json kept in {workdir}")
        return 1
    if args.keep:
        print(f"work folder kept: {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def main() -> int:
    args = _parser().parse_args()
    if args.repeat < 1:
        sys.exit("--repeat must be at least 1")
    if not (args.project / "meltano.yml").exists():
        sys.exit(f"--project {args.project}: no meltano.yml there")
    if not (args.project / ".meltano").is_dir():
        sys.exit(f"{args.project / '.meltano'} is missing: run `.venv/bin/meltano install` first")
    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    if "shards" in names and not (args.project / "scripts" / "run_shards.py").exists():
        sys.exit(f"{args.project / 'scripts' / 'run_shards.py'} is missing: the shards need it")
    if args.output and len(names) > 1:
        sys.exit("--output names one file: give one --scenario")
    status = 0
    for name in names:
        base = SCENARIOS[name]
        scenario = Scenario(
            base.name,
            base.summary,
            args.districts or base.districts,
            args.users or base.users,
            base.latency_ms if args.latency_ms is None else args.latency_ms,
        )
        status = max(status, run_scenario(args, scenario))
    return status


if __name__ == "__main__":
    sys.exit(main())
