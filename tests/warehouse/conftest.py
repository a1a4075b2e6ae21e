"""Shared fixtures of the warehouse tests: the Meltano project's plugins, installed once."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from tests.postgres_server import PostgresServer

REPO_ROOT = Path(__file__).resolve().parents[2]
MELTANO = Path(sys.executable).parent / "meltano"
PLUGIN_VENVS = REPO_ROOT / ".meltano"


def meltano_env(work_dir: Path | None = None, **overrides: str) -> dict[str, str]:
    """The environment for a meltano command: the caller's, with Meltano's noise turned off.

    With `work_dir`, dbt writes its artifacts and logs there instead of transform/, so a test
    run does not race a developer's own dbt run.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        # A developer's own settings must not leak into a test's pipeline.
        if not key.startswith(
            (
                "TAP_CLEVER_",
                "TARGET_DUCKDB_",
                "TARGET_POSTGRES_",
                "DBT_",
                "CLEVER_DUCKDB_",
                "CLEVER_POSTGRES_",
                "PG",
            )
        )
    }
    env.update(
        MELTANO_SEND_ANONYMOUS_USAGE_STATS="false",
        MELTANO_CLI_DISABLE_VERSION_CHECK="true",
        NO_COLOR="1",
    )
    if work_dir is not None:
        env.update(
            DBT_TARGET_PATH=str(work_dir / "dbt-target"), DBT_LOG_PATH=str(work_dir / "dbt-logs")
        )
    env.update(overrides)
    return env


def pipeline_env(
    work_dir: Path, database: Path, api_url: str, tokens: list[str], **overrides: str
) -> dict[str, str]:
    """`meltano_env` for a pipeline against a sandbox: the warehouse `database`, the sandbox as
    Clever, and Meltano's run records and state in `work_dir`, not the repository's."""
    return meltano_env(
        work_dir,
        CLEVER_DUCKDB_PATH=str(database),
        TAP_CLEVER_API_URL=api_url,
        TAP_CLEVER_OAUTH_URL=api_url,
        TAP_CLEVER_DISTRICT_TOKENS=json.dumps(tokens),
        MELTANO_DATABASE_URI=f"sqlite:///{work_dir / 'meltano.db'}",
        MELTANO_STATE_BACKEND_URI=(work_dir / "state").as_uri(),
        **overrides,
    )


def private_run_dirs(work_dir: Path, *, batch_files: bool = True) -> dict[str, str]:
    """Environment giving a test's runs Meltano's run folders and the tap's batch files folder
    of their own, in `work_dir`.

    Meltano writes each plugin's config (credentials included) and the state file it hands the
    tap under `.meltano/run/<plugin>/`, and deletes them when the plugin exits, and the tap's
    batch files go to `.meltano/run/tap-clever/batches` (meltano.yml): runs sharing those
    folders (other test modules, a developer's run) delete each other's files mid-run
    ("Invalid value for '--state': ... state.json: No such file or directory"). The plugins'
    venvs stay the project's, linked.

    `batch_files` off for a loader that takes RECORD messages only (target-postgres: the
    `postgres` environment turns the tap's batch files off, and TAP_CLEVER_BATCH_CONFIG would
    turn them back on).
    """
    system_dir = work_dir / "meltano-system"
    system_dir.mkdir(exist_ok=True)
    for kind in ("extractors", "loaders", "utilities"):
        link = system_dir / kind
        if not link.exists():
            link.symlink_to(PLUGIN_VENVS / kind, target_is_directory=True)
    # meltano.yml's batch_config, but for the folder.
    batch_config = {
        "encoding": {"format": "jsonl", "compression": "none"},
        "storage": {"root": (work_dir / "batches").as_uri()},
        "batch_size": 50000,
    }
    env = {"MELTANO_SYS_DIR_ROOT": str(system_dir)}
    if batch_files:
        env["TAP_CLEVER_BATCH_CONFIG"] = json.dumps(batch_config)
    return env


class SandboxPipeline(NamedTuple):
    """A running sandbox and the environment of a pipeline loading it into `database` (the
    DuckDB file), or into `postgres` when the pipeline is the PostgreSQL one."""

    server: Any  # clever_sandbox.SandboxServer
    work: Path
    database: Path
    env: dict[str, str]
    postgres: PostgresServer | None = None


@contextlib.contextmanager
def sandbox_pipeline(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    config: Any,  # clever_sandbox.SandboxConfig
    *,
    private_runs: bool = False,
    postgres: PostgresServer | None = None,
    **overrides: str,
) -> Iterator[SandboxPipeline]:
    """A sandbox serving `config`, a work folder `name`, and `pipeline_env` for a warehouse
    `clever.duckdb` in it (with `private_runs`, Meltano's run folders of its own too).

    With `postgres` (a server whose database is the test's own, see
    PostgresServer.create_database), the environment also connects target-postgres and
    dbt-postgres to it, for the `postgres` Meltano environment's pipeline."""
    import clever_sandbox

    work = tmp_path_factory.mktemp(name)
    database = work / "clever.duckdb"
    if private_runs:
        overrides = {**private_run_dirs(work, batch_files=postgres is None), **overrides}
    if postgres is not None:
        overrides = {**postgres.pipeline_env(), **overrides}
    with clever_sandbox.SandboxServer(config) as server:
        env = pipeline_env(work, database, server.base_url, server.district_tokens, **overrides)
        yield SandboxPipeline(server, work, database, env, postgres)


def run_meltano(
    *args: str, env: dict[str, str], timeout: float = 600, check: bool = True
) -> subprocess.CompletedProcess:
    """`meltano <args>` in the repository's project; a non-zero exit fails the test, unless
    `check` is off (the test then looks at the failure itself)."""
    result = subprocess.run(
        [str(MELTANO), *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        pytest.fail(
            f"meltano {' '.join(args)} exited {result.returncode}\n"
            f"--- stdout ---\n{result.stdout[-5000:]}\n--- stderr ---\n{result.stderr[-10000:]}"
        )
    return result


@pytest.fixture(scope="session")
def meltano_plugins() -> Path:
    """`meltano install` for the repository's project (plugin venvs under .meltano/).

    The venvs are the ones `meltano install` makes for users; re-running it on an installed
    project only upgrades what changed (uv's cache makes that quick), so a test session always
    exercises the current meltano.yml and the current loader package.
    """
    if not MELTANO.exists():
        pytest.skip(f"meltano is not installed next to {sys.executable}: pip install -e '.[dev]'")
    run_meltano("install", env=meltano_env(), timeout=1200)
    # As scripts/demo.sh does: without .pyc files every plugin run compiles its imports again.
    subprocess.run(["bash", str(REPO_ROOT / "scripts/compile_venvs.sh")], check=True)
    return PLUGIN_VENVS


def run_and_kill(
    command: list[str], *, env: dict[str, str], log: Path, ready: Any, timeout: float = 120
) -> None:
    """Start `command` in the repository in its own process group, and SIGKILL the whole group
    (Meltano and its plugins) once `ready()`: a run killed as a timeout or a lost machine
    would kill it."""
    with log.open("w") as output:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + timeout
            while not ready():
                assert process.poll() is None, "the run ended before it could be killed"
                assert time.monotonic() < deadline, "the run never reached the kill point"
                time.sleep(0.05)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
