"""Snapshot or incremental: the per-district plan, and runs that follow it."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import pytest

from clever_sandbox import SandboxConfig, SandboxServer
from tap_clever import streams
from tap_clever.client import Page
from tap_clever.sync_plan import DistrictHistory, plan_district
from tests.tap.conftest import run_sync

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


@dataclass
class FakeFeed:
    oldest: str | None = "61" + "0" * 22
    newest: str | None = "69" + "0" * 22
    rejected: set[str] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)

    def oldest_event_id(self, district_id: str) -> str | None:
        self.calls.append("oldest")
        return self.oldest

    def newest_event_id(self, district_id: str) -> str | None:
        self.calls.append("newest")
        return self.newest

    def knows_cursor(self, district_id: str, event_id: str) -> bool:
        self.calls.append("knows")
        return event_id not in self.rejected


def plan(history: DistrictHistory, feed: FakeFeed, *, events_selected: bool = True):
    return plan_district(
        "d1", history, feed, events_selected=events_selected, snapshot_id="S2", now=lambda: NOW
    )


COMPLETE = DistrictHistory(
    snapshot_id="S1",
    event_cursor="63" + "0" * 22,
    bookmark="65" + "0" * 22,
    synced_at="2026-11-21T12:00:00.000000Z",
)


def test_first_sync_snapshots_and_reads_the_cursor_first() -> None:
    feed = FakeFeed()
    result = plan(DistrictHistory(), feed)

    assert result.snapshot
    assert result.snapshot_id == "S2"
    assert result.event_cursor == feed.newest
    assert feed.calls == ["newest"]
    assert "first sync" in result.reason


def test_empty_feed_gives_an_empty_cursor() -> None:
    assert plan(DistrictHistory(), FakeFeed(oldest=None, newest=None)).event_cursor == ""


def test_a_resync_over_an_empty_feed_keeps_the_last_known_event_as_cursor() -> None:
    # Everything expired: the events loaded by earlier runs must not count as new changes.
    history = DistrictHistory(**{**COMPLETE.__dict__, "synced_at": "2026-09-01T00:00:00Z"})
    result = plan(history, FakeFeed(oldest=None, newest=None))

    assert result.snapshot
    assert result.event_cursor == COMPLETE.bookmark


def test_complete_snapshot_and_fresh_bookmark_go_incremental() -> None:
    feed = FakeFeed()
    result = plan(COMPLETE, feed)

    assert not result.snapshot
    assert result.snapshot_id is None
    assert "newest" not in feed.calls


def test_a_district_not_read_for_over_30_days_is_resynced() -> None:
    history = DistrictHistory(**{**COMPLETE.__dict__, "synced_at": "2026-10-20T11:00:00Z"})
    result = plan(history, FakeFeed())

    assert result.snapshot
    assert "33 days ago" in result.reason


def test_a_bookmark_older_than_the_oldest_kept_event_is_resynced() -> None:
    feed = FakeFeed(oldest="66" + "0" * 22)
    result = plan(COMPLETE, feed)

    assert result.snapshot
    assert "expired" in result.reason
    assert COMPLETE.bookmark in result.reason


def test_a_cursor_clever_rejects_is_resynced() -> None:
    feed = FakeFeed(rejected={COMPLETE.bookmark})
    result = plan(COMPLETE, feed)

    assert result.snapshot
    assert "no longer accepts" in result.reason


def test_without_the_events_stream_every_run_snapshots() -> None:
    feed = FakeFeed()
    result = plan(COMPLETE, feed, events_selected=False)

    assert result.snapshot
    assert feed.calls == []


def test_the_snapshot_cursor_is_the_reference_when_no_event_was_read_since() -> None:
    history = DistrictHistory(snapshot_id="S1", event_cursor="64" + "0" * 22)
    assert not plan(history, FakeFeed(oldest="63" + "0" * 22)).snapshot
    assert plan(history, FakeFeed(oldest="65" + "0" * 22)).snapshot


# --- whole runs against the sandbox --------------------------------------------------------


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(
        SandboxConfig(districts=2, users_per_district=300, seed=9, initial_events=20)
    ) as server:
        yield server


def config(sandbox: SandboxServer) -> dict:
    return {
        "api_url": sandbox.base_url,
        "district_tokens": sandbox.district_tokens,
        "page_size": 100,
    }


def test_first_run_snapshots_then_later_runs_read_only_new_events(
    sandbox: SandboxServer,
) -> None:
    first = run_sync(config(sandbox))
    assert first.error is None
    snapshots = {s["district"]: s for s in first.records("snapshots")}
    assert set(snapshots) == set(sandbox.district_ids)
    for district_id in sandbox.district_ids:
        feed = sandbox.events(district_id)
        assert snapshots[district_id]["event_cursor"] == feed[-1]["id"]
    snapshot_ids = {u["_clever_snapshot_id"] for u in first.records("users")}
    assert snapshot_ids == {s["snapshot_id"] for s in snapshots.values()}

    appended = sandbox.random_changes(n=30, seed=2)
    second = run_sync(config(sandbox), state=first.final_state)

    assert second.error is None
    for stream in ("districts", "schools", "users", "sections", "snapshots"):
        assert second.records(stream) == [], stream
    assert [e["id"] for e in second.records("events")] == [
        e["id"] for d in sandbox.district_ids for e in sandbox.events(d) if e in appended
    ]


def test_changes_made_during_the_snapshot_arrive_as_events(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    during: list[dict] = []
    read_users = streams.UsersStream.district_records

    def change_then_read(
        self: streams.UsersStream, pages: Iterable[Page], context: dict
    ) -> Iterable[dict]:
        if not during:  # a change lands while the snapshot is being read
            during.extend(sandbox.random_changes(n=10, seed=4))
        yield from read_users(self, pages, context)

    monkeypatch.setattr(streams.UsersStream, "district_records", change_then_read)

    result = run_sync(config(sandbox))
    # Events are read alongside the snapshot: a change made meanwhile comes in this run's
    # events or, read after them, in the next run's, as a change after the run would.
    monkeypatch.undo()
    following = run_sync(config(sandbox), state=result.final_state)

    assert result.error is None
    assert following.error is None
    emitted = {e["id"] for e in result.records("events") + following.records("events")}
    assert {e["id"] for e in during} <= emitted
    # Each is after its district's snapshot cursor, so the warehouse applies it.
    cursors = {s["district"]: s["event_cursor"] for s in result.records("snapshots")}
    district_of = {e["id"]: d for d in sandbox.district_ids for e in sandbox.events(d)}
    assert all(e["id"] > cursors[district_of[e["id"]]] for e in during)


def test_expired_events_after_the_bookmark_force_a_resync(
    sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    first = run_sync(config(sandbox))
    sandbox.random_changes(n=20, seed=3, district_id=sandbox.district_ids[0])
    # Clever's 30-day window drops everything up to the newest event: the bookmark is stale.
    feed = sandbox.events(sandbox.district_ids[0])
    sandbox.expire_events(before_id=feed[-1]["id"], district_id=sandbox.district_ids[0])
    caplog.set_level(logging.INFO)

    second = run_sync(config(sandbox), state=first.final_state)

    assert second.error is None
    stale, fresh = sandbox.district_ids
    assert {u["district"] for u in second.records("users")} == {stale}
    assert len(second.records("users")) == len(sandbox.records("users", stale))
    assert [s["district"] for s in second.records("snapshots")] == [stale]
    assert "expired" in second.records("snapshots")[0]["reason"]
    assert "expired" in caplog.text
    assert fresh in caplog.text


def test_cursor_falls_back_to_paging_when_ending_before_last_is_refused(
    sandbox: SandboxServer,
) -> None:
    sandbox.add_fault(kind="status", status=400, path="ending_before=last", times=None)

    result = run_sync(config(sandbox) | {"page_size": 7}, streams={"users", "events", "snapshots"})

    assert result.error is None
    cursors = {s["district"]: s["event_cursor"] for s in result.records("snapshots")}
    assert cursors == {d: sandbox.events(d)[-1]["id"] for d in sandbox.district_ids}


def test_full_refresh_without_state_snapshots_again_with_a_new_snapshot_id(
    sandbox: SandboxServer,
) -> None:
    first = run_sync(config(sandbox), streams={"users", "events", "snapshots"})

    again = run_sync(config(sandbox), streams={"users", "events", "snapshots"})

    assert len(again.records("users")) == len(first.records("users"))
    first_ids = {s["snapshot_id"] for s in first.records("snapshots")}
    again_ids = {s["snapshot_id"] for s in again.records("snapshots")}
    assert min(again_ids) > max(first_ids)
