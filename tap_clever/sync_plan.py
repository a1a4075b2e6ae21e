"""Per district and per run: read a full snapshot, or only the events since the last run?

Clever's guidance is to take the initial sync (and any resync) from the Data API and keep up
with the Events API afterwards. A district is synced incrementally (events only) when it has a
completed snapshot, its events bookmark can still be trusted, and the events stream is selected.
Otherwise it is snapshotted: the newest event id is recorded *before* the first snapshot
request, so the events read afterwards cover every change made while the snapshot was read
(applying one the snapshot already reflects changes nothing, as Clever's events are full
records).

A bookmark can no longer be trusted when Clever may have dropped events after it: Clever keeps
events 30 days, so when the district was last read more than 30 days ago, when the oldest event
still in the feed is newer than the bookmark, or when Clever rejects the bookmark as a cursor.

Clever serves events only to Secure Sync districts of applications that turned events on. A
district whose feed is not available is snapshotted on every run: its deletions still reach the
warehouse, through snapshot replacement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

#: Clever keeps events this long; a district not read for longer must be resynced.
EVENT_RETENTION = dt.timedelta(days=30)


class EventsUnavailable(Exception):
    """The district's event feed is not available to the application (events not enabled, or
    not a Secure Sync district)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


class EventFeed(Protocol):
    """What the plan needs to know of a district's event feed (each may raise
    `EventsUnavailable`)."""

    def oldest_event_id(self, district_id: str) -> str | None: ...

    def newest_event_id(self, district_id: str) -> str | None: ...

    def knows_cursor(self, district_id: str, event_id: str) -> bool: ...


@dataclass(frozen=True)
class DistrictPlan:
    """What one district's run does, and why (the reason is logged)."""

    district_id: str
    snapshot: bool
    reason: str
    #: Identifies this run's snapshot (sortable: an ISO timestamp); None when incremental.
    snapshot_id: str | None = None
    #: The newest event id when the snapshot started ("" for an empty feed).
    event_cursor: str | None = None
    #: Whether this run reads the district's events (selected, and the feed is available).
    events: bool = True
    #: Why the feed is unavailable, for the one warning that says so; None when it is.
    events_unavailable: str | None = None


@dataclass(frozen=True)
class DistrictHistory:
    """What the state says about a district's earlier runs."""

    snapshot_id: str | None = None
    event_cursor: str | None = None
    bookmark: str | None = None
    synced_at: str | None = None
    #: The district's name when its last snapshot completed.
    name: str | None = None

    @property
    def last_known_event(self) -> str:
        """The newest event id the state knows of ("" if none): every event loaded so far sorts
        at or before it."""
        return self.bookmark or self.event_cursor or ""


def _partitions_by_district(state: Mapping[str, Any], stream: str) -> dict[str, Mapping[str, Any]]:
    partitions = state.get("bookmarks", {}).get(stream, {}).get("partitions", [])
    return {p["context"]["district"]: p for p in partitions if "district" in p.get("context", {})}


def histories_from_state(
    state: Mapping[str, Any], district_ids: Iterable[str]
) -> dict[str, DistrictHistory]:
    """Each district's last completed snapshot and events bookmark, from the tap state (read in
    one pass: with a thousand districts, a search per district would be a million steps)."""
    snapshots = _partitions_by_district(state, "snapshots")
    events = _partitions_by_district(state, "events")
    histories: dict[str, DistrictHistory] = {}
    for district_id in district_ids:
        snapshot = snapshots.get(district_id, {})
        feed = events.get(district_id, {})
        histories[district_id] = DistrictHistory(
            snapshot_id=snapshot.get("snapshot_id"),
            event_cursor=snapshot.get("event_cursor"),
            bookmark=feed.get("replication_key_value")
            or feed.get("progress_markers", {}).get("replication_key_value"),
            synced_at=feed.get("synced_at"),
            name=snapshot.get("district_name"),
        )
    return histories


def utc_now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def plan_district(
    district_id: str,
    history: DistrictHistory,
    feed: EventFeed,
    *,
    events_selected: bool,
    snapshot_id: str,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> DistrictPlan:
    """Decide one district's run; a snapshot plan reads the event cursor before returning."""
    # An empty feed (nothing happened for 30 days), or one no longer available, still must not
    # let events loaded by earlier runs count as changes after this snapshot: every event
    # Clever writes from now on sorts after the last one this district's state knows.
    try:
        return _plan(district_id, history, feed, events_selected, snapshot_id, now)
    except EventsUnavailable as exc:
        return DistrictPlan(
            district_id,
            True,
            f"the Events API is not available for this district ({exc}), so every run reads "
            "a full snapshot",
            snapshot_id=snapshot_id,
            event_cursor=history.last_known_event,
            events=False,
            events_unavailable=str(exc),
        )


def _plan(
    district_id: str,
    history: DistrictHistory,
    feed: EventFeed,
    events_selected: bool,
    snapshot_id: str,
    now: Callable[[], dt.datetime],
) -> DistrictPlan:
    def snapshot(reason: str) -> DistrictPlan:
        cursor = feed.newest_event_id(district_id) if events_selected else None
        return DistrictPlan(
            district_id,
            True,
            reason,
            snapshot_id=snapshot_id,
            event_cursor=cursor or history.last_known_event,
            events=events_selected,
        )

    if not events_selected:
        return snapshot("the events stream is not selected, so every run reads a full snapshot")
    if not history.snapshot_id:
        return snapshot("first sync of this district (or a full refresh)")
    if history.synced_at:
        last = dt.datetime.fromisoformat(history.synced_at.replace("Z", "+00:00"))
        if now() - last > EVENT_RETENTION:
            days = (now() - last).days
            return snapshot(
                f"last read {days} days ago, and Clever keeps events for 30 days: changes may "
                "be missing from the feed, so the district is resynced from a full snapshot"
            )
    cursor = history.last_known_event
    oldest = feed.oldest_event_id(district_id)
    if cursor and oldest and oldest > cursor:
        return snapshot(
            f"the bookmark {cursor} is older than the oldest event Clever still keeps "
            f"({oldest}): events after it have expired, so the district is resynced from a "
            "full snapshot"
        )
    if cursor and not feed.knows_cursor(district_id, cursor):
        return snapshot(
            f"Clever no longer accepts the bookmark {cursor} as a cursor, so the district is "
            "resynced from a full snapshot"
        )
    return DistrictPlan(district_id, False, "incremental: events after the bookmark")
