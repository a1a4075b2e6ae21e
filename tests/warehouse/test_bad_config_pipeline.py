"""Bad settings through the real `meltano run tap-clever target-duckdb`.

The plugin that cannot run says why in one line that shows in Meltano's output, and the run
leaves Meltano's state as it was: the next run starts where the last good one stopped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from clever_sandbox import SandboxConfig, SandboxServer

from .conftest import pipeline_env, private_run_dirs, run_meltano

STATE_ID = "sandbox:tap-clever-to-target-duckdb"
# A bookmark from an earlier run (its shape does not matter to Meltano).
EARLIER_STATE = {"singer_state": {"bookmarks": {"events": {"partitions": []}}}}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(districts=1, users_per_district=20, seed=11)) as server:
        yield server


def stored_state(env: dict[str, str]) -> object:
    return json.loads(run_meltano("state", "get", STATE_ID, env=env).stdout)


@pytest.mark.parametrize(
    ("database", "settings", "line"),
    [
        pytest.param(
            "a-folder",
            {},
            "target-duckdb-clever: error: The `path` setting (CLEVER_DUCKDB_PATH, or "
            "TARGET_DUCKDB_PATH under Meltano) is {work}/a-folder, a folder, not a database file",
            id="database-path-is-a-folder",
        ),
        pytest.param(
            "clever.duckdb",
            {"TAP_CLEVER_PAGE_SIZE": "20000"},
            "page_size (TAP_CLEVER_PAGE_SIZE) is 20000: set it to a whole number from 1 to 10000",
            id="page-size-out-of-range",
        ),
        pytest.param(
            "clever.duckdb",
            # A bare token, not a JSON list: Meltano passes it on as text, unseen.
            {"TAP_CLEVER_DISTRICT_TOKENS": "{token}"},
            "district_tokens (TAP_CLEVER_DISTRICT_TOKENS) is a single string, not a list of "
            "tokens: set it to a JSON list, e.g. TAP_CLEVER_DISTRICT_TOKENS=",
            id="district-tokens-as-a-string",
        ),
        pytest.param(
            "clever.duckdb",
            {"TAP_CLEVER_API_URL": "http://127.0.0.1:1"},
            "api_url (TAP_CLEVER_API_URL): could not reach Clever at 'http://127.0.0.1:1': "
            "the connection was refused",
            id="api-url-unreachable",
        ),
    ],
)
def test_bad_setting_shows_one_line_and_keeps_the_state(
    meltano_plugins: Path,
    sandbox: SandboxServer,
    tmp_path: Path,
    database: str,
    settings: dict[str, str],
    line: str,
) -> None:
    (tmp_path / "a-folder").mkdir()
    env = pipeline_env(tmp_path, tmp_path / database, sandbox.base_url, sandbox.district_tokens)
    token = sandbox.district_tokens[0]
    env.update(private_run_dirs(tmp_path))
    env.update({name: value.format(token=token) for name, value in settings.items()})
    run_meltano("state", "set", "--force", STATE_ID, json.dumps(EARLIER_STATE), env=env)
    before = stored_state(env)

    result = run_meltano(
        "--environment=sandbox", "run", "tap-clever", "target-duckdb", env=env, check=False
    )

    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert line.format(work=tmp_path) in output, output[-5000:]
    assert stored_state(env) == before
    assert list((tmp_path / "a-folder").iterdir()) == []
    for token in sandbox.district_tokens:
        assert token not in output
