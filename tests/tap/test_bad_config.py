"""Bad settings fail the `tap-clever` command before any data moves, each in one line.

Each case runs the command as a user does and checks: exit status 1, nothing on stdout (no
SCHEMA, RECORD or STATE), one error line that names the setting and its environment variable
and says what to set, no traceback, no secret, and, for a host that cannot be reached, an
answer in seconds instead of after every retry.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from clever_sandbox import SandboxConfig, SandboxServer
from tap_clever import settings_check

TAP = str(Path(sys.executable).parent / "tap-clever")
TOKEN = "0123456789abcdef0123456789abcdef0badc0de"
SECRET = "s3cr3t-client-secret-value"
# The SDK's own summary after a configuration error's lines; it names nothing.
SDK_SUMMARY = "Config validation failed"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(districts=1, users_per_district=20, seed=5)) as server:
        yield server


def run_tap(config: dict, tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    started = time.monotonic()
    result = subprocess.run(
        [TAP, "--config", str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    return result, time.monotonic() - started


def error_lines(stderr: str) -> list[str]:
    return [
        line
        for line in stderr.splitlines()
        if ("ERROR" in line or "CRITICAL" in line) and SDK_SUMMARY not in line
    ]


def assert_one_line_failure(
    result: subprocess.CompletedProcess[str], *expected: str, secrets: tuple[str, ...] = ()
) -> str:
    assert result.returncode == 1, result.stderr[-3000:]
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = error_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    for text in expected:
        assert text in lines[0], lines[0]
    for secret in (TOKEN, SECRET, *secrets):
        assert secret not in result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        pytest.param(
            {},
            ["No Clever credentials", "TAP_CLEVER_CLIENT_ID", "TAP_CLEVER_AUTH_TOKEN"],
            id="no-credentials",
        ),
        pytest.param(
            {"client_id": "abc"},
            ["client_secret (TAP_CLEVER_CLIENT_SECRET) is not set", "set client_secret too"],
            id="client-id-without-secret",
        ),
        pytest.param(
            {"auth_token": "il3jsfUI2131da2f"},
            ["Instant Login token", "auth_token", "district-app token"],
            id="instant-login-token",
        ),
        pytest.param(
            {"district_tokens": [TOKEN, "ilXYZ0123456789"]},
            ["Instant Login token", "district_tokens[1]", "district-app token"],
            id="instant-login-token-in-list",
        ),
        pytest.param(
            {"district_tokens": TOKEN},
            [
                "district_tokens (TAP_CLEVER_DISTRICT_TOKENS) is a single string",
                """TAP_CLEVER_DISTRICT_TOKENS='["token1","token2"]'""",
            ],
            id="district-tokens-string",
        ),
        pytest.param(
            {"district_tokens": [TOKEN, 7]},
            ["district_tokens (TAP_CLEVER_DISTRICT_TOKENS): item 1", "JSON list of strings"],
            id="district-tokens-not-strings",
        ),
        pytest.param(
            {"auth_token": [TOKEN]},
            ["auth_token (TAP_CLEVER_AUTH_TOKEN) must be one token", "district_tokens"],
            id="auth-token-list",
        ),
        pytest.param(
            {"auth_token": TOKEN, "api_url": "api.clever.com"},
            [
                "api_url (TAP_CLEVER_API_URL) is 'api.clever.com', without https:// or http://",
                "https://api.clever.com",
            ],
            id="api-url-without-scheme",
        ),
        pytest.param(
            {"auth_token": TOKEN, "api_url": "https://"},
            ["api_url (TAP_CLEVER_API_URL)", "without a host name", "https://api.clever.com"],
            id="api-url-without-host",
        ),
        pytest.param(
            {"auth_token": TOKEN, "api_url": f"ftp://user:{SECRET}@api.clever.com"},
            ["api_url (TAP_CLEVER_API_URL) is 'ftp://***@api.clever.com'", "https://"],
            id="api-url-other-scheme-with-password",
        ),
        pytest.param(
            {"client_id": "abc", "client_secret": SECRET, "oauth_url": "clever.com"},
            ["oauth_url (TAP_CLEVER_OAUTH_URL) is 'clever.com'", "https://clever.com"],
            id="oauth-url-without-scheme",
        ),
        pytest.param(
            {"auth_token": TOKEN, "page_size": 20000},
            ["page_size (TAP_CLEVER_PAGE_SIZE) is 20000", "from 1 to 10000"],
            id="page-size-too-big",
        ),
        pytest.param(
            {"auth_token": TOKEN, "page_size": 0},
            ["page_size (TAP_CLEVER_PAGE_SIZE) is 0", "from 1 to 10000"],
            id="page-size-zero",
        ),
        pytest.param(
            {"auth_token": TOKEN, "page_size": "many"},
            ["page_size (TAP_CLEVER_PAGE_SIZE) is 'many'", "whole number from 1 to 10000"],
            id="page-size-not-a-number",
        ),
        pytest.param(
            {"auth_token": TOKEN, "max_parallel_districts": 100},
            ["max_parallel_districts (TAP_CLEVER_MAX_PARALLEL_DISTRICTS) is 100", "1 to 64"],
            id="parallel-districts-too-many",
        ),
        pytest.param(
            {"auth_token": TOKEN, "district_shard": "5/4"},
            ["district_shard (TAP_CLEVER_DISTRICT_SHARD) is '5/4'", "e.g. 1/4 to 4/4"],
            id="district-shard-out-of-range",
        ),
        pytest.param(
            {"auth_token": TOKEN, "district_shard": "half"},
            ["district_shard (TAP_CLEVER_DISTRICT_SHARD) is 'half'", "set it to i/n"],
            id="district-shard-not-i-of-n",
        ),
        pytest.param(
            {"auth_token": TOKEN, "request_timeout": 0},
            ["request_timeout (TAP_CLEVER_REQUEST_TIMEOUT) is 0", "at least 1"],
            id="request-timeout-zero",
        ),
        pytest.param(
            {"auth_token": TOKEN, "user_roles": ["wizard"]},
            ["user_roles (TAP_CLEVER_USER_ROLES)", "'wizard' is not one of", "--about"],
            id="user-roles-unknown",
        ),
    ],
)
def test_bad_setting_fails_in_one_line_before_any_output(
    config: dict, expected: list[str], tmp_path: Path
) -> None:
    result, _ = run_tap(config, tmp_path)

    assert_one_line_failure(result, *expected)


@pytest.mark.parametrize(
    ("api_url", "cause"),
    [
        ("http://127.0.0.1:1", "the connection was refused"),
        ("https://api.clever.invalid", "the host name does not resolve"),
    ],
)
def test_unreachable_api_url_fails_at_once(api_url: str, cause: str, tmp_path: Path) -> None:
    result, seconds = run_tap({"auth_token": TOKEN, "api_url": api_url}, tmp_path)

    line = assert_one_line_failure(
        result, "api_url (TAP_CLEVER_API_URL)", "could not reach Clever", api_url, cause
    )
    assert "Check the URL" in line
    # Not after 8 attempts and a minute of backoff.
    assert seconds < 15
    assert "retrying" not in result.stderr


def test_unreachable_oauth_url_names_that_setting(sandbox: SandboxServer, tmp_path: Path) -> None:
    config = {
        "api_url": sandbox.base_url,
        "oauth_url": "http://127.0.0.1:1",
        "client_id": "abc",
        "client_secret": SECRET,
    }

    result, seconds = run_tap(config, tmp_path)

    assert_one_line_failure(result, "oauth_url (TAP_CLEVER_OAUTH_URL)", "refused")
    assert seconds < 15


def test_rejected_token_fails_in_one_line_before_any_output(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    result, _ = run_tap({"api_url": sandbox.base_url, "auth_token": TOKEN}, tmp_path)

    assert_one_line_failure(result, "auth_token", "HTTP 401", "rejected the bearer token")


def test_good_settings_still_sync(sandbox: SandboxServer, tmp_path: Path) -> None:
    config = {
        "api_url": sandbox.base_url,
        "district_tokens": sandbox.district_tokens,
        "request_timeout": 30,
    }

    result, _ = run_tap(config, tmp_path)

    assert result.returncode == 0, result.stderr[-3000:]
    assert error_lines(result.stderr) == []
    assert json.loads(result.stdout.splitlines()[-1])["type"] == "STATE"


def test_discovery_and_about_check_no_setting(tmp_path: Path) -> None:
    # Settings that fail a sync do not stop discovery: it needs no credentials and no network.
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"api_url": "http://127.0.0.1:1", "page_size": 20000}))
    for args in (["--discover", "--config", str(path)], ["--about"]):
        result = subprocess.run(
            [TAP, *args], capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, result.stderr[-3000:]


def test_a_host_that_answers_anything_is_reachable() -> None:
    # Any HTTP answer, whatever its status, means the settings point somewhere real; a failure
    # after connecting (here: the connection closed without an answer) is the sync's to retry.
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]

        def close_each_connection() -> None:
            for _ in range(2):
                connection, _ = server.accept()
                connection.close()

        thread = threading.Thread(target=close_each_connection, daemon=True)
        thread.start()
        with requests.Session() as session:
            problem = settings_check.unreachable_problem(
                session, "api_url", f"http://127.0.0.1:{port}", timeout=5
            )
        thread.join(timeout=5)

    assert problem is None


def test_request_timeout_reaches_the_client() -> None:
    from tap_clever.tap import TapClever

    default = TapClever(config={})
    assert default.run.client.timeout_seconds == 120
    assert TapClever(config={"request_timeout": 7}).run.client.timeout_seconds == 7
