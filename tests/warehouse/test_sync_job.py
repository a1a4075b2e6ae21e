"""The scheduled sync's command sequence, as .github/workflows/sync.yml runs it, against a sandbox.

Each run is a fresh runner: a new folder and a new Meltano system database, with only what the
workflow's cache restores (the state and the warehouse). Steps in order (pytest runs a module's
tests in file order): a first run; changes, and a second run that must read only events; a run
in which one district's token is revoked; a run killed mid-way on a kept runner, then rerun.
"""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from . import secret_scan
from .conftest import REPO_ROOT, pipeline_env, run_and_kill

duckdb = pytest.importorskip("duckdb", reason="duckdb is not installed: pip install -e '.[dev]'")
clever_sandbox = pytest.importorskip("clever_sandbox")

from .marts_vs_sandbox import assert_marts_equal_sandbox, expected_marts  # noqa: E402

PYTHON = str(Path(sys.executable))
SYNC = str(REPO_ROOT / "scripts" / "sync.py")
STATE_ID = "sandbox:tap-clever-to-target-duckdb"
KEPT = ("state", "warehouse")  # what the workflow's cache saves and restores


@dataclass
class Runner:
    """One run of the workflow: its folder, its environment, and what each step printed."""

    root: Path
    env: dict[str, str]

    @property
    def sync_dir(self) -> Path:
        return self.root / ".sync"

    @property
    def database(self) -> Path:
        return self.sync_dir / "warehouse" / "clever.duckdb"

    def step(self, *command: str, timeout: float = 600) -> subprocess.CompletedProcess:
        result = subprocess.run(
            list(command),
            cwd=REPO_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        (self.root / "steps.log").open("a").write(result.stdout + result.stderr)
        return result

    def sync(self, command: str) -> subprocess.CompletedProcess:
        return self.step(PYTHON, SYNC, command)

    def log(self, step: str) -> str:
        path = self.sync_dir / "logs" / f"{step}.jsonl"
        lines = (json.loads(line) for line in path.read_text().splitlines() if line.strip())
        return "\n".join(str(line.get("event", "")) for line in lines)

    def summary(self) -> str:
        return (self.root / "summary.md").read_text()

    def state(self) -> dict[str, Any]:
        state_file = self.sync_dir / "state" / STATE_ID / "state.json"
        return json.loads(state_file.read_text())


@dataclass
class Workflow:
    server: Any  # clever_sandbox.SandboxServer
    work: Path
    cache: Path
    runs: int = 0

    def runner(self, *, kept_from: Runner | None = None, **env: str) -> Runner:
        """A fresh runner with the cache restored, or the same runner again (`kept_from`)."""
        self.runs += 1
        root = kept_from.root if kept_from else self.work / f"runner-{self.runs}"
        root.mkdir(exist_ok=True)
        runner = Runner(
            root,
            pipeline_env(
                root,
                root / ".sync" / "warehouse" / "clever.duckdb",
                self.server.base_url,
                self.server.district_tokens,
                **{
                    "MELTANO_ENVIRONMENT": "sandbox",
                    "SYNC_DIR": str(root / ".sync"),
                    "SYNC_EXCLUSIVE": "1",
                    "GITHUB_STEP_SUMMARY": str(root / "summary.md"),
                    **env,
                },
            ),
        )
        # The sync's own defaults (its folder) must be what is tested, not pipeline_env's.
        del runner.env["MELTANO_STATE_BACKEND_URI"], runner.env["CLEVER_DUCKDB_PATH"]
        if kept_from is None:
            for name in KEPT:  # actions/cache/restore
                if (self.cache / name).exists():
                    shutil.copytree(self.cache / name, runner.sync_dir / name)
        (root / "summary.md").write_text("")
        return runner

    def save(self, runner: Runner) -> None:
        """actions/cache/save: the state and the warehouse, under a new key."""
        for name in KEPT:
            shutil.rmtree(self.cache / name, ignore_errors=True)
            shutil.copytree(runner.sync_dir / name, self.cache / name)

    def run_sequence(self, runner: Runner) -> subprocess.CompletedProcess:
        """The workflow's steps after install and restore; returns the report step's result."""
        ran = runner.sync("run")
        assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
        published = runner.sync("publish")
        assert published.returncode == 0, published.stderr[-3000:]
        self.save(runner)
        return runner.sync("report")


@pytest.fixture(scope="module")
def workflow(meltano_plugins, tmp_path_factory) -> Iterator[Workflow]:
    config = clever_sandbox.SandboxConfig(districts=2, users_per_district=200, seed=31)
    work = tmp_path_factory.mktemp("sync-job")
    with clever_sandbox.SandboxServer(config) as server:
        yield Workflow(server=server, work=work, cache=work / "cache")


def export_rows(runner: Runner) -> dict[str, int]:
    exports = runner.sync_dir / "exports"
    with duckdb.connect() as connection:
        return {
            path.stem: connection.execute(
                "from read_parquet(?) select count(*)", [str(path)]
            ).fetchone()[0]
            for path in sorted(exports.glob("*.parquet"))
        }


def mart_rows(runner: Runner) -> dict[str, int]:
    with duckdb.connect(str(runner.database), read_only=True) as connection:
        tables = connection.execute(
            "select table_name from information_schema.tables where table_schema = 'analytics'"
        ).fetchall()
        return {
            # Names from the catalog, not from input.
            name: connection.execute(f'select count(*) from analytics."{name}"').fetchone()[0]  # noqa: S608
            for (name,) in tables
        }


def owner_only(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def test_install_step(workflow):
    runner = Runner(workflow.work, pipeline_env(workflow.work, workflow.work / "x", "", []))
    installed = runner.step("bash", str(REPO_ROOT / "scripts" / "install.sh"), timeout=1200)
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]


def test_first_run_syncs_every_district_and_publishes_the_marts(workflow):
    runner = workflow.runner()

    report = workflow.run_sequence(runner)

    assert report.returncode == 0, report.stdout
    assert runner.summary().startswith("## Clever sync: succeeded")
    assert runner.log("extract-load").count("full snapshot (first sync") == 2
    assert_marts_equal_sandbox(runner.database, workflow.server)
    rows = mart_rows(runner)
    assert export_rows(runner) == rows
    assert rows["dim_students"] > 0
    for path in [runner.database, *(runner.sync_dir / "exports").iterdir()]:
        assert owner_only(path), path


def test_second_run_on_a_fresh_runner_reads_only_events(workflow):
    server = workflow.server
    first, second = server.district_ids
    changes = []
    for district in (first, second):
        students = [u for u in server.records("users", district) if "student" in u["roles"]]
        changes += [
            {"op": "set_grade", "user": students[3]["id"], "grade": "11"},
            {"op": "delete", "id": students[4]["id"]},
        ]
    server.apply_changes(changes)
    runner = workflow.runner()

    report = workflow.run_sequence(runner)

    assert report.returncode == 0, report.stdout
    log = runner.log("extract-load")
    assert "full snapshot" not in log
    assert log.count("incremental: events after the bookmark") == 2
    assert_marts_equal_sandbox(runner.database, server)
    assert export_rows(runner) == mart_rows(runner)


def test_a_revoked_district_fails_the_job_after_the_others_are_published(workflow):
    server = workflow.server
    first, second = server.district_ids
    second_before = expected_marts(server, [second])
    for district in (first, second):
        students = [u for u in server.records("users", district) if "student" in u["roles"]]
        server.apply_changes([{"op": "delete", "id": students[5]["id"]}])
    runner = workflow.runner()
    bookmark = runner.state()["completed"]["singer_state"]["bookmarks"]["events"]["partitions"]
    second_bookmark = next(p for p in bookmark if p["context"]["district"] == second)
    # Every request after the second district's bookmark is refused as if its token had
    # been revoked.
    server.add_fault(
        kind="status",
        status=401,
        path=f"starting_after={second_bookmark['replication_key_value']}",
        times=None,
    )
    try:
        report = workflow.run_sequence(runner)
    finally:
        server.clear_faults()

    assert report.returncode == 1
    summary = runner.summary()
    assert summary.startswith("## Clever sync: 1 district(s) failed")
    (district,) = server.records("districts", second)
    label = f"'{district['name']}' ({second})" if district.get("name") else second
    row = next(line for line in summary.splitlines() if second in line)
    assert row.startswith(f"| district {label} | extract-load, stream events")
    assert "HTTP 401" in row
    assert "/v3.1/events" in row
    assert "Published 20 marts" in summary
    # The first district's change is in the published marts; the second's waits.
    expected = expected_marts(server, [first])
    for mart, rows in second_before.items():
        expected[mart] |= rows
    assert_marts_equal_sandbox(runner.database, server, expected)
    assert export_rows(runner) == mart_rows(runner)
    partitions = runner.state()["completed"]["singer_state"]["bookmarks"]["events"]["partitions"]
    assert next(p for p in partitions if p["context"]["district"] == second) == second_bookmark


def test_a_killed_run_does_not_block_the_next(workflow):
    server = workflow.server
    first = server.district_ids[0]
    students = [u for u in server.records("users", first) if "student" in u["roles"]]
    server.apply_changes([{"op": "set_grade", "user": students[6]["id"], "grade": "12"}])
    runner = workflow.runner()
    # Killed while the tap reads the events: Meltano's system database on this runner keeps
    # the run as running.
    injected = server.configure_faults()["injected"]
    server.add_fault(kind="latency", latency_ms=3000, path=r"/v3\.1/events", times=None, after=4)
    try:
        run_and_kill(
            [PYTHON, SYNC, "run"],
            env=runner.env,
            log=runner.root / "killed-run.log",
            ready=lambda: server.configure_faults()["injected"] > injected,
        )
    finally:
        server.clear_faults()
    assert not (runner.sync_dir / "outcome.json").exists()
    assert runner.sync("report").returncode == 1
    assert "did not finish" in runner.summary()
    # Meltano leaves the tap's and the loader's settings, tokens included, in its run folder.
    leftovers = sorted((REPO_ROOT / ".meltano" / "run").glob("*/*.config.json"))
    assert leftovers

    # Without SYNC_EXCLUSIVE Meltano refuses to start while it believes the run goes on ...
    refused = workflow.runner(kept_from=runner, SYNC_EXCLUSIVE="0")
    assert refused.sync("run").returncode == 0
    assert refused.sync("report").returncode == 1
    assert "already running" in refused.summary()
    # ... which the workflow's concurrency group makes safe to skip.
    again = workflow.runner(kept_from=runner)
    report = workflow.run_sequence(again)

    assert report.returncode == 0, report.stdout
    assert_marts_equal_sandbox(again.database, server)
    # ... and the exclusive run removed what the killed one left.
    assert not any(path.exists() for path in leftovers)


def test_no_token_in_any_file_or_output_of_the_sync(workflow):
    needles = secret_scan.needles(
        {f"district token {n}": token for n, token in enumerate(workflow.server.district_tokens)}
    )
    # Every runner's folder (Meltano's database, the state, the warehouse, the logs, the
    # exports, the summaries, each step's output in steps.log) and the cache.
    assert secret_scan.scan_tree(workflow.work, needles) == []
    for runner_dir in sorted(workflow.work.glob("runner-*")):
        database = runner_dir / ".sync" / "warehouse" / "clever.duckdb"
        assert secret_scan.scan_duckdb(database, needles) == []
    # The scan finds a token where there is one.
    planted = workflow.work / "planted"
    planted.mkdir()
    (planted / "leak.log").write_text(f"Authorization: Bearer {workflow.server.district_tokens[0]}")
    assert secret_scan.scan_tree(planted, needles)
