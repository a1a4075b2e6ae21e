"""The `tap-clever` command line, run as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from clever_sandbox import SandboxConfig, SandboxServer

TAP = str(Path(sys.executable).parent / "tap-clever")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(districts=2, users_per_district=200, seed=21)) as server:
        yield server


def run_tap(*args: str, config: dict | None = None, tmp_path: Path) -> subprocess.CompletedProcess:
    command = [TAP, *args]
    if config is not None:
        path = tmp_path / "config.json"
        path.write_text(json.dumps(config))
        command += ["--config", str(path)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def test_about_lists_settings_with_secrets_marked(tmp_path: Path) -> None:
    result = run_tap("--about", "--format", "json", tmp_path=tmp_path)

    assert result.returncode == 0
    settings = json.loads(result.stdout)["settings"]["properties"]
    for secret in ("auth_token", "district_tokens", "client_secret"):
        assert settings[secret].get("secret") is True, secret
    assert settings["page_size"]["default"] == 10000
    assert settings["page_size"]["maximum"] == 10000


def test_discover_needs_no_credentials_and_no_network(tmp_path: Path) -> None:
    result = run_tap("--discover", tmp_path=tmp_path)

    assert result.returncode == 0
    streams = {s["tap_stream_id"] for s in json.loads(result.stdout)["streams"]}
    assert streams == {
        "districts",
        "schools",
        "users",
        "sections",
        "terms",
        "courses",
        "resources",
        "events",
        "snapshots",
    }


def test_sync_against_the_sandbox_writes_singer_messages(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    config = {"api_url": sandbox.base_url, "district_tokens": sandbox.district_tokens}

    result = run_tap(config=config, tmp_path=tmp_path)

    assert result.returncode == 0, result.stderr[-2000:]
    messages = [json.loads(line) for line in result.stdout.splitlines()]
    users = [m for m in messages if m["type"] == "RECORD" and m["stream"] == "users"]
    assert len(users) == sum(len(sandbox.records("users", d)) for d in sandbox.district_ids)
    assert any(m["type"] == "SCHEMA" and m["stream"] == "events" for m in messages)
    assert messages[-1]["type"] == "STATE"
    for token in sandbox.district_tokens:
        assert token not in result.stdout
        assert token not in result.stderr


def test_instant_login_token_fails_on_the_command_line_with_the_reason(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    config = {"api_url": sandbox.base_url, "auth_token": "il3jsfUI2131da2f"}

    result = run_tap(config=config, tmp_path=tmp_path)

    assert result.returncode == 1
    assert "Instant Login token" in result.stderr
    assert "district-app token" in result.stderr
    assert "il3jsfUI2131da2f" not in result.stderr
    assert result.stdout == ""


def test_revoked_token_fails_with_exit_code_and_message(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    config = {"api_url": sandbox.base_url, "auth_token": "0badc0ffee" * 4}

    result = run_tap(config=config, tmp_path=tmp_path)

    assert result.returncode != 0
    assert "HTTP 401" in result.stderr
    assert "rejected the bearer token" in result.stderr
    assert "0badc0ffee" not in result.stderr
