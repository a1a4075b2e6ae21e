"""The sync into the PostgreSQL warehouse, split into shards of districts that run at once, then
dbt once: what .github/workflows/sync-sharded.yml runs, and what an orchestrator runs the same
way (docs/orchestrators.md).

    .venv/bin/python scripts/run_shards.py --shards 4                        # 4 at once, then dbt
    .venv/bin/python scripts/run_shards.py --shards 4 --only 2 --skip-dbt    # shard 2 of 4 only
    .venv/bin/python scripts/run_shards.py --shards 4 --dbt-only             # dbt, after them all

Shard i of n is `meltano --environment=postgres run --state-id-suffix shard-i-of-n tap-clever
target-postgres` with district_shard i/n: the districts whose id hashes to i, under a state id
of its own. The marts are built once, after every shard, even when one failed: the districts
that synced reach the marts, and the failed ones' bookmarks did not move, so their next run
catches them up. Prints one line per shard and one for dbt, each failure's district, stream
and cause under it; exits 1 if anything failed.

Where things live:
  - Meltano's system database, and with it every shard's state, is the schema `meltano` of the
    warehouse itself (MELTANO_DATABASE_URI, MELTANO_STATE_BACKEND_URI override it): a
    bookmark is only true of the warehouse it was written with, and every shard reaches it,
    from any machine.
  - Each shard runs with a Meltano run folder of its own (MELTANO_SYS_DIR_ROOT, under
    --work-dir, the plugins' venvs linked from .meltano/): Meltano writes each plugin's
    settings (tokens included), the state it hands the tap and the catalog under
    run/<plugin>/, and deletes them when the plugin exits, so runs sharing it delete each
    other's files. The folder also keeps each shard's log and outcome.json, which
    `--dbt-only` adds to its report.

Environment:
    CLEVER_POSTGRES_HOST (required), _PORT (5432), _USER (clever), _DATABASE (clever) and
    _PASSWORD: the warehouse, as the loader and dbt read it (meltano.yml)
    TAP_CLEVER_*         Clever's credentials and the tap's settings, as for scripts/sync.py
    SYNC_EXCLUSIVE=1     as for scripts/sync.py: `meltano run --force`, and the credentials
                         files a killed run left in the shards' run folders removed
    SYNC_FULL_REFRESH=1  as --full-refresh
    GITHUB_STEP_SUMMARY  where the report also goes, as Markdown (set by GitHub Actions)
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import quote

import sync

if TYPE_CHECKING:
    import psycopg

PROJECT_ROOT = sync.PROJECT_ROOT
ENVIRONMENT = "postgres"
EXTRACT_LOAD = ("tap-clever", "target-postgres")
DBT_BUILD = ("dbt-postgres:build",)
#: The schema of Meltano's system database (runs and state) in the warehouse.
MELTANO_SCHEMA = "meltano"
#: The loader's schema (meltano.yml, target-postgres's default_target_schema).
RAW_SCHEMA = "raw_clever"
#: pg_advisory_lock key held while the warehouse is set up for Meltano, so that shards starting
#: at once (on one machine or many) create Meltano's schema and tables once.
SETUP_LOCK = 0x436C657665725348  # "CleverSH"
DEFAULT_WORK_DIR = PROJECT_ROOT / ".shards"
PLUGIN_KINDS = ("extractors", "loaders", "utilities")
# "Shard 2/4 (district_shard): 3 of the 11 district(s) found."
SHARD_DISTRICTS = re.compile(r"Shard (\d+)/(\d+) \(district_shard\): (\d+) of the (\d+) district")
# Two shards creating the same raw table or column at once (the first run on a new warehouse,
# or a new column): target-postgres checks, then creates, and PostgreSQL refuses the second
# before it loaded anything of that stream. The shard runs again, once.
CREATION_RACE = re.compile(
    r'(relation|column|schema|type) "[^"]+"( of relation "[^"]+")? already exists|'
    r'duplicate key value violates unique constraint "pg_\w+_index"'
)


class UsageError(Exception):
    """Bad input: said in one line, before anything runs."""


@dataclass(frozen=True)
class Warehouse:
    """The PostgreSQL warehouse, from the CLEVER_POSTGRES_* variables the loader and dbt read."""

    host: str
    port: int
    user: str
    database: str
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: dict[str, str]) -> Warehouse:
        host = env.get("CLEVER_POSTGRES_HOST", "")
        if not host:
            raise UsageError(
                "CLEVER_POSTGRES_HOST is not set: the PostgreSQL warehouse's host (with "
                "CLEVER_POSTGRES_PORT, _USER, _DATABASE and _PASSWORD)"
            )
        port = env.get("CLEVER_POSTGRES_PORT") or "5432"
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise UsageError(f"CLEVER_POSTGRES_PORT is {port!r}: set it to a port number")
        return cls(
            host=host,
            port=int(port),
            user=env.get("CLEVER_POSTGRES_USER") or "clever",
            database=env.get("CLEVER_POSTGRES_DATABASE") or "clever",
            password=env.get("CLEVER_POSTGRES_PASSWORD") or None,
        )

    def __str__(self) -> str:
        return f"{self.user}@{self.host}:{self.port}/{self.database}"

    @property
    def meltano_uri(self) -> str:
        """Meltano's system database: the schema MELTANO_SCHEMA of the warehouse. No password:
        libpq takes it from PGPASSWORD, so the URI can be shown."""
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 address
        return (
            f"postgresql+psycopg://{quote(self.user, safe='')}@{host}:{self.port}/"
            f"{quote(self.database, safe='')}?options=-csearch_path%3D{MELTANO_SCHEMA}"
        )

    def connect(self) -> psycopg.Connection[Any]:
        import psycopg

        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            dbname=self.database,
            password=self.password,
            connect_timeout=20,
            application_name="run_shards",
            autocommit=True,
        )


@dataclass
class ShardResult:
    """One shard's run: its `meltano run`, and how many districts it took of those found."""

    index: int
    count: int
    outcome: sync.StepOutcome
    districts: int | None = None
    found: int | None = None

    @property
    def name(self) -> str:
        return f"shard {self.index}/{self.count}"

    @property
    def ok(self) -> bool:
        return self.outcome.exit_code == 0


# --- command line -------------------------------------------------------------------------------


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """Bad arguments in one line (argparse prints the whole usage first)."""
        self.exit(2, f"run_shards.py: {message} (see --help)\n")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = Parser(
        description="Shards of the sync into PostgreSQL at once, then dbt once.",
        epilog="See the module's docstring (scripts/run_shards.py) for the environment.",
    )
    parser.add_argument("--shards", type=int, required=True, metavar="N", help="shard count")
    parser.add_argument("--only", type=int, metavar="I", help="run only shard I of N")
    parser.add_argument("--skip-dbt", action="store_true", help="no dbt build after the shards")
    parser.add_argument(
        "--dbt-only", action="store_true", help="only dbt build (after every shard ran)"
    )
    parser.add_argument(
        "--full-refresh",
        action="store_true",
        help="ignore the shards' state: snapshot every district again (SYNC_FULL_REFRESH=1)",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=DEFAULT_WORK_DIR,
        metavar="DIR",
        help="the shards' Meltano run folders, logs and outcomes (default .shards/)",
    )
    args = parser.parse_args(argv)
    if args.shards < 1:
        parser.error(f"--shards must be at least 1, not {args.shards}")
    if args.only is not None and not 1 <= args.only <= args.shards:
        parser.error(f"--only {args.only} is not a shard of {args.shards} (1 to {args.shards})")
    if args.dbt_only and (args.only is not None or args.skip_dbt or args.full_refresh):
        parser.error("--dbt-only runs no shard: drop --only, --skip-dbt and --full-refresh")
    return args


# --- environment --------------------------------------------------------------------------------


def base_env() -> dict[str, str]:
    """sync.meltano_env() for the PostgreSQL pipeline: the state in Meltano's system database
    (unless the caller chose a backend), and unset secrets really unset."""
    env = {
        key: value
        for key, value in sync.meltano_env().items()
        # GitHub Actions passes an undefined secret as "": a setting given empty to Meltano.
        if value != "" or not key.startswith("CLEVER_POSTGRES_")
    }
    env.pop("CLEVER_DUCKDB_PATH", None)
    # The postgres environment sends RECORD messages only: target-postgres takes no batch files.
    env.pop("TAP_CLEVER_BATCH_CONFIG", None)
    env["MELTANO_STATE_BACKEND_URI"] = os.environ.get("MELTANO_STATE_BACKEND_URI") or "systemdb"
    return env


def uses_own_system_database() -> bool:
    return not os.environ.get("MELTANO_DATABASE_URI")


def meltano_env_for(base: dict[str, str], warehouse: Warehouse, run_dir: Path) -> dict[str, str]:
    """The environment of one meltano command with its own run folder `run_dir`."""
    env = dict(base)
    env["MELTANO_SYS_DIR_ROOT"] = str(private_system_dir(run_dir))
    if uses_own_system_database():
        env["MELTANO_DATABASE_URI"] = warehouse.meltano_uri
        if warehouse.password:
            env["PGPASSWORD"] = warehouse.password
    # dbt's artifacts and logs: not transform/, which another dbt run may be using.
    env.setdefault("DBT_TARGET_PATH", str(run_dir.parent / "dbt" / "target"))
    env.setdefault("DBT_LOG_PATH", str(run_dir.parent / "dbt" / "logs"))
    return env


def private_system_dir(run_dir: Path) -> Path:
    """A Meltano system folder of one shard's own (MELTANO_SYS_DIR_ROOT): run/ and logs/ its
    own, the plugins' venvs linked from the project's (`meltano install`)."""
    installed = Path(os.environ.get("MELTANO_SYS_DIR_ROOT") or PROJECT_ROOT / ".meltano")
    system_dir = run_dir / "meltano"
    system_dir.mkdir(parents=True, exist_ok=True)
    for kind in PLUGIN_KINDS:
        link = system_dir / kind
        target = (installed / kind).resolve()
        if link.is_symlink() and link.resolve() != target:
            link.unlink()
        if not link.is_symlink():
            with contextlib.suppress(FileExistsError):  # made by another run at once
                link.symlink_to(target, target_is_directory=True)
    return system_dir


def remove_credentials_left_by_killed_runs(run_dir: Path) -> None:
    """As sync.remove_credentials_left_by_killed_runs, in one shard's own run folder."""
    for leftover in (run_dir / "meltano").glob("run/*/*.config.json"):
        leftover.unlink(missing_ok=True)
        print(f"== removed {leftover}, left by a killed run", flush=True)


def shard_dir(work_dir: Path, index: int, count: int) -> Path:
    return work_dir / f"shard-{index}-of-{count}"


# --- setup --------------------------------------------------------------------------------------


def prepare_warehouse(warehouse: Warehouse, base: dict[str, str], work_dir: Path) -> None:
    """Meltano's schema and tables in the warehouse, and the loader's schema, created once:
    under an advisory lock, since shards (here, or other machines' jobs) start at once and
    neither `create schema if not exists` nor Meltano's migrations are safe run concurrently.

    Raises UsageError when the warehouse cannot be reached."""
    import psycopg
    import psycopg.sql

    try:
        connection = warehouse.connect()
    except psycopg.Error as error:
        message = str(error).strip()
        first_line = message.splitlines()[0] if message else type(error).__name__
        raise UsageError(f"cannot connect to PostgreSQL as {warehouse}: {first_line}") from None
    work_dir.mkdir(parents=True, exist_ok=True)
    with connection:
        connection.execute("select pg_advisory_lock(%s)", [SETUP_LOCK])
        try:
            for schema in ([MELTANO_SCHEMA] if uses_own_system_database() else []) + [raw_schema()]:
                connection.execute(
                    psycopg.sql.SQL("create schema if not exists {}").format(
                        psycopg.sql.Identifier(schema)
                    )
                )
            if uses_own_system_database() and system_database_is_current(connection):
                return
            # Any meltano command brings the system database up to date (its migrations).
            run_dir = work_dir / "setup"
            result = subprocess.run(  # noqa: S603 (a command of constants)
                [str(sync.MELTANO), f"--environment={ENVIRONMENT}", "state", "list"],
                cwd=PROJECT_ROOT,
                env=meltano_env_for(base, warehouse, run_dir),
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                lines = [line for line in result.stderr.splitlines() if line.strip()]
                raise UsageError(
                    "Meltano could not set up its system database "
                    f"({MELTANO_SCHEMA} schema of {warehouse}): "
                    + (lines[-1] if lines else f"exit code {result.returncode}")
                )
        finally:
            connection.execute("select pg_advisory_unlock(%s)", [SETUP_LOCK])


def system_database_is_current(connection: psycopg.Connection[Any]) -> bool:
    """Whether Meltano's tables in the warehouse are at the revision of the installed Meltano
    (its migrations' lock file), so that no meltano command need bring them up to date."""
    import psycopg

    spec = importlib.util.find_spec("meltano")
    locations = list(spec.submodule_search_locations or []) if spec else []
    lock = Path(locations[0]) / "migrations" / "db.lock" if locations else None
    if lock is None or not lock.is_file():
        return False
    try:
        row = connection.execute(
            f"select version_num from {MELTANO_SCHEMA}.alembic_version"  # noqa: S608
        ).fetchone()
    except psycopg.Error:  # not created yet
        return False
    return row is not None and row[0] == lock.read_text(encoding="utf-8").strip()


def raw_schema() -> str:
    """The loader's schema: meltano.yml's, unless its setting is overridden."""
    return os.environ.get("TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA") or RAW_SCHEMA


def raw_tables_exist(warehouse: Warehouse) -> bool:
    with warehouse.connect() as connection:
        found = connection.execute(
            "select count(*) from information_schema.tables where table_schema = %s",
            [raw_schema()],
        ).fetchone()
    return bool(found and found[0])


# --- run ----------------------------------------------------------------------------------------


def run_shard(
    index: int,
    count: int,
    *,
    warehouse: Warehouse,
    base: dict[str, str],
    work_dir: Path,
    full_refresh: bool,
    echo: bool,
) -> ShardResult:
    """`meltano run` shard `index` of `count`, in its own run folder; its outcome kept there."""
    run_dir = shard_dir(work_dir, index, count)
    run_dir.mkdir(parents=True, exist_ok=True)
    outcome_path = run_dir / "outcome.json"
    outcome_path.unlink(missing_ok=True)
    if os.environ.get("SYNC_EXCLUSIVE") == "1":
        remove_credentials_left_by_killed_runs(run_dir)
    env = meltano_env_for(base, warehouse, run_dir)
    env["TAP_CLEVER_DISTRICT_SHARD"] = f"{index}/{count}"
    options: tuple[str, ...] = ("--state-id-suffix", f"shard-{index}-of-{count}")
    if full_refresh:
        options += ("--full-refresh",)
    log_path = run_dir / "extract-load.jsonl"
    for attempt in (1, 2):
        outcome = sync.run_step(
            f"shard {index}/{count}",
            EXTRACT_LOAD,
            log_path,
            environment=ENVIRONMENT,
            run_options=options,
            env=env,
            echo=echo,
        )
        if outcome.exit_code == 0 or attempt == 2 or not lost_creation_race(log_path):
            break
        log_path.rename(log_path.with_suffix(".attempt-1.jsonl"))
        print(
            f"== shard {index}/{count}: another shard created the same table at once; "
            "running it again",
            flush=True,
        )
    result = ShardResult(index, count, outcome, *districts_in_log(log_path))
    outcome_path.write_text(json.dumps(asdict(result), indent=2) + "\n", encoding="utf-8")
    return result


def districts_in_log(log_path: Path) -> tuple[int | None, int | None]:
    """(districts the shard took, districts found), from the tap's line in the shard's log."""
    if not log_path.exists():
        return None, None
    with log_path.open(encoding="utf-8", errors="replace") as log:
        for line in log:
            plugin, text, _ = sync.readable(line)
            match = SHARD_DISTRICTS.search(text) if plugin == "tap-clever" else None
            if match:
                return int(match[3]), int(match[4])
    return None, None


def lost_creation_race(log_path: Path) -> bool:
    """Whether the loader failed because another shard created the same table at once."""
    with log_path.open(encoding="utf-8", errors="replace") as log:
        for line in log:
            plugin, text, _ = sync.readable(line)
            if plugin == "target-postgres" and CREATION_RACE.search(text):
                return True
    return False


def read_shard_result(path: Path) -> ShardResult | None:
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return ShardResult(
        index=int(data["index"]),
        count=int(data["count"]),
        outcome=sync.StepOutcome(**data["outcome"]),
        districts=data.get("districts"),
        found=data.get("found"),
    )


def run_dbt(warehouse: Warehouse, base: dict[str, str], work_dir: Path) -> sync.StepOutcome | None:
    """`meltano run dbt-postgres:build` once; None when no shard ever loaded a raw table."""
    if not raw_tables_exist(warehouse):
        return None
    run_dir = work_dir / "dbt"
    run_dir.mkdir(parents=True, exist_ok=True)
    if os.environ.get("SYNC_EXCLUSIVE") == "1":
        remove_credentials_left_by_killed_runs(run_dir)
    return sync.run_step(
        "dbt build",
        DBT_BUILD,
        run_dir / "dbt-build.jsonl",
        environment=ENVIRONMENT,
        env=meltano_env_for(base, warehouse, run_dir),
    )


# --- report -------------------------------------------------------------------------------------


def failure_line(failure: dict[str, str]) -> str:
    """One failure of a step: the district, the stream and the cause, or the plugin's cause."""
    if failure.get("district"):
        name = failure.get("district_name")
        district = failure["district"]
        what = f"district '{name}' ({district})" if name else f"district {district}"
        if failure.get("stream"):
            what += f", stream {failure['stream']}"
        return f"{what}: {failure['cause']}"
    return f"{failure.get('plugin', 'meltano')}: {failure['cause']}"


def shard_line(result: ShardResult) -> str:
    state = "ok" if result.ok else f"failed (exit code {result.outcome.exit_code})"
    if result.districts is None:
        districts = "districts unknown"
    else:
        districts = f"{result.districts} of {result.found} districts"
    return f"{result.name}: {state}, {result.outcome.seconds} s, {districts}"


def dbt_line(outcome: sync.StepOutcome | None) -> str:
    if outcome is None:
        return "dbt build: skipped, no raw table in the warehouse yet"
    state = "ok" if outcome.exit_code == 0 else f"failed (exit code {outcome.exit_code})"
    return f"dbt build: {state}, {outcome.seconds} s"


def report_lines(
    results: list[ShardResult],
    dbt: sync.StepOutcome | None,
    *,
    dbt_ran: bool,
    missing: list[int] | None = None,
) -> list[str]:
    lines = []
    for result in results:
        lines.append(shard_line(result))
        lines += [f"    {failure_line(failure)}" for failure in result.outcome.failures]
    if missing:
        shards = ", ".join(str(index) for index in missing)
        lines.append(f"no outcome here of shard(s) {shards}: see their own runs")
    if dbt_ran:
        lines.append(dbt_line(dbt))
        if dbt is not None:
            lines += [f"    {failure_line(failure)}" for failure in dbt.failures]
    failed = [result.name for result in results if not result.ok]
    if dbt is not None and dbt.exit_code != 0:
        failed.append("dbt build")
    lines.append(f"FAILED: {', '.join(failed)}" if failed else "all ok")
    return lines


def report_markdown(
    results: list[ShardResult], dbt: sync.StepOutcome | None, *, dbt_ran: bool
) -> str:
    failed = [result for result in results if not result.ok]
    dbt_failed = dbt is not None and dbt.exit_code != 0
    title = "succeeded" if not failed and not dbt_failed else "failed"
    lines = [
        f"## Clever sync into PostgreSQL: {title}",
        "",
        "| Step | Result | Seconds | Districts |",
        "| --- | --- | --- | --- |",
    ]
    for result in results:
        districts = "" if result.districts is None else f"{result.districts} of {result.found}"
        state = "ok" if result.ok else f"failed ({result.outcome.exit_code})"
        lines.append(f"| {result.name} | {state} | {result.outcome.seconds} | {districts} |")
    if dbt_ran:
        if dbt is None:
            lines.append("| dbt build | skipped: no raw table yet | | |")
        else:
            state = "ok" if dbt.exit_code == 0 else f"failed ({dbt.exit_code})"
            lines.append(f"| dbt build | {state} | {dbt.seconds} | |")
    failures = [(r.name, f) for r in results for f in r.outcome.failures]
    failures += [("dbt build", f) for f in (dbt.failures if dbt else [])]
    if failures:
        lines += ["", "| Step | Failure |", "| --- | --- |"]
        lines += [f"| {step} | {sync.markdown_cell(failure_line(f))} |" for step, f in failures]
    if failed:
        lines += [
            "",
            "The failed shards' bookmarks did not move (nor those of a failed district): their "
            "next run catches them up. The other districts reached the marts.",
        ]
    return "\n".join(lines) + "\n"


def report(
    results: list[ShardResult],
    dbt: sync.StepOutcome | None,
    *,
    dbt_ran: bool,
    missing: list[int] | None = None,
) -> int:
    for line in report_lines(results, dbt, dbt_ran=dbt_ran, missing=missing):
        print(line, flush=True)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with Path(summary).open("a", encoding="utf-8") as file:
            file.write(report_markdown(results, dbt, dbt_ran=dbt_ran))
    failed = any(not result.ok for result in results) or (dbt is not None and dbt.exit_code != 0)
    return 1 if failed else 0


# --- main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Student data: the logs are for their owner's eyes only (the plugins inherit this).
    os.umask(0o077)
    try:
        base = base_env()
        warehouse = Warehouse.from_env(base)
        if not (PROJECT_ROOT / ".meltano" / "extractors").is_dir() and not os.environ.get(
            "MELTANO_SYS_DIR_ROOT"
        ):
            raise UsageError("the Meltano plugins are not installed: run bash scripts/install.sh")
        work_dir = args.work_dir.resolve()
        prepare_warehouse(warehouse, base, work_dir)
    except UsageError as error:
        print(f"run_shards.py: {error}", file=sys.stderr)
        return 2
    full_refresh = args.full_refresh or os.environ.get("SYNC_FULL_REFRESH") == "1"
    count = args.shards

    results: list[ShardResult] = []
    missing: list[int] = []
    if args.dbt_only:
        # What the shards' own runs left here (an Actions job downloads their outcomes).
        for index in range(1, count + 1):
            found = read_shard_result(shard_dir(work_dir, index, count) / "outcome.json")
            if found is None:
                missing.append(index)
            else:
                results.append(found)
        if len(missing) == count:
            missing = []  # an orchestrator's dbt task: the shards report themselves
    else:
        indexes = [args.only] if args.only is not None else list(range(1, count + 1))
        one_at_a_time = len(indexes) == 1
        started = time.monotonic()
        shards = ", ".join(str(index) for index in indexes)
        print(
            f"== shard(s) {shards} of {count} into PostgreSQL {warehouse}"
            f"{', at once' if len(indexes) > 1 else ''}; logs in {work_dir}",
            flush=True,
        )
        with ThreadPoolExecutor(max_workers=len(indexes)) as pool:
            futures = [
                pool.submit(
                    run_shard,
                    index,
                    count,
                    warehouse=warehouse,
                    base=base,
                    work_dir=work_dir,
                    full_refresh=full_refresh,
                    # One shard's lines as they come; several shards' would interleave.
                    echo=one_at_a_time,
                )
                for index in indexes
            ]
            results = [future.result() for future in futures]
        print(f"== shards finished in {time.monotonic() - started:.1f} s", flush=True)

    dbt: sync.StepOutcome | None = None
    dbt_ran = not args.skip_dbt
    if dbt_ran:
        # Even after a failed shard: each district's data was committed with its state, so the
        # warehouse holds a consistent set of districts.
        dbt = run_dbt(warehouse, base, work_dir)
    return report(results, dbt, dbt_ran=dbt_ran, missing=missing)


if __name__ == "__main__":
    sys.exit(main())
