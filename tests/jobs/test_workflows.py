"""The GitHub Actions workflows: valid for GitHub, and every step a script of the repository."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO_ROOT / ".github" / "workflows"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"


def load(name: str) -> dict[Any, Any]:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    assert isinstance(workflow, dict)
    return workflow


def steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the key `on` as the boolean True.
    on = workflow.get("on", workflow.get(True))
    assert isinstance(on, dict)
    return on


ALL = ["ci.yml", "sync-sharded.yml", "sync.yml"]


def test_the_workflows_exist() -> None:
    assert sorted(path.name for path in WORKFLOWS.glob("*.yml")) == ALL


@pytest.mark.parametrize("name", ALL)
def test_workflow_validates_against_githubs_schema(name: str) -> None:
    result = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", WORKFLOWS / name],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = load("sync.yml")
    broken["jobs"]["sync"]["steps"][0] = {"uses": "actions/checkout@v4", "runs": "typo"}
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(broken))
    result = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", path],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1


# What a `run:` step may be: one command that runs a script of this repository, with a
# subcommand and options whose values are numbers or an environment variable ("$SHARD": a
# value from the workflow goes through the environment, never pasted into the command).
SCRIPT_COMMAND = re.compile(
    r'^(bash|\.venv/bin/python) (?P<script>[\w./-]+)( \w+)?( --[\w-]+( (\d+|"\$[A-Z_]+"))?)*$'
)


@pytest.mark.parametrize("name", ALL)
def test_every_run_step_is_one_script_of_the_repository(name: str) -> None:
    run_steps = [step for step in steps(load(name)) if "run" in step]
    assert run_steps
    for step in run_steps:
        command = step["run"].strip()
        match = SCRIPT_COMMAND.match(command)
        assert match, f"{name}: step {step.get('name')!r} runs {command!r}, not a script"
        assert (REPO_ROOT / match["script"]).is_file(), command
        assert shlex.split(command)  # one plain command line


def test_ci_tests_every_python_the_readme_promises() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    promised = re.search(r"Python (3\.\d+) to (3\.\d+)", readme)
    assert promised
    low, high = (int(version.split(".")[1]) for version in promised.groups())
    matrix = load("ci.yml")["jobs"]["test"]["strategy"]["matrix"]["python"]
    assert matrix == [f"3.{minor}" for minor in range(low, high + 1)]
    pyproject = (REPO_ROOT / "pyproject.toml").read_text()
    assert f'requires-python = ">=3.{low},<3.{high + 1}"' in pyproject


def test_ci_runs_the_test_command_and_the_demo() -> None:
    commands = [step.get("run") for step in steps(load("ci.yml"))]
    assert "bash .ci/run" in commands
    assert "bash scripts/demo.sh" in commands
    assert set(triggers(load("ci.yml"))) >= {"push", "pull_request"}


def test_sync_runs_on_a_schedule_and_by_hand_one_at_a_time() -> None:
    workflow = load("sync.yml")
    on = triggers(workflow)
    assert on["schedule"][0]["cron"]
    assert "workflow_dispatch" in on
    assert workflow["concurrency"] == {"group": "clever-sync", "cancel-in-progress": False}
    job = workflow["jobs"]["sync"]
    # Safe only because of the concurrency group (see scripts/sync.py).
    assert job["env"]["SYNC_EXCLUSIVE"] == "1"


def test_sync_keeps_state_and_warehouse_together_and_reports_even_after_a_failure() -> None:
    job = load("sync.yml")["jobs"]["sync"]
    by_action = {step.get("uses", "").split("@")[0]: step for step in job["steps"]}
    restore, save = by_action["actions/cache/restore"], by_action["actions/cache/save"]
    assert restore["with"]["path"] == save["with"]["path"]
    assert set(save["with"]["path"].split()) == {".sync/state", ".sync/warehouse"}
    # A new key each run; the restore takes the newest saved one.
    assert "github.run_id" in save["with"]["key"]
    assert save["with"]["key"].startswith(restore["with"]["restore-keys"])
    assert save["if"] == "always()"
    run_steps = {step.get("run"): step for step in job["steps"] if "run" in step}
    sync_step = run_steps[".venv/bin/python scripts/sync.py run"]
    # The sync step times out before the job does, so the steps after it still run.
    assert sync_step["timeout-minutes"] < job["timeout-minutes"]
    for command in ("publish", "report"):
        assert run_steps[f".venv/bin/python scripts/sync.py {command}"]["if"] == "always()"
    steps_in_order = [
        step.get("run") or step.get("uses", "").split("@")[0] for step in job["steps"]
    ]
    assert steps_in_order.index("actions/cache/save") > steps_in_order.index(
        ".venv/bin/python scripts/sync.py run"
    )
    assert steps_in_order[-1] == ".venv/bin/python scripts/sync.py report"


def test_sync_credentials_come_only_from_secrets() -> None:
    env = load("sync.yml")["jobs"]["sync"]["env"]
    for name in (
        "TAP_CLEVER_CLIENT_ID",
        "TAP_CLEVER_CLIENT_SECRET",
        "TAP_CLEVER_DISTRICT_TOKENS",
        "TAP_CLEVER_PII_SALT",
    ):
        assert re.fullmatch(r"\$\{\{ secrets\.CLEVER_\w+ \}\}", env[name]), name


# --- the sharded sync into PostgreSQL (scripts/run_shards.py) ------------------------------------

RUN_SHARDS = re.compile(
    r"^\.venv/bin/python scripts/run_shards\.py --shards (?P<count>\d+)(?P<rest>.*)$"
)


def run_shards_steps(job: dict[str, Any]) -> list[tuple[dict[str, Any], re.Match[str]]]:
    found = []
    for step in job["steps"]:
        match = RUN_SHARDS.match(step.get("run", ""))
        if match:
            found.append((step, match))
    return found


def test_sharded_sync_runs_on_a_schedule_and_by_hand_one_at_a_time() -> None:
    workflow = load("sync-sharded.yml")
    on = triggers(workflow)
    assert on["schedule"][0]["cron"]
    assert "workflow_dispatch" in on
    assert workflow["concurrency"] == {"group": "clever-sync-postgres", "cancel-in-progress": False}
    # Safe only because of the concurrency group (see scripts/sync.py).
    assert workflow["env"]["SYNC_EXCLUSIVE"] == "1"


def test_sharded_sync_runs_a_job_per_shard_then_dbt_once_even_after_a_failed_shard() -> None:
    jobs = load("sync-sharded.yml")["jobs"]
    shard, dbt = jobs["shard"], jobs["dbt"]
    matrix = shard["strategy"]["matrix"]["shard"]
    # One failing shard cancels no other.
    assert shard["strategy"]["fail-fast"] is False
    ((shard_step, shard_run),) = run_shards_steps(shard)
    count = int(shard_run["count"])
    assert matrix == list(range(1, count + 1))
    # Each job its own shard, through the environment; the marts are left to the dbt job.
    assert shard_run["rest"] == ' --only "$SHARD" --skip-dbt'
    assert shard["env"]["SHARD"] == "${{ matrix.shard }}"
    assert shard_step["timeout-minutes"] < shard["timeout-minutes"]

    assert dbt["needs"] == "shard"
    assert dbt["if"] in ("${{ !cancelled() }}", "always()", "${{ always() }}")
    ((dbt_step, dbt_run),) = run_shards_steps(dbt)
    assert (int(dbt_run["count"]), dbt_run["rest"]) == (count, " --dbt-only")
    assert dbt_step["timeout-minutes"] < dbt["timeout-minutes"]


def test_sharded_sync_reports_every_shard_in_the_dbt_job() -> None:
    jobs = load("sync-sharded.yml")["jobs"]
    upload = next(s for s in jobs["shard"]["steps"] if "upload-artifact" in s.get("uses", ""))
    download = next(s for s in jobs["dbt"]["steps"] if "download-artifact" in s.get("uses", ""))
    # Kept even when the shard failed: the report names its districts and causes.
    assert upload["if"] == "always()"
    # Each shard's outcome lands where run_shards.py --dbt-only reads it:
    # .shards/shard-<i>-of-<n>/outcome.json (an artifact of one file holds just the file).
    name = upload["with"]["name"]
    assert name == "shard-${{ matrix.shard }}-of-4"
    assert upload["with"]["path"] == f".shards/{name}/outcome.json"
    assert download["with"] == {"pattern": "shard-*-of-4", "path": ".shards"}
    dbt_steps = [s.get("run") or s.get("uses", "").split("@")[0] for s in jobs["dbt"]["steps"]]
    assert dbt_steps.index("actions/download-artifact") < dbt_steps.index(
        ".venv/bin/python scripts/run_shards.py --shards 4 --dbt-only"
    )


def test_sharded_sync_credentials_come_only_from_secrets() -> None:
    workflow = load("sync-sharded.yml")
    shard_env, dbt = workflow["jobs"]["shard"]["env"], workflow["jobs"]["dbt"]
    for name in ("HOST", "PORT", "USER", "DATABASE", "PASSWORD"):
        value = workflow["env"][f"CLEVER_POSTGRES_{name}"]
        assert value == f"${{{{ secrets.CLEVER_POSTGRES_{name} }}}}"
    for name in (
        "TAP_CLEVER_CLIENT_ID",
        "TAP_CLEVER_CLIENT_SECRET",
        "TAP_CLEVER_DISTRICT_TOKENS",
        "TAP_CLEVER_PII_SALT",
    ):
        assert re.fullmatch(r"\$\{\{ secrets\.CLEVER_\w+ \}\}", shard_env[name]), name
    # dbt needs the warehouse only, not Clever's credentials.
    assert "secrets." not in yaml.safe_dump(dbt)
