"""The scheduled sync, one step per command: what .github/workflows/sync.yml runs, and what a
person or an orchestrator runs the same way.

    bash scripts/install.sh                   # .venv and the Meltano plugins
    .venv/bin/python scripts/sync.py run      # extract+load every district, then dbt build
    .venv/bin/python scripts/sync.py publish  # the marts as Parquet files in $SYNC_DIR/exports
    .venv/bin/python scripts/sync.py report   # the outcome; exits 1 naming what failed
    .venv/bin/python scripts/sync.py all      # run, publish, report

Everything a sync keeps between runs lives in SYNC_DIR (default .sync): `state/` (Meltano's
state backend, unless MELTANO_STATE_BACKEND_URI says otherwise) and `warehouse/clever.duckdb`
(unless CLEVER_DUCKDB_PATH does). Keep the two together: a bookmark is only true of the
warehouse it was written with. Each run also writes `logs/`, `exports/` and `outcome.json`.

`run` builds the marts even when a district failed, so the districts that synced are published;
`report` then fails the job, naming each failed district, the step and the cause.

Environment:
    MELTANO_ENVIRONMENT  the Meltano environment (default prod: the real Clever API)
    SYNC_DIR             the sync's folder (default .sync under the project)
    SYNC_EXCLUSIVE=1     set only where something else guarantees one sync at a time (the
                         workflow's concurrency group, an orchestrator's max_active_runs=1):
                         `meltano run --force`, so a run killed by a timeout (which Meltano
                         records as running for 5 more minutes) never blocks the next one
    SYNC_FULL_REFRESH=1  snapshot every district again (`meltano run --full-refresh`)
    GITHUB_STEP_SUMMARY  where `report` writes its Markdown (set by GitHub Actions)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
MELTANO = PROJECT_ROOT / ".venv" / "bin" / "meltano"
EXTRACT_LOAD = ("tap-clever", "target-duckdb")
DBT_BUILD = ("dbt-duckdb:build",)
# The tap's closing error when some districts failed, then one line per district:
# "- 'Name' (id): stream: cause".
FAILED_DISTRICTS_HEADER = re.compile(r"^\d+ district\(s\) failed; the others were synced:$")
FAILED_DISTRICT_LINE = re.compile(
    r"^- (?:'(?P<name>.*?)' )?\(?(?P<id>[0-9a-f]{24})\)?: (?P<rest>.*)$"
)
# How the tap's messages name a district: "District 'Name' (id): ...".
DISTRICT_LABEL = re.compile(r"^District (?:'(?P<name>.*?)' )?\(?(?P<id>[0-9a-f]{24})\)?: ")
# dbt's summary of what failed: the lines between "Completed with N error(s)" and "Done.".
DBT_ERRORS_START = re.compile(r"Completed with \d+ errors?")
DBT_DONE = re.compile(r"Done\. PASS=")
# The ANSI colours and the time stamp dbt puts before each line.
DBT_LINE_PREFIX = re.compile(r"^(\x1b\[[0-9;]*m)*\d\d:\d\d:\d\d(\s+|$)")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
MELTANO_SUMMARY_LINES = {
    "Extractor failed",
    "Loader failed",
    "Extractor and loader failed",
    "Block run completed",
}


@dataclass
class StepOutcome:
    """One `meltano run` of the sync: its exit code and what it said went wrong."""

    step: str
    exit_code: int
    seconds: float
    failures: list[dict[str, str]] = field(default_factory=list)


@dataclass
class SyncOutcome:
    steps: list[StepOutcome] = field(default_factory=list)
    exports: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(step.exit_code != 0 for step in self.steps)


# --- paths and environment ----------------------------------------------------------------------


def sync_dir() -> Path:
    return Path(os.environ.get("SYNC_DIR") or PROJECT_ROOT / ".sync").resolve()


def database_path() -> Path:
    return Path(os.environ.get("CLEVER_DUCKDB_PATH") or sync_dir() / "warehouse" / "clever.duckdb")


def meltano_env() -> dict[str, str]:
    """The environment of every meltano command: the caller's, with the sync's folder as
    Meltano's state backend and the warehouse, and unset secrets really unset."""
    env = {
        key: value
        for key, value in os.environ.items()
        # GitHub Actions passes a secret that is not defined as an empty string: to Meltano
        # that is a setting given as empty (an empty token list), not a setting left out.
        if value != "" or not key.startswith(("TAP_CLEVER_", "TARGET_DUCKDB_"))
    }
    state_dir = sync_dir() / "state"
    env.setdefault("MELTANO_STATE_BACKEND_URI", state_dir.as_uri())
    env["CLEVER_DUCKDB_PATH"] = str(database_path())
    env.setdefault("MELTANO_SEND_ANONYMOUS_USAGE_STATS", "false")
    env.setdefault("MELTANO_CLI_DISABLE_VERSION_CHECK", "true")
    env.setdefault("NO_COLOR", "1")
    return env


def meltano_environment() -> str:
    return os.environ.get("MELTANO_ENVIRONMENT") or "prod"


# --- run ----------------------------------------------------------------------------------------


def run_step(
    step: str,
    blocks: tuple[str, ...],
    log_path: Path,
    *,
    environment: str | None = None,
    run_options: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    echo: bool = True,
) -> StepOutcome:
    """`meltano run` one step with JSON logs: each line echoed readably (unless not `echo`), all
    kept in log_path. `environment`, `run_options` (more options of `meltano run`) and `env`
    (instead of meltano_env()) are for scripts/run_shards.py's shards."""
    options = ["--force"] if os.environ.get("SYNC_EXCLUSIVE") == "1" else []
    if os.environ.get("SYNC_FULL_REFRESH") == "1" and blocks == EXTRACT_LOAD:
        options.append("--full-refresh")
    command = [
        str(MELTANO),
        "--log-format=json",
        f"--environment={environment or meltano_environment()}",
        "run",
        *options,
        *run_options,
        *blocks,
    ]
    if echo:
        print(f"== {step}: meltano {' '.join(command[1:])}", flush=True)
    started = time.monotonic()
    plugin_lines: dict[str, list[str]] = {}
    meltano_errors: list[str] = []
    with (
        log_path.open("w", encoding="utf-8") as log,
        subprocess.Popen(  # noqa: S603 (a command of constants)
            command,
            cwd=PROJECT_ROOT,
            env=meltano_env() if env is None else env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
        ) as process,
    ):
        assert process.stdout is not None
        for line in process.stdout:
            log.write(line)
            plugin, text, level = readable(line)
            if plugin:
                plugin_lines.setdefault(plugin, []).append(text)
            elif level == "error":
                meltano_errors.append(text)
            if echo and text and not text.startswith("METRIC: "):
                print(f"{plugin} | {text}" if plugin else text, flush=True)
    outcome = StepOutcome(step, process.returncode, round(time.monotonic() - started, 1))
    if outcome.exit_code != 0:
        outcome.failures = failures_of(step, plugin_lines, meltano_errors)
    return outcome


def readable(line: str) -> tuple[str, str, str]:
    """(plugin, text, level) of one line of Meltano's JSON log; plugin is '' for Meltano's
    own lines, and its debug lines have no text."""
    try:
        entry = json.loads(line)
    except ValueError:
        entry = None
    if not isinstance(entry, dict):
        return "", line.rstrip("\n"), ""
    text = str(entry.get("event", "")).rstrip("\n")
    level = str(entry.get("level", ""))
    # A block's plugin is its string_id; a utility run as a command (dbt) has only a name.
    plugin = entry.get("string_id") or entry.get("name")
    if entry.get("stdio") == "stderr" and plugin:
        return str(plugin), text, level
    return "", "" if level == "debug" else text, level


def failures_of(
    step: str, plugin_lines: dict[str, list[str]], meltano_errors: list[str] | None = None
) -> list[dict[str, str]]:
    """What went wrong in a failed step, from its plugins' own words, or else Meltano's."""
    failures = failed_districts(plugin_lines.get("tap-clever", []))
    if failures:
        return failures
    for dbt in ("dbt-duckdb", "dbt-postgres"):
        errors = dbt_errors(plugin_lines.get(dbt, []))
        if errors:
            return [{"plugin": dbt, "cause": error} for error in errors]
    # Otherwise the last line each plugin wrote that is not a traceback's.
    found = []
    for plugin, lines in plugin_lines.items():
        cause = last_error_line(lines)
        district = DISTRICT_LABEL.match(cause)
        if district:  # a run of one district stops at its first error
            found.append(
                {
                    "plugin": plugin,
                    "district": district["id"],
                    "district_name": district["name"] or "",
                    "stream": "",
                    "cause": cause[district.end() :],
                }
            )
        elif cause:
            found.append({"plugin": plugin, "cause": cause})
    if found:
        return found
    # Meltano refused or stopped the run itself (its summary lines say only that a block failed).
    own = [line for line in meltano_errors or [] if line not in MELTANO_SUMMARY_LINES]
    if own:
        return [{"plugin": "meltano", "cause": " ".join(own)}]
    return [{"plugin": step, "cause": "failed without an error message; see the log"}]


def failed_districts(tap_lines: list[str]) -> list[dict[str, str]]:
    """The districts the tap names in its closing error, with the stream and the cause."""
    failures: list[dict[str, str]] = []
    in_block = False
    for line in tap_lines:
        if FAILED_DISTRICTS_HEADER.match(line):
            in_block, failures = True, []  # the message appears again in the traceback
            continue
        match = FAILED_DISTRICT_LINE.match(line) if in_block else None
        if match is None:
            in_block = False
            continue
        stream, _, cause = match["rest"].partition(": ")
        # The cause repeats the district's label: "District 'Name' (id): GET ... failed ...".
        cause = DISTRICT_LABEL.sub("", cause)
        failures.append(
            {
                "plugin": "tap-clever",
                "district": match["id"],
                "district_name": match["name"] or "",
                "stream": stream,
                "cause": cause,
            }
        )
    return failures


def dbt_errors(lines: list[str]) -> list[str]:
    """The error block of dbt's summary, one entry per failed node."""
    errors: list[str] = []
    in_block = False
    for raw in lines:
        line = DBT_LINE_PREFIX.sub("", ANSI.sub("", raw)).strip()
        if DBT_ERRORS_START.search(line):
            in_block = True
        elif DBT_DONE.search(line):
            in_block = False
        elif in_block and line:
            if re.match(r"^(Failure|Runtime Error|Database Error|Compilation Error)", line):
                errors.append(line)
            elif errors:
                errors[-1] += " " + line
    return errors


def last_error_line(lines: list[str]) -> str:
    for line in reversed(lines):
        text = line.strip()
        if not text or text.startswith(("METRIC: ", "File ", "^", "Traceback")):
            continue
        # "module.ErrorClass: message" at the end of a traceback: the message says it all.
        return re.sub(r"^[\w.]+(Error|Exception): ", "", text)
    return ""


def command_run(_: argparse.Namespace) -> int:
    directory = sync_dir()
    logs = directory / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    database_path().parent.mkdir(parents=True, exist_ok=True)
    outcome_path = directory / "outcome.json"
    # A run that does not get to the end (killed by a timeout) leaves no outcome behind: the
    # report says so instead of repeating the previous run's.
    outcome_path.unlink(missing_ok=True)
    if os.environ.get("SYNC_EXCLUSIVE") == "1":
        remove_credentials_left_by_killed_runs()
    outcome = SyncOutcome()
    outcome.steps.append(run_step("extract-load", EXTRACT_LOAD, logs / "extract-load.jsonl"))
    # The loader commits each district's data with its state, so whatever the extract-load
    # step's exit code, the warehouse holds a consistent set of districts: build the marts of
    # those that synced.
    if database_path().exists():
        outcome.steps.append(run_step("dbt build", DBT_BUILD, logs / "dbt-build.jsonl"))
    write_outcome(outcome)
    print(f"== run finished; outcome in {outcome_path}", flush=True)
    return 0


def remove_credentials_left_by_killed_runs() -> None:
    """Meltano writes each plugin's settings, credentials included, to a file in its run
    folder for the plugin to read, and deletes it when the plugin exits: a killed run leaves
    it behind. No other run is going on (SYNC_EXCLUSIVE), so every such file is a leftover."""
    system_dir = Path(os.environ.get("MELTANO_SYS_DIR_ROOT") or PROJECT_ROOT / ".meltano")
    for leftover in system_dir.glob("run/*/*.config.json"):
        leftover.unlink(missing_ok=True)
        print(f"== removed {leftover}, left by a killed run", flush=True)


def write_outcome(outcome: SyncOutcome) -> None:
    path = sync_dir() / "outcome.json"
    path.write_text(json.dumps(asdict(outcome), indent=2) + "\n", encoding="utf-8")


def read_outcome() -> SyncOutcome | None:
    path = sync_dir() / "outcome.json"
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return SyncOutcome(
        steps=[StepOutcome(**step) for step in data.get("steps", [])],
        exports=list(data.get("exports", [])),
    )


# --- publish ------------------------------------------------------------------------------------


def command_publish(_: argparse.Namespace) -> int:
    """Every mart as a Parquet file in $SYNC_DIR/exports, replaced as a whole."""
    database = database_path()
    if not database.exists():
        print(f"No warehouse at {database}: nothing to publish.", file=sys.stderr)
        return 0
    # The project's DuckDB (pyproject.toml pins the one every plugin uses), imported here:
    # `run` and `report` need none.
    import duckdb
    from warehouse_summary import MARTS_SCHEMA, tables_in

    exports = sync_dir() / "exports"
    staging = exports.with_name("exports.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with duckdb.connect(str(database), read_only=True) as connection:
        tables = tables_in(connection, MARTS_SCHEMA)
        for table in tables:
            target = staging / f"{table}.parquet"
            connection.execute(
                f'copy (from "{MARTS_SCHEMA}"."{table}") to \'{target}\' (format parquet)'
            )
    # Swap the folder whole: a failed export never leaves a mix of old and new files.
    old = exports.with_name("exports.old")
    shutil.rmtree(old, ignore_errors=True)
    if exports.exists():
        exports.rename(old)
    staging.rename(exports)
    shutil.rmtree(old, ignore_errors=True)
    print(f"== published {len(tables)} marts to {exports}")
    outcome = read_outcome()
    if outcome is not None:
        outcome.exports = tables
        write_outcome(outcome)
    return 0


# --- report -------------------------------------------------------------------------------------


def report_markdown(outcome: SyncOutcome | None) -> str:
    if outcome is None:
        return (
            "## Clever sync: did not finish\n\n"
            "`scripts/sync.py run` left no outcome: it was stopped (for example by the step's "
            "timeout) or failed to start. The state and the warehouse kept are those of the "
            "last commit; the next run carries on from there.\n"
        )
    failures = [(step, failure) for step in outcome.steps for failure in step.failures]
    districts = {failure["district"] for _, failure in failures if failure.get("district")}
    if not outcome.failed:
        title = "## Clever sync: succeeded"
    elif districts:
        title = f"## Clever sync: {len(districts)} district(s) failed"
    else:
        title = "## Clever sync: failed"
    lines = [title, "", "| Step | Exit code | Seconds |", "| --- | --- | --- |"]
    lines += [f"| {step.step} | {step.exit_code} | {step.seconds} |" for step in outcome.steps]
    if failures:
        lines += ["", "| Failed | Step | Cause |", "| --- | --- | --- |"]
        for step, failure in failures:
            if failure.get("district"):
                name = failure.get("district_name")
                district = failure["district"]
                what = f"district '{name}' ({district})" if name else f"district {district}"
                where = f"{step.step}, stream {failure['stream']}"
            else:
                what, where = failure["plugin"], step.step
            lines.append(f"| {what} | {where} | {markdown_cell(failure['cause'])} |")
    if districts:
        lines += [
            "",
            "The other districts synced, and the marts were built and published with them. "
            "The failed districts' bookmarks did not move: the next run catches them up.",
        ]
    if outcome.exports:
        lines += ["", f"Published {len(outcome.exports)} marts as Parquet files."]
    return "\n".join(lines) + "\n"


def markdown_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def command_report(_: argparse.Namespace) -> int:
    outcome = read_outcome()
    markdown = report_markdown(outcome)
    print(markdown)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with Path(summary).open("a", encoding="utf-8") as file:
            file.write(markdown)
    return 1 if outcome is None or outcome.failed else 0


def command_all(args: argparse.Namespace) -> int:
    command_run(args)
    command_publish(args)
    return command_report(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, handler, help_text in [
        ("run", command_run, "extract+load every district, then dbt build"),
        ("publish", command_publish, "export every mart to Parquet in $SYNC_DIR/exports"),
        ("report", command_report, "summarise the run; exit 1 if anything failed"),
        ("all", command_all, "run, publish and report"),
    ]:
        commands.add_parser(name, help=help_text).set_defaults(handler=handler)
    args = parser.parse_args(argv)
    # Student data: the warehouse, its exports and the logs are for their owner's eyes only
    # (the loader and dbt inherit this).
    os.umask(0o077)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
