"""A district's event feed: append-only, ordered by event id, with retention.

Events are stored as ready-to-send list-item bytes, like records. The feed keeps, per event,
its record type and the schools it touches, so the ``record_type`` and ``school`` filters of
``GET /events`` are cheap scans. Expiry drops from the start of the feed, as Clever's 30-day
retention does.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .ids import id_timestamp, iso_ms
from .jsonutil import dumps, loads

_PREFIX = b'{"data":'
_URI_HEAD = b',"uri":"/v3.1/events/'


@dataclass(frozen=True)
class StoredEvent:
    """One event as served, plus what the filters look at."""

    id: str
    record_type: str
    schools: frozenset[str]
    item: bytes

    def event(self) -> dict[str, Any]:
        """The event object (``{"created", "data", "id", "type"}``) as a fresh dict."""
        return loads(self.item[len(_PREFIX) : -(len(_URI_HEAD) + 24 + 2)])  # type: ignore[no-any-return]


def schools_of(record_type: str, record: dict[str, Any]) -> frozenset[str]:
    """Schools an event about ``record`` concerns, for the ``school`` filter."""
    if record_type == "schools":
        return frozenset({record["id"]})
    found: set[str] = set()
    if record_type == "sections" and record.get("school"):
        found.add(record["school"])
    if record_type == "users":
        for role in (record.get("roles") or {}).values():
            if isinstance(role, dict):
                if role.get("school"):
                    found.add(role["school"])
                found.update(s for s in role.get("schools") or () if s)
    return frozenset(found)


def build_event(
    event_id: str,
    record_type: str,
    action: str,
    record: dict[str, Any],
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The event payload: ``created`` comes from the event id's timestamp."""
    data: dict[str, Any] = {"object": record}
    if previous is not None:
        data["previous_attributes"] = previous
    return {
        "created": iso_ms(id_timestamp(event_id)),
        "data": data,
        "id": event_id,
        "type": f"{record_type}.{action}",
    }


class EventFeed:
    """Events of one district, oldest first."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self._events: dict[str, StoredEvent] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def append(self, event: dict[str, Any], record_type: str) -> StoredEvent:
        """Add an event whose id is greater than every id in the feed."""
        event_id = event["id"]
        if self.ids and event_id <= self.ids[-1]:
            raise ValueError("event ids must grow")
        item = _PREFIX + dumps(event) + _URI_HEAD + event_id.encode() + b'"}'
        stored = StoredEvent(
            event_id, record_type, schools_of(record_type, event["data"]["object"]), item
        )
        self.ids.append(event_id)
        self._events[event_id] = stored
        return stored

    def get(self, event_id: str) -> StoredEvent | None:
        return self._events.get(event_id)

    def select(
        self,
        record_types: Iterable[str] = (),
        school: str | None = None,
    ) -> list[str]:
        """Ids of the events passing the filters, in feed order."""
        wanted = set(record_types)
        if not wanted and not school:
            return self.ids
        out = []
        for event_id in self.ids:
            stored = self._events[event_id]
            if wanted and stored.record_type not in wanted:
                continue
            if school and school not in stored.schools:
                continue
            out.append(event_id)
        return out

    def items(self, event_ids: Iterable[str]) -> list[bytes]:
        return [self._events[e].item for e in event_ids]

    def expire_before(self, event_id: str) -> int:
        """Drop every event whose id is lower than ``event_id``; returns how many."""
        cut = bisect.bisect_left(self.ids, event_id)
        for dropped in self.ids[:cut]:
            del self._events[dropped]
        del self.ids[:cut]
        return cut

    def expire_older_than(self, timestamp: int) -> int:
        """Drop events created before Unix time ``timestamp``."""
        return self.expire_before(f"{timestamp:08x}" + "0" * 16)

    def all(self) -> list[dict[str, Any]]:
        return [self._events[e].event() for e in self.ids]
