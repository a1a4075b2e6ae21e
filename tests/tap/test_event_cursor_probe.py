"""The snapshot's event cursor is the newest event, checked: nothing may follow it."""

from __future__ import annotations

from tests.tap.conftest import TOKEN_A, FakeClever, object_id, run_sync

STREAMS = {"users", "events", "snapshots"}


def _events(count: int) -> list[dict]:
    return [
        {
            "id": object_id(n, "61"),
            "type": "users.updated",
            "created": "2026-11-01T00:00:00Z",
            "data": {"object": {"id": object_id(n)}},
        }
        for n in range(1, count + 1)
    ]


def _feed_probes(clever: FakeClever) -> list[dict]:
    """The events requests made before the sync's own (which carry the page size)."""
    return [dict(r.args) for r in clever.requests("/v3.1/events")][:-1]


def test_the_newest_event_is_read_with_ending_before_last_and_checked(
    clever: FakeClever,
) -> None:
    clever.set_records(TOKEN_A, "users", [])
    clever.set_records(TOKEN_A, "events", _events(5))

    result = run_sync({"api_url": clever.url, "auth_token": TOKEN_A}, streams=STREAMS)

    assert result.error is None
    assert result.records("snapshots")[0]["event_cursor"] == object_id(5, "61")
    assert _feed_probes(clever) == [
        {"ending_before": "last", "limit": "1"},
        {"starting_after": object_id(5, "61"), "limit": "10000"},
    ]


def test_a_server_that_ignores_ending_before_does_not_rewind_the_cursor(
    clever: FakeClever,
) -> None:
    # Answered with the oldest event, the cursor would fall back to the start of the feed: every
    # old update would be reapplied after the snapshot, and records removed without an event
    # would come back.
    clever.honours_ending_before = False
    clever.set_records(TOKEN_A, "users", [])
    clever.set_records(TOKEN_A, "events", _events(5))

    result = run_sync(
        {"api_url": clever.url, "auth_token": TOKEN_A, "page_size": 2}, streams=STREAMS
    )

    assert result.error is None
    assert result.records("snapshots")[0]["event_cursor"] == object_id(5, "61")


def test_an_empty_feed_gives_an_empty_cursor_in_two_requests(clever: FakeClever) -> None:
    clever.set_records(TOKEN_A, "users", [])
    clever.set_records(TOKEN_A, "events", [])

    result = run_sync({"api_url": clever.url, "auth_token": TOKEN_A}, streams=STREAMS)

    assert result.error is None
    assert result.records("snapshots")[0]["event_cursor"] == ""
    assert len(_feed_probes(clever)) == 2
