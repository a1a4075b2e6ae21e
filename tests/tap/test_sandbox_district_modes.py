"""Against the sandbox: districts without events or Secure Sync, a token whose budget is spent,
and a server that ignores `ending_before`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clever_sandbox import SandboxConfig, SandboxServer
from tests.tap.conftest import as_repaired, run_sync

RECORD_STREAMS = ["districts", "schools", "terms", "courses", "sections", "users", "resources"]


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    config = SandboxConfig(
        districts=3,
        users_per_district=300,
        seed=23,
        initial_events=15,
        district_modes={1: "events_off", 2: "no_secure_sync"},
    )
    with SandboxServer(config) as server:
        yield server


def _config(sandbox: SandboxServer) -> dict:
    return {
        "api_url": sandbox.base_url,
        "oauth_url": sandbox.base_url,
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "page_size": 100,
    }


def test_every_district_syncs_whatever_its_events_and_secure_sync(
    sandbox: SandboxServer,
) -> None:
    with_events, without_events, _not_secure_sync = sandbox.district_ids

    first = run_sync(_config(sandbox))

    assert first.error is None
    for stream in RECORD_STREAMS:
        for district_id in (with_events, without_events):
            emitted = [r for r in first.clever_records(stream) if r["district"] == district_id]
            expected = [
                as_repaired({**r, "district": district_id})
                for r in sandbox.records(stream, district_id)
            ]
            assert emitted == expected, (stream, district_id)
    # A district that is not Secure Sync shares its district record, and nothing else.
    assert [d["id"] for d in first.records("districts")] == sandbox.district_ids
    assert {u["district"] for u in first.records("users")} == {with_events, without_events}
    assert {e["district"] for e in first.records("events")} == {with_events}
    assert [s["district"] for s in first.records("snapshots")] == sandbox.district_ids

    sandbox.random_changes(n=40, seed=6)
    second = run_sync(_config(sandbox), state=first.final_state)

    assert second.error is None
    # The district without events is read whole again; the others' changes come as events.
    assert {u["district"] for u in second.records("users")} == {without_events}
    emitted = second.clever_records("users")
    assert emitted == [
        as_repaired({**u, "district": without_events})
        for u in sandbox.records("users", without_events)
    ]
    assert {e["district"] for e in second.records("events")} <= {with_events}


def test_a_token_whose_window_is_spent_before_the_run_still_syncs(
    sandbox: SandboxServer,
) -> None:
    sandbox.set_rate_limit(limit=20, window=2.0)
    for district_id in sandbox.district_ids:
        sandbox.spend_rate_limit(district_id, 20)

    result = run_sync(_config(sandbox) | {"page_size": 1000})

    assert result.error is None
    assert len(result.records("users")) == sum(
        len(sandbox.records("users", d)) for d in sandbox.district_ids[:2]
    )


def test_a_server_ignoring_ending_before_still_gives_the_newest_event_as_cursor(
    sandbox: SandboxServer,
) -> None:
    sandbox.set_events_ignore_ending_before(True)

    result = run_sync(_config(sandbox), streams={"users", "events", "snapshots"})

    assert result.error is None
    cursor = {s["district"]: s["event_cursor"] for s in result.records("snapshots")}
    with_events = sandbox.district_ids[0]
    assert cursor[with_events] == sandbox.events(with_events)[-1]["id"]
