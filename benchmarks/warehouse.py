"""The warehouse's benchmarks: extract+load into DuckDB and the dbt build, each step through the
project's own command lines, against dlt and a floor measured in the same run.

    .venv/bin/python benchmarks/warehouse.py --scenario el-vs-dlt [--repeat 3] [--with-dbt]
    .venv/bin/python benchmarks/warehouse.py --scenario large-district [--users 1000000]
    .venv/bin/python benchmarks/warehouse.py --scenario incremental-dbt [--repeat 3]

Each starts `clever-sandbox serve` in its own process (pregenerated, on a free port), runs the
steps one after the other, checks the rows of every raw table against the sandbox's own counts,
prints a table, and saves everything (machine, versions, commit) to
`benchmarks/results/<scenario>.json`. The pipeline is driven only as a user drives it
(`meltano run ... tap-clever target-duckdb`, `meltano invoke dbt-duckdb ...`, from the project
directory), so the benchmark keeps working whatever the tap, the loader or dbt become.
See `benchmarks/README.md` for what each scenario measures and its goals.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import itertools
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
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import orjson
from benchlib import (
    BENCHMARKS,
    BIN,
    RECORD_TYPES,
    RESULTS_DIR,
    ROOT,
    FloorClient,
    SandboxError,
    SandboxProcess,
    best_and_median,
    count_mismatches,
    mib,
    packages_of,
    print_table,
    run_measured,
    run_record,
    running_sandbox,
    sandbox_argv,
    save_results,
    tail_lines,
)
from floor_users_singer import _decode as decode_page

RAW_SCHEMA = "raw_clever"
#: The memory goal of every process of the pipeline (issue 8: "under 1 GB").
MEMORY_LIMIT_KIB = 1_000_000_000 // 1024
DLT_PYTHON = "/tmp/dlt-venv/bin/python"  # noqa: S108 - where the README installs it
#: Packages worth recording from the plugins' and dlt's virtual environments.
PACKAGES = (
    "singer-sdk",
    "duckdb",
    "dbt-core",
    "dbt-duckdb",
    "pyarrow",
    "orjson",
    "msgspec",
    "dlt",
    "requests",
)


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    districts: int
    users: int
    goal: str


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            name="el-vs-dlt",
            summary="2 districts of 28,750 users, every snapshot stream, into a fresh DuckDB file: "
            "tap-clever (meltano run) vs dlt's REST client (parquet) vs a plain fetch + read_json",
            districts=2,
            users=28_750,
            goal="dlt wall / tap-clever wall >= 2.5; with --with-dbt, tap-clever + dbt build "
            "finishes before dlt's extract+load",
        ),
        Scenario(
            name="large-district",
            summary="1 district of 230,000 users: extract+load and dbt build, wall and peak RSS "
            "of every process, against the fetch + read_json floor",
            districts=1,
            users=230_000,
            goal="every process under 1 GB; extract+load within 2x of the floor",
        ),
        Scenario(
            name="incremental-dbt",
            summary="the large district after ~20 changes: incremental dbt build vs a full "
            "rebuild of the same warehouse; and the demo's dbt build (2 x 5,000 users)",
            districts=1,
            users=230_000,
            goal="incremental dbt build <= 0.35x a full build; the demo's dbt build <= 5 s",
        ),
    )
}
GOAL_DLT_OVER_TAP = 2.5
GOAL_TAP_OVER_FLOOR_LARGE = 2.0
GOAL_INCREMENTAL_OVER_FULL = 0.35
GOAL_DEMO_DBT_SECONDS = 5.0


class StepFailed(RuntimeError):
    """A step exited non-zero (its logs' tails were printed)."""


def _say(text: str) -> None:
    print(text, flush=True)


# --- the run's context: work directory, project, meltano's environment --------------------------


@dataclass
class Context:
    args: argparse.Namespace
    workdir: Path
    project: Path
    measurements: list[dict[str, Any]] = field(default_factory=list)
    ok: bool = True
    _steps: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def log_paths(self, name: str) -> tuple[Path, Path]:
        stem = f"{next(self._steps):02d}-{re.sub(r'[^A-Za-z0-9]+', '-', name).strip('-')}"
        return self.workdir / f"{stem}.stdout.log", self.workdir / f"{stem}.stderr.log"

    def check(self, passed: bool, what: str) -> bool:
        if not passed:
            self.ok = False
            _say(f"    CHECK FAILED: {what}")
        return passed


def meltano_env(ctx: Context, sandbox: SandboxProcess, database: Path) -> dict[str, str]:
    """The caller's environment for `meltano`, with the sandbox as Clever, `database` as the
    warehouse, and Meltano's and dbt's own files in the work directory."""
    env = {
        key: value
        for key, value in os.environ.items()
        # The developer's own settings (another warehouse, another state backend) stay out.
        if not key.startswith(
            ("TAP_CLEVER_", "TARGET_DUCKDB_", "DBT_", "CLEVER_DUCKDB_", "MELTANO_")
        )
    }
    env.update(
        MELTANO_SEND_ANONYMOUS_USAGE_STATS="false",
        MELTANO_CLI_DISABLE_VERSION_CHECK="true",
        NO_COLOR="1",
        DBT_USE_COLORS="false",
        # Runs and state in a database of this run's own: the project's .meltano/meltano.db and
        # its pipelines' bookmarks are never read or written.
        MELTANO_DATABASE_URI=f"sqlite:///{ctx.workdir / 'meltano.db'}",
        MELTANO_STATE_BACKEND_URI=(ctx.workdir / "meltano-state").as_uri(),
        # dbt's artifacts (and its partial-parse cache) and logs here, not in transform/.
        DBT_TARGET_PATH=str(ctx.workdir / "dbt-target"),
        DBT_LOG_PATH=str(ctx.workdir / "dbt-logs"),
        CLEVER_DUCKDB_PATH=str(database),
        TAP_CLEVER_API_URL=sandbox.base_url,
        TAP_CLEVER_OAUTH_URL=sandbox.base_url,
        TAP_CLEVER_DISTRICT_TOKENS=json.dumps(sandbox.tokens),
    )
    return env


def _program(command: str) -> str:
    """The program a process runs: a Python script's name rather than `python`."""
    words = command.split()
    if not words:
        return "?"
    program = Path(words[0]).name
    if program.startswith("python"):
        options = [w for w in words[1:4] if w.startswith("-")]
        rest = [w for w in words[1:] if not w.startswith("-")]
        if "-c" in options:
            return f"{program} -c"  # e.g. multiprocessing's resource tracker
        if rest:
            program = rest[0] if "-m" in options else Path(rest[0]).name
    # Meltano runs the tap once with --discover before the sync: tell the two apart.
    return f"{program} --discover" if "--discover" in words else program


def _role(program: str) -> str:
    if program.startswith("tap-"):
        return "tap"
    if program.startswith("target-"):
        return "loader"
    return program


def run_step(
    ctx: Context, name: str, argv: Sequence[str], *, env: dict[str, str], cwd: Path | None = None
) -> dict[str, Any]:
    """One measured command: wall time, exit code, the peak RSS of each of its processes.

    A non-zero exit prints the tails of its logs and raises StepFailed.
    """
    stdout_path, stderr_path = ctx.log_paths(name)
    run = run_measured(
        name,
        argv,
        stderr_path=stderr_path,
        stdout_path=stdout_path,
        count_stdout=False,
        env=env,
        cwd=cwd or ctx.project,
        timeout=ctx.args.timeout,
        sample_interval=ctx.args.sample_ms / 1000,
    )
    processes = [
        {**asdict(peak), "program": _program(peak.command) if peak.command else peak.name}
        for peak in run.process_peaks or []
    ]
    by_role: dict[str, int] = {}
    for process in processes:
        if not process["peak_rss_kib"]:
            continue  # gone before its first sample could read its memory
        role = _role(process["program"])
        by_role[role] = max(by_role.get(role, 0), process["peak_rss_kib"])
    result: dict[str, Any] = {
        "run": name,
        "command": list(argv),
        "wall_seconds": run.wall_seconds,
        "exit_code": run.exit_code,
        "timed_out": run.timed_out,
        # wait4: the largest of the process and its descendants.
        "peak_rss_kib": run.peak_rss_kib,
        "user_cpu_seconds": run.user_cpu_seconds,
        "system_cpu_seconds": run.system_cpu_seconds,
        "peak_rss_kib_by_role": by_role,
        "processes": processes,
        "logs": [str(stdout_path), str(stderr_path)],
    }
    ctx.measurements.append(result)
    if run.exit_code != 0:
        ctx.ok = False
        why = "timed out" if run.timed_out else f"exited {run.exit_code}"
        _say(f"\nFAILED: {name} {why}: {' '.join(argv)}")
        for path in (stdout_path, stderr_path):
            tail = tail_lines(path, 40)
            if tail:
                _say(f"--- last lines of {path} ---")
                _say("\n".join(tail))
        raise StepFailed(f"{name} {why}")
    return result


def warm_up_meltano(env: dict[str, str]) -> None:
    """Create Meltano's system database (its migrations take seconds) before anything is timed,
    as in a project that has run before: only the first run of a project pays for it."""
    subprocess.run(
        [str(BIN / "meltano"), "--environment=sandbox", "state", "list"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=True,
    )


def meltano(ctx: Context, name: str, *args: str, env: dict[str, str]) -> dict[str, Any]:
    return run_step(ctx, name, [str(BIN / "meltano"), "--environment=sandbox", *args], env=env)


_DBT_DONE = re.compile(r"Done\. PASS=(\d+) WARN=(\d+) ERROR=(\d+) SKIP=(\d+)")
_DBT_FINISHED = re.compile(r"Finished running .* in .*\(([\d.]+)s\)")


def dbt_step(ctx: Context, name: str, *args: str, env: dict[str, str]) -> dict[str, Any]:
    """`meltano invoke dbt-duckdb <args>`, with dbt's own tally and time read from its output;
    a dbt error fails the check."""
    result = meltano(ctx, name, "invoke", "dbt-duckdb", *args, env=env)
    text = "\n".join("\n".join(tail_lines(path, 400)) for path in result["logs"])
    done = _DBT_DONE.findall(text)
    finished = _DBT_FINISHED.findall(text)
    if done:
        passed, warned, errors, skipped = (int(n) for n in done[-1])
        result["dbt"] = {"pass": passed, "warn": warned, "error": errors, "skip": skipped}
        ctx.check(errors == 0, f"{name}: dbt reported {errors} errors")
    if finished:
        # "Finished running ... in N s": the nodes' work, without start-up and parsing.
        result["dbt_reported_seconds"] = float(finished[-1])
    lifetimes = [
        p["last_seen_seconds"] - p["first_seen_seconds"]
        for p in result["processes"]
        if p["program"] == "dbt"
    ]
    if lifetimes:
        # The dbt process from its first sample to its last: dbt's import included, Meltano's
        # start-up not.
        result["dbt_process_seconds"] = max(lifetimes)
    return result


#: A first run: every district snapshotted, whatever state the run's Meltano database holds.
FULL_LOAD = ("run", "--full-refresh", "tap-clever", "target-duckdb")


def full_load(
    ctx: Context, name: str, database: Path, expected: dict[str, int], *, env: dict[str, str]
) -> dict[str, Any]:
    """`meltano run --full-refresh tap-clever target-duckdb` into a fresh `database`, whose raw
    tables are then checked against the sandbox."""
    fresh(database)
    result = meltano(ctx, name, *FULL_LOAD, env=env)
    check_counts(ctx, result, database, expected)
    return result


def fresh(*paths: Path) -> None:
    """Remove database files (with their WAL) or folders, so a run starts from nothing."""
    for path in paths:
        for each in (path, path.with_name(path.name + ".wal")):
            if each.is_dir():
                shutil.rmtree(each)
            elif each.exists():
                each.unlink()


def copy_database(source: Path, target: Path) -> None:
    fresh(target)
    shutil.copyfile(source, target)
    wal = source.with_name(source.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + ".wal"))


# --- checks against the sandbox --------------------------------------------------------------


def _rows(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> int:
    # Names from information_schema or our own stream list, quoted: nothing from outside.
    row = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()  # noqa: S608
    return int(row[0]) if row else 0


def table_counts(database: Path, schema: str, tables: Sequence[str]) -> dict[str, int]:
    """Rows of each table (-1: no such table), read-only and closed at once (the file is the
    next step's)."""
    with duckdb.connect(str(database), read_only=True) as con:
        existing = {
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = ?",
                [schema],
            ).fetchall()
        }
        return {table: _rows(con, schema, table) if table in existing else -1 for table in tables}


def check_counts(
    ctx: Context, result: dict[str, Any], database: Path, expected: dict[str, int]
) -> None:
    """Every raw table of `expected` holds exactly the sandbox's records."""
    try:
        counts: dict[str, int] | None = table_counts(database, RAW_SCHEMA, list(expected))
    except duckdb.Error as exc:
        counts = None
        ctx.check(False, f"{result['run']}: cannot read {database}: {exc}")
    mismatches = count_mismatches(expected, counts)
    result["counts"] = counts
    result["count_mismatches"] = mismatches
    ctx.check(not mismatches, f"{result['run']}: rows differ from the sandbox: {mismatches}")


def mart_counts(database: Path) -> dict[str, int]:
    """Rows of every table dbt built (every base table outside the raw schema)."""
    with duckdb.connect(str(database), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' and table_schema <> ? order by 1, 2",
            [RAW_SCHEMA],
        ).fetchall()
        return {f"{schema}.{table}": _rows(con, schema, table) for schema, table in tables}


# --- the sandbox -----------------------------------------------------------------------------


@contextmanager
def sandbox_for(
    ctx: Context, districts: int, users: int, label: str = "sandbox"
) -> Iterator[tuple[SandboxProcess, dict[str, int], dict[str, Any]]]:
    """A pregenerated sandbox; (it, the expected rows per snapshot stream, its description)."""
    argv = sandbox_argv(districts=districts, users=users, seed=ctx.args.seed, pregenerate=True)
    _say(f"Starting the {label}: clever-sandbox serve {' '.join(argv)}")
    with running_sandbox(
        argv, ctx.workdir, log=ctx.workdir / f"{label}.log", timeout=ctx.args.sandbox_timeout
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
            "expected_counts": expected,
            "records": total,
        }
        yield sandbox, expected, info


# --- the two other pipelines: dlt, and the floor ------------------------------------------------


def run_dlt(ctx: Context, sandbox: SandboxProcess, database: Path) -> dict[str, Any]:
    """dlt's REST client into DuckDB, in dlt's own virtual environment, timed whole."""
    fresh(database, Path(f"{database}.dlt"))
    summary = ctx.workdir / "dlt-summary.json"
    fresh(summary)
    argv = [
        ctx.args.dlt_python,
        str(BENCHMARKS / "dlt_clever_users.py"),
        "--base-url",
        sandbox.base_url,
        *itertools.chain.from_iterable(("--token", token) for token in sandbox.tokens),
        "--streams",
        "all",
        "--loader-file-format",
        ctx.args.dlt_file_format,
        "--page-size",
        str(ctx.args.page_size),
        "--database",
        str(database),
        "--summary",
        str(summary),
        *(["--parallelized"] if ctx.args.dlt_parallelized else []),
    ]
    env = {
        **os.environ,
        "RUNTIME__LOG_LEVEL": "WARNING",
        # No network call home in the middle of a measurement.
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        **dict(setting.split("=", 1) for setting in ctx.args.dlt_env),
    }
    # The work directory as its working directory: no .dlt/ config of the checkout is read.
    result = run_step(ctx, "dlt", argv, env=env, cwd=ctx.workdir)
    if summary.exists():
        result["dlt"] = json.loads(summary.read_text())
    return result


def run_floor(ctx: Context, sandbox: SandboxProcess, database: Path) -> dict[str, Any]:
    """The least work that gets the same raw tables: fetch every page of every snapshot stream
    (http.client + orjson, `--floor-threads` at once), write each record as a JSON line, then
    one DuckDB `read_json` per table (top-level fields as columns, nested objects as JSON, as in
    the tap's raw tables). In this process: no start-up, no Singer, no validation."""
    staging = ctx.workdir / "floor-jsonl"
    fresh(database, staging)
    staging.mkdir()
    client = FloorClient(sandbox.base_url, ctx.args.page_size)
    items = [(s, n, token) for s in RECORD_TYPES for n, token in enumerate(sandbox.tokens)]

    def fetch(item: tuple[str, int, str]) -> tuple[str, Path, int]:
        stream, n, token = item
        path = staging / f"{stream}-{n}.jsonl"
        records = 0
        with path.open("wb") as out:
            for page in client.pages(token, stream, decode=decode_page):
                lines = [orjson.dumps(record["data"]) for record in page["data"]]
                if lines:
                    out.write(b"\n".join(lines) + b"\n")
                records += len(lines)
        return stream, path, records

    # As in the other floors: a page of decoded records holds no cycles, and the collector's
    # passes over millions of new objects are not work the data needs.
    gc.disable()
    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(max_workers=ctx.args.floor_threads) as pool:
            fetched = list(pool.map(fetch, items))
        fetch_seconds = time.perf_counter() - started
        with duckdb.connect(str(database)) as con:
            con.execute(f"create schema {RAW_SCHEMA}")
            for stream in RECORD_TYPES:
                files = [str(path) for s, path, records in fetched if s == stream and records]
                if files:
                    con.execute(  # our own stream names and file paths
                        f"create table {RAW_SCHEMA}.{stream} as select * from read_json("  # noqa: S608
                        f"{files!r}, format = 'newline_delimited', maximum_depth = 1)"
                    )
        wall = time.perf_counter() - started
    finally:
        gc.enable()
        client.close()
    result: dict[str, Any] = {
        "run": "floor",
        "wall_seconds": wall,
        "fetch_seconds": fetch_seconds,
        "read_json_seconds": wall - fetch_seconds,
        "threads": ctx.args.floor_threads,
        "records_fetched": sum(records for _, _, records in fetched),
    }
    ctx.measurements.append(result)
    shutil.rmtree(staging)
    return result


# --- scenario el-vs-dlt --------------------------------------------------------------------------


def el_vs_dlt(ctx: Context, scenario: Scenario) -> dict[str, Any]:
    args = ctx.args
    with sandbox_for(ctx, scenario.districts, scenario.users) as (sandbox, expected, info):
        databases = {
            name: ctx.workdir / f"{name}.duckdb" for name in ("tap-clever", "dlt", "floor")
        }
        env = meltano_env(ctx, sandbox, databases["tap-clever"])
        warm_up_meltano(env)
        if args.with_dbt:
            _say("dbt parse (warm-up: dbt's partial-parse cache, as in a project used before) ...")
            dbt_step(ctx, "dbt parse (warm-up)", "parse", env=env)
        runs: list[tuple[str, Callable[[], dict[str, Any]]]] = [
            (
                "tap-clever",
                lambda: meltano(ctx, "tap-clever", *FULL_LOAD, env=env),
            ),
            ("dlt", lambda: run_dlt(ctx, sandbox, databases["dlt"])),
            ("floor", lambda: run_floor(ctx, sandbox, databases["floor"])),
        ]
        if args.with_dbt:
            runs.append(
                (
                    "tap-clever + dbt",
                    lambda: meltano(
                        ctx, "tap-clever + dbt", *FULL_LOAD, "dbt-duckdb:build", env=env
                    ),
                )
            )
        for n in range(1, args.repeat + 1):
            for name, run in runs:
                database = databases["tap-clever" if name.startswith("tap-clever") else name]
                fresh(database)
                sandbox.reset_rate_limit()
                _say(f"[{n}/{args.repeat}] {name} ...")
                result = run()
                result["repeat"] = n
                check_counts(ctx, result, database, expected)
                _say(f"    {result['wall_seconds']:.2f} s")
    return {"sandbox": info, "summary": _summarize_el(ctx, info)}


def _walls(ctx: Context, run: str) -> list[float]:
    return [m["wall_seconds"] for m in ctx.measurements if m["run"] == run and "repeat" in m]


def _summarize_el(ctx: Context, info: dict[str, Any]) -> dict[str, Any]:
    summary: dict[str, Any] = {"records": info["records"]}
    for run in ("tap-clever", "dlt", "floor", "tap-clever + dbt"):
        if _walls(ctx, run):
            summary[run] = _stats(ctx, run)
    tap, dlt, floor = summary["tap-clever"], summary["dlt"], summary["floor"]
    for stat in ("best", "median"):
        summary[f"ratio_dlt_over_tap_{stat}"] = dlt[f"wall_{stat}"] / tap[f"wall_{stat}"]
        summary[f"ratio_tap_over_floor_{stat}"] = tap[f"wall_{stat}"] / floor[f"wall_{stat}"]
        if "tap-clever + dbt" in summary:
            summary[f"ratio_tap_dbt_over_dlt_{stat}"] = (
                summary["tap-clever + dbt"][f"wall_{stat}"] / dlt[f"wall_{stat}"]
            )
    summary["goal_dlt_over_tap"] = GOAL_DLT_OVER_TAP
    summary["goal_met"] = summary["ratio_dlt_over_tap_median"] >= GOAL_DLT_OVER_TAP
    if "tap-clever + dbt" in summary:
        summary["headline_goal_met"] = summary["ratio_tap_dbt_over_dlt_median"] <= 1.0
    summary["checks_passed"] = ctx.ok
    return summary


def _print_el(ctx: Context, results: dict[str, Any]) -> None:
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
                f"{records / m['wall_seconds']:,.0f}",
                ", ".join(f"{role} {mib(kib)}" for role, kib in by_role.items()) or "-",
                "ok" if not m.get("count_mismatches") else "MISMATCH",
            ]
        )
    print(
        f"\nel-vs-dlt: {results['sandbox']['districts']} districts, {records:,} records of every "
        "snapshot stream, each into a fresh DuckDB file"
    )
    print_table(["run", "wall s", "records/s", "peak RSS", "rows"], rows)
    print()
    labels = {
        "tap-clever": "tap-clever: meltano run --full-refresh tap-clever target-duckdb",
        "dlt": f"dlt {ctx.args.dlt_file_format}, max_table_nesting=0"
        + (", parallelized" if ctx.args.dlt_parallelized else "")
        + "".join(f", {setting}" for setting in ctx.args.dlt_env),
        "floor": f"floor: fetch ({ctx.args.floor_threads} threads) + read_json",
        "tap-clever + dbt": "tap-clever ... dbt-duckdb:build",
    }
    print_table(
        ["pipeline", "best s", "median s"],
        [
            [label, f"{summary[run]['wall_best']:.2f}", f"{summary[run]['wall_median']:.2f}"]
            for run, label in labels.items()
            if run in summary
        ],
    )
    print(
        f"\ndlt / tap-clever: best {summary['ratio_dlt_over_tap_best']:.2f}x, median "
        f"{summary['ratio_dlt_over_tap_median']:.2f}x (goal >= {GOAL_DLT_OVER_TAP}x: "
        f"{'met' if summary['goal_met'] else 'NOT met'})"
    )
    print(
        f"tap-clever / floor: best {summary['ratio_tap_over_floor_best']:.2f}x, median "
        f"{summary['ratio_tap_over_floor_median']:.2f}x"
    )
    if "headline_goal_met" in summary:
        print(
            f"tap-clever + dbt build / dlt extract+load: best "
            f"{summary['ratio_tap_dbt_over_dlt_best']:.2f}x, median "
            f"{summary['ratio_tap_dbt_over_dlt_median']:.2f}x (goal <= 1.0x: "
            f"{'met' if summary['headline_goal_met'] else 'NOT met'})"
        )


# --- scenario large-district -----------------------------------------------------------------


def large_district(ctx: Context, scenario: Scenario) -> dict[str, Any]:
    args = ctx.args
    with sandbox_for(ctx, scenario.districts, scenario.users) as (sandbox, expected, info):
        database = ctx.workdir / "tap-clever.duckdb"
        env = meltano_env(ctx, sandbox, database)
        warm_up_meltano(env)
        for n in range(1, args.repeat + 1):
            sandbox.reset_rate_limit()
            _say(f"[{n}/{args.repeat}] meltano run --full-refresh tap-clever target-duckdb ...")
            result = full_load(ctx, "extract+load", database, expected, env=env)
            result["repeat"] = n
            _say(f"    {result['wall_seconds']:.2f} s")
            if n == 1:
                _say("dbt parse (warm-up: dbt's partial-parse cache) ...")
                dbt_step(ctx, "dbt parse (warm-up)", "parse", env=env)
            _say(f"[{n}/{args.repeat}] meltano invoke dbt-duckdb:build ...")
            result = dbt_step(ctx, "dbt build", "build", env=env)
            result["repeat"] = n
            _say(f"    {result['wall_seconds']:.2f} s")
            _say(f"[{n}/{args.repeat}] floor: fetch + read_json ...")
            result = run_floor(ctx, sandbox, ctx.workdir / "floor.duckdb")
            result["repeat"] = n
            check_counts(ctx, result, ctx.workdir / "floor.duckdb", expected)
            _say(f"    {result['wall_seconds']:.2f} s")
    return {"sandbox": info, "summary": _summarize_large(ctx, info)}


def _summarize_large(ctx: Context, info: dict[str, Any]) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "records": info["records"],
        "users": info["expected_counts"]["users"],
    }
    for run in ("extract+load", "dbt build", "floor"):
        summary[run] = _stats(ctx, run)
    peaks: dict[str, int] = {}
    for m in ctx.measurements:
        for role, kib in (m.get("peak_rss_kib_by_role") or {}).items():
            key = f"{m['run']}: {role}"
            peaks[key] = max(peaks.get(key, 0), kib)
    summary["peak_rss_kib"] = peaks
    summary["largest_process_kib"] = max(peaks.values(), default=0)
    summary["every_process_under_1_gb"] = summary["largest_process_kib"] < MEMORY_LIMIT_KIB
    for stat in ("best", "median"):
        summary[f"ratio_el_over_floor_{stat}"] = (
            summary["extract+load"][f"wall_{stat}"] / summary["floor"][f"wall_{stat}"]
        )
    summary["goal_met"] = (
        summary["every_process_under_1_gb"]
        and summary["ratio_el_over_floor_median"] <= GOAL_TAP_OVER_FLOOR_LARGE
    )
    summary["checks_passed"] = ctx.ok
    return summary


def _print_steps(ctx: Context, title: str) -> None:
    """Every measured step, then every process of each with its peak RSS."""
    print(f"\n{title}")
    rows = []
    for m in ctx.measurements:
        extra = []
        if "dbt" in m:
            extra.append("dbt PASS={pass} WARN={warn} ERROR={error} SKIP={skip}".format(**m["dbt"]))
        if "dbt_process_seconds" in m:
            extra.append(f"dbt process {m['dbt_process_seconds']:.1f} s")
        if "dbt_reported_seconds" in m:
            extra.append(f"dbt's own {m['dbt_reported_seconds']:.1f} s")
        if "fetch_seconds" in m:
            extra.append(
                f"fetch {m['fetch_seconds']:.2f} s + read_json {m['read_json_seconds']:.2f} s"
            )
        if "count_mismatches" in m:
            extra.append("rows ok" if not m["count_mismatches"] else "ROWS DIFFER")
        rows.append(
            [
                m["run"] + (f" #{m['repeat']}" if "repeat" in m else ""),
                f"{m['wall_seconds']:.2f}",
                mib(max((p["peak_rss_kib"] for p in m.get("processes", [])), default=0) or None),
                "; ".join(extra),
            ]
        )
    print_table(["step", "wall s", "largest process", "notes"], rows)
    processes = [
        [
            m["run"] + (f" #{m['repeat']}" if "repeat" in m else ""),
            p["program"],
            p["pid"],
            mib(p["peak_rss_kib"]),
            "yes" if p["peak_rss_kib"] < MEMORY_LIMIT_KIB else "NO",
        ]
        for m in ctx.measurements
        for p in m.get("processes", [])
    ]
    if processes:
        print(f"\npeak RSS of every process (VmHWM, sampled every {ctx.args.sample_ms:g} ms)")
        print_table(["step", "process", "pid", "peak RSS", "< 1 GB"], processes)


def _print_large(ctx: Context, results: dict[str, Any]) -> None:
    summary = results["summary"]
    _print_steps(ctx, f"large-district: {summary['users']:,} users, {summary['records']:,} records")
    el, floor = summary["extract+load"], summary["floor"]
    print(
        f"\nextract+load best {el['wall_best']:.2f} s, floor best {floor['wall_best']:.2f} s: "
        f"{summary['ratio_el_over_floor_best']:.2f}x (median "
        f"{summary['ratio_el_over_floor_median']:.2f}x; goal <= {GOAL_TAP_OVER_FLOOR_LARGE}x)"
    )
    print(
        f"largest process: {mib(summary['largest_process_kib'])}; every process under 1 GB: "
        f"{'yes' if summary['every_process_under_1_gb'] else 'NO'}"
    )


# --- scenario incremental-dbt ----------------------------------------------------------------


def incremental_dbt(ctx: Context, scenario: Scenario) -> dict[str, Any]:
    args = ctx.args
    results: dict[str, Any] = {}
    with sandbox_for(ctx, scenario.districts, scenario.users) as (sandbox, expected, info):
        results["sandbox"] = info
        database = ctx.workdir / "tap-clever.duckdb"
        after_changes = ctx.workdir / "after-changes.duckdb"
        incremental_result = ctx.workdir / "incremental-result.duckdb"
        env = meltano_env(ctx, sandbox, database)
        warm_up_meltano(env)
        _say("meltano run --full-refresh tap-clever target-duckdb (the warehouse) ...")
        result = full_load(ctx, "extract+load (full)", database, expected, env=env)
        _say(f"    {result['wall_seconds']:.2f} s")
        _say("dbt parse (warm-up), then the first dbt build ...")
        dbt_step(ctx, "dbt parse (warm-up)", "parse", env=env)
        result = dbt_step(ctx, "dbt build (first)", "build", env=env)
        _say(f"    first dbt build: {result['wall_seconds']:.2f} s")

        changes = sandbox.control("/changes", {"random": args.changes, "seed": args.changes_seed})
        events = int(changes["count"])
        _say(f"{args.changes} changes in the sandbox: {events} events")
        result = meltano(
            ctx, "extract+load (events)", "run", "tap-clever", "target-duckdb", env=env
        )
        _say(f"    {result['wall_seconds']:.2f} s")
        # The sandbox started with no events: every event in the raw table is one of the changes.
        counts = table_counts(database, RAW_SCHEMA, ["events"])
        result["counts"] = counts
        ctx.check(counts["events"] == events, f"raw events {counts['events']} != {events} made")
        results["changes"] = {"random_changes": args.changes, "events": events}

        copy_database(database, after_changes)
        for n in range(1, args.repeat + 1):
            for name, extra in (
                ("dbt build (incremental)", ()),
                ("dbt build --full-refresh", ("--full-refresh",)),
            ):
                # The same file path for both, so dbt's partial-parse cache stays valid.
                copy_database(after_changes, database)
                _say(f"[{n}/{args.repeat}] {name} ...")
                result = dbt_step(ctx, name, "build", *extra, env=env)
                result["repeat"] = n
                _say(f"    {result['wall_seconds']:.2f} s")
                if name.endswith("(incremental)"):
                    copy_database(database, incremental_result)
        # Both builds of the same data must give the same tables.
        incremental, full = mart_counts(incremental_result), mart_counts(database)
        differ = {
            t: [incremental.get(t), full.get(t)]
            for t in set(incremental) | set(full)
            if incremental.get(t) != full.get(t)
        }
        results["mart_rows_incremental_vs_full"] = {"tables": len(full), "differ": differ}
        ctx.check(not differ, f"incremental and full builds differ (rows): {differ}")

    if not args.no_demo:
        results["demo"] = demo_dbt(ctx)
    results["summary"] = _summarize_incremental(ctx, results)
    return results


def demo_dbt(ctx: Context) -> dict[str, Any]:
    """The demo's warehouse (scripts/demo.sh: 2 districts of 5,000 users): its dbt build."""
    args = ctx.args
    with sandbox_for(ctx, args.demo_districts, args.demo_users, "demo sandbox") as (
        sandbox,
        expected,
        info,
    ):
        database = ctx.workdir / "demo.duckdb"
        loaded = ctx.workdir / "demo-loaded.duckdb"
        env = meltano_env(ctx, sandbox, database)
        warm_up_meltano(env)
        full_load(ctx, "demo: extract+load", database, expected, env=env)
        copy_database(database, loaded)
        dbt_step(ctx, "demo: dbt parse (warm-up)", "parse", env=env)
        for n in range(1, args.repeat + 1):
            copy_database(loaded, database)
            _say(f"[{n}/{args.repeat}] demo: dbt build ...")
            result = dbt_step(ctx, "demo: dbt build", "build", env=env)
            result["repeat"] = n
            _say(f"    {result['wall_seconds']:.2f} s")
    return {"sandbox": info}


def _stats(ctx: Context, run: str) -> dict[str, Any]:
    """Best and median wall of a measured run; medians of dbt's process lifetime and own time."""
    measured = [m for m in ctx.measurements if m["run"] == run and "repeat" in m]
    best, median = best_and_median([m["wall_seconds"] for m in measured])
    stats: dict[str, Any] = {"wall_best": best, "wall_median": median}
    for key in ("dbt_process_seconds", "dbt_reported_seconds"):
        values = [m[key] for m in measured if key in m]
        stats[f"{key}_median"] = statistics.median(values) if values else None
    return stats


def _summarize_incremental(ctx: Context, results: dict[str, Any]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for run in ("dbt build (incremental)", "dbt build --full-refresh", "demo: dbt build"):
        if _walls(ctx, run):
            summary[run] = _stats(ctx, run)
    inc, full = summary["dbt build (incremental)"], summary["dbt build --full-refresh"]
    for stat in ("best", "median"):
        summary[f"ratio_incremental_over_full_{stat}"] = inc[f"wall_{stat}"] / full[f"wall_{stat}"]
    if inc["dbt_reported_seconds_median"] and full["dbt_reported_seconds_median"]:
        summary["ratio_incremental_over_full_dbt_reported_median"] = (
            inc["dbt_reported_seconds_median"] / full["dbt_reported_seconds_median"]
        )
    # The goals are judged on the wall, `meltano invoke` included, as a user waits for it.
    summary["goal_incremental_met"] = (
        summary["ratio_incremental_over_full_median"] <= GOAL_INCREMENTAL_OVER_FULL
    )
    if "demo: dbt build" in summary:
        summary["goal_demo_met"] = (
            summary["demo: dbt build"]["wall_median"] <= GOAL_DEMO_DBT_SECONDS
        )
    summary["checks_passed"] = ctx.ok
    return summary


def _print_incremental(ctx: Context, results: dict[str, Any]) -> None:
    summary = results["summary"]
    _print_steps(
        ctx,
        f"incremental-dbt: {results['sandbox']['expected_counts']['users']:,} users, "
        f"{results['changes']['random_changes']} changes ({results['changes']['events']} events)",
    )
    print("\nmedians: `meltano invoke` wall / the dbt process / dbt's own `Finished ... in`")
    print_table(
        ["dbt build", "wall s", "dbt process s", "dbt's own s"],
        [
            [
                run,
                f"{stats['wall_median']:.2f}",
                _seconds(stats["dbt_process_seconds_median"]),
                _seconds(stats["dbt_reported_seconds_median"]),
            ]
            for run, stats in summary.items()
            if isinstance(stats, dict)
        ],
    )
    verdict = "met" if summary["goal_incremental_met"] else "NOT met"
    own = summary.get("ratio_incremental_over_full_dbt_reported_median")
    print(
        f"\nincremental / full rebuild: {summary['ratio_incremental_over_full_median']:.2f}x "
        f"(median walls; best {summary['ratio_incremental_over_full_best']:.2f}x"
        + (f"; dbt's own times {own:.2f}x" if own else "")
        + f"); goal <= {GOAL_INCREMENTAL_OVER_FULL}x: {verdict}"
    )
    if "goal_demo_met" in summary:
        demo = summary["demo: dbt build"]
        verdict = "met" if summary["goal_demo_met"] else "NOT met"
        print(
            f"the demo's dbt build: {demo['wall_median']:.2f} s (median wall; best "
            f"{demo['wall_best']:.2f} s); goal <= {GOAL_DEMO_DBT_SECONDS:g} s: {verdict}"
        )


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


# --- the command line ---------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n", 1)[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Scenarios:\n" + "\n".join(f"  {s.name}: {s.summary}" for s in SCENARIOS.values()),
    )
    parser.add_argument("--scenario", required=True, choices=list(SCENARIOS))
    parser.add_argument("--users", type=int, help="users per district (default per scenario)")
    parser.add_argument("--districts", type=int, help="districts (default per scenario)")
    parser.add_argument("--seed", type=int, default=42, help="the sandbox's seed")
    parser.add_argument("--repeat", type=int, default=1, help="measure N times; best and median")
    parser.add_argument(
        "--with-dbt",
        action="store_true",
        help="el-vs-dlt: also time `meltano run --full-refresh tap-clever target-duckdb "
        "dbt-duckdb:build` (the headline, against dlt's extract+load)",
    )
    parser.add_argument("--changes", type=int, default=20, help="incremental-dbt: random changes")
    parser.add_argument("--changes-seed", type=int, default=7)
    parser.add_argument("--demo-users", type=int, default=5000, help="incremental-dbt: the demo's")
    parser.add_argument("--demo-districts", type=int, default=2)
    parser.add_argument("--no-demo", action="store_true", help="incremental-dbt: skip the demo")
    parser.add_argument("--dlt-python", default=DLT_PYTHON, help="a Python that has dlt")
    parser.add_argument("--dlt-file-format", default="parquet", help="dlt's loader_file_format")
    parser.add_argument(
        "--dlt-parallelized", action="store_true", help="dlt extracts the streams in threads"
    )
    parser.add_argument(
        "--dlt-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="dlt configuration as environment, e.g. NORMALIZE__WORKERS=2 (repeatable)",
    )
    parser.add_argument("--page-size", type=int, default=10_000, help="`limit` of dlt and floor")
    parser.add_argument("--floor-threads", type=int, default=2, help="the floor's fetch threads")
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
    parser.add_argument("--output", type=Path, help="results file (default results/<scenario>)")
    parser.add_argument("--no-save", action="store_true", help="do not write the results file")
    return parser


def _versions(args: argparse.Namespace) -> dict[str, Any]:
    """Meltano and duckdb here; the packages of each plugin's virtual environment and dlt's."""
    found: dict[str, Any] = {}
    for package in ("meltano", "duckdb"):
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = None
    found["plugins"] = {
        python.parents[2].name: packages_of(python, PACKAGES, ("tap-", "target-", "dbt-"))
        for python in sorted(args.project.glob(".meltano/*/*/venv/bin/python"))
    }
    if args.scenario == "el-vs-dlt":
        found["dlt_venv"] = packages_of(args.dlt_python, PACKAGES)
    return found


def main() -> int:
    args = _parser().parse_args()
    scenario = SCENARIOS[args.scenario]
    scenario = Scenario(
        scenario.name,
        scenario.summary,
        args.districts or scenario.districts,
        args.users or scenario.users,
        scenario.goal,
    )
    if args.repeat < 1:
        sys.exit("--repeat must be at least 1")
    if not (args.project / "meltano.yml").exists():
        sys.exit(f"--project {args.project}: no meltano.yml there")
    if not (args.project / ".meltano").is_dir():
        sys.exit(f"{args.project / '.meltano'} is missing: run `.venv/bin/meltano install` first")
    if args.scenario == "el-vs-dlt" and not Path(args.dlt_python).exists():
        sys.exit(
            f"{args.dlt_python} is missing: make dlt's virtual environment as "
            "benchmarks/README.md says, or pass --dlt-python"
        )
    parameters = {
        "districts": scenario.districts,
        "users_per_district": scenario.users,
        "seed": args.seed,
        "repeat": args.repeat,
        "goal": scenario.goal,
        "page_size_dlt_and_floor": args.page_size,
        "floor_threads": args.floor_threads,
        "sample_ms": args.sample_ms,
        "project": str(args.project.resolve()),
    }
    if args.scenario == "el-vs-dlt":
        parameters.update(
            with_dbt=args.with_dbt,
            dlt_file_format=args.dlt_file_format,
            dlt_parallelized=args.dlt_parallelized,
            dlt_env=args.dlt_env,
        )
    if args.scenario == "incremental-dbt":
        parameters.update(
            changes=args.changes,
            changes_seed=args.changes_seed,
            demo=None if args.no_demo else [args.demo_districts, args.demo_users],
        )
    record = run_record(scenario.name, parameters)
    record["versions"].update(_versions(args))

    workdir = Path(tempfile.mkdtemp(prefix="tap-clever-warehouse-", dir=args.workdir))
    ctx = Context(args, workdir, args.project.resolve())
    _say(f"Work folder: {workdir}")
    run, show = {
        "el-vs-dlt": (el_vs_dlt, _print_el),
        "large-district": (large_district, _print_large),
        "incremental-dbt": (incremental_dbt, _print_incremental),
    }[scenario.name]
    started = time.perf_counter()
    results: dict[str, Any] = {}
    failure = None
    try:
        results = run(ctx, scenario)
    except (StepFailed, SandboxError) as exc:
        failure = str(exc)
        ctx.ok = False
    record.update(results)
    record["measurements"] = ctx.measurements
    record["benchmark_seconds"] = time.perf_counter() - started
    if failure is None:
        show(ctx, results)
    if ctx.ok:
        print("\nall checks passed: every raw table holds the sandbox's rows")
        if not args.no_save:
            path = save_results(record, args.output or RESULTS_DIR / f"{scenario.name}.json")
            print(f"results saved to {path}")
    else:
        # A failed run never replaces the results file: its record stays with its logs.
        save_results({**record, "failure": failure}, workdir / "results.json")
        print(f"\nFAILED ({failure or 'a check failed'}); logs and results.json kept in {workdir}")
        return 1
    if args.keep:
        print(f"work folder kept: {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
