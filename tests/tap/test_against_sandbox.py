"""Whole syncs against the Clever sandbox: the tap's output equals the sandbox's data."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from clever_sandbox import SandboxConfig, SandboxServer
from tests.tap.conftest import as_repaired, run_sync

RECORD_STREAMS = ["districts", "schools", "terms", "courses", "sections", "users", "resources"]


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(
        SandboxConfig(districts=2, users_per_district=600, seed=3, initial_events=30)
    ) as server:
        yield server


def app_config(sandbox: SandboxServer, **extra: object) -> dict:
    return {
        "api_url": sandbox.base_url,
        "oauth_url": sandbox.base_url,
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "page_size": 100,
        **extra,
    }


def _by_district(records: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for record in records:
        grouped.setdefault(record["district"], []).append(record)
    return grouped


def test_every_stream_of_every_district_equals_the_sandbox(sandbox: SandboxServer) -> None:
    result = run_sync(app_config(sandbox))

    assert result.error is None
    for stream in RECORD_STREAMS:
        emitted = _by_district(result.clever_records(stream))
        for district_id in sandbox.district_ids:
            expected = sandbox.records(stream, district_id)
            assert expected, f"sandbox has no {stream}"
            assert emitted[district_id] == [
                as_repaired({**record, "district": district_id}) for record in expected
            ], stream
    events = _by_district(result.records("events"))
    for district_id in sandbox.district_ids:
        feed = sandbox.events(district_id)
        assert [e["id"] for e in events[district_id]] == [e["id"] for e in feed]


def test_bare_next_links_still_page_at_the_configured_size(sandbox: SandboxServer) -> None:
    sandbox.set_bare_next_links(True)
    # Any users request that lost the configured limit fails loudly.
    sandbox.add_fault(kind="status", status=400, path=r"^/v3\.1/users(?!.*limit=200)", times=None)
    district_id = sandbox.district_ids[0]
    expected = sandbox.records("users", district_id)
    assert len(expected) > 400

    result = run_sync(
        {"api_url": sandbox.base_url, "auth_token": sandbox.district_tokens[0], "page_size": 200},
        streams={"users"},
    )

    assert result.error is None
    assert [u["id"] for u in result.records("users")] == [u["id"] for u in expected]


def test_rate_limit_window_is_waited_out(sandbox: SandboxServer) -> None:
    sandbox.set_rate_limit(limit=4, window=1.0)
    district_id = sandbox.district_ids[0]

    started = time.monotonic()
    result = run_sync(
        {"api_url": sandbox.base_url, "auth_token": sandbox.district_tokens[0], "page_size": 50},
        streams={"users"},
    )

    assert result.error is None
    assert len(result.records("users")) == len(sandbox.records("users", district_id))
    # 13 pages at 4 requests a second cannot take less than about 3 s.
    assert time.monotonic() - started > 2.0


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "status", "status": 503, "times": 2},
        {"kind": "status", "status": 429, "times": 1, "reset_seconds": 1},
        {"kind": "drop", "times": 2},
        {"kind": "short_body", "times": 1},
    ],
)
def test_transient_faults_are_retried_without_losing_or_doubling_records(
    sandbox: SandboxServer, fault: dict
) -> None:
    sandbox.add_fault(path="/v3.1/users", after=2, **fault)
    district_id = sandbox.district_ids[0]

    result = run_sync(
        {"api_url": sandbox.base_url, "auth_token": sandbox.district_tokens[0], "page_size": 100},
        streams={"users"},
    )

    assert result.error is None
    assert [u["id"] for u in result.records("users")] == [
        u["id"] for u in sandbox.records("users", district_id)
    ]


@pytest.mark.parametrize("kind", ["html", "no_data", "truncated"])
def test_malformed_pages_fail_with_the_url(sandbox: SandboxServer, kind: str) -> None:
    sandbox.add_fault(kind=kind, path="/v3.1/sections", times=1)

    result = run_sync(
        {"api_url": sandbox.base_url, "auth_token": sandbox.district_tokens[0]},
        streams={"sections"},
    )

    assert result.error is not None
    assert "/v3.1/sections" in str(result.error)
    assert "not a Clever API list" in str(result.error)
    assert sandbox.district_tokens[0] not in result.output


def test_changes_arrive_as_new_events_after_the_bookmark(sandbox: SandboxServer) -> None:
    config = app_config(sandbox)
    first = run_sync(config, streams={"events"})
    assert first.error is None
    seen = {e["id"] for e in first.records("events")}

    appended = sandbox.random_changes(n=40, seed=5)
    second = run_sync(config, state=first.final_state, streams={"events"})

    assert second.error is None
    new = second.records("events")
    assert {e["id"] for e in new} == {e["id"] for e in appended}
    assert not seen & {e["id"] for e in new}
    district_of = {
        e["id"]: district_id
        for district_id in sandbox.district_ids
        for e in sandbox.events(district_id)
    }
    assert all(e["district"] == district_of[e["id"]] for e in new)


def test_an_instant_login_token_against_the_sandbox_never_reaches_it(
    sandbox: SandboxServer,
) -> None:
    result = run_sync({"api_url": sandbox.base_url, "auth_token": "il" + "0" * 30})

    assert result.error is not None
    assert "Instant Login" in str(result.error)
