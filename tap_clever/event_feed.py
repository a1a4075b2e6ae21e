"""Probing a district's event feed for the sync plan: its oldest and newest event, and whether
Clever still accepts a bookmark as a cursor (`sync_plan.EventFeed`)."""

from __future__ import annotations

import typing as t
from collections.abc import Callable

from tap_clever.client import CleverClient, Page
from tap_clever.errors import CleverAPIError
from tap_clever.sync_plan import EventsUnavailable

EVENTS_PATH = "/v3.1/events"
# Statuses with which Clever refuses the feed itself: events not enabled for the application
# (404), not a Secure Sync district or no events scope (403), or no access at all (401).
_UNAVAILABLE_STATUSES = frozenset({401, 403, 404})


class ClientEventFeed:
    """A district's event feed, read through the client with the district's token."""

    def __init__(
        self,
        client: CleverClient,
        *,
        token_for: Callable[[str], str],
        label_for: Callable[[str], str],
        page_size: int,
    ) -> None:
        self._client = client
        self._token_for = token_for
        self._label_for = label_for
        self._page_size = page_size

    def oldest_event_id(self, district_id: str) -> str | None:
        return _first_id(self._get(district_id, {"limit": 1}))

    def newest_event_id(self, district_id: str) -> str | None:
        # `ending_before=last` is how Clever's own client libraries read the newest event; it is
        # observed behaviour, not documented. The answer is verified: nothing may follow it. A
        # server that ignored `ending_before` answered with the oldest event, which as a cursor
        # would reapply every old update and bring back records removed without an event.
        try:
            probe = self._get(district_id, {"ending_before": "last", "limit": 1}, raw=True)
            newest = _first_id(probe)
        except CleverAPIError:
            newest = None  # the form is refused: page forward from the start instead
        # Page forward from the candidate to the end of the feed: one empty page when the
        # candidate was the newest event.
        params: dict[str, t.Any] = {"limit": self._page_size}
        while True:
            if newest:
                params["starting_after"] = newest
            records = self._get(district_id, params).records()
            if not records:
                return newest
            newest = str(records[-1]["id"])

    def knows_cursor(self, district_id: str, event_id: str) -> bool:
        try:
            self._get(district_id, {"starting_after": event_id, "limit": 1}, raw=True)
        except CleverAPIError as exc:
            if exc.status in {400, 404}:
                return False
            raise
        return True

    def _get(self, district_id: str, params: dict[str, t.Any], *, raw: bool = False) -> Page:
        """One page of the feed. Unless `raw`, a status that refuses the feed itself raises
        `EventsUnavailable`; `raw` leaves the judgement to the caller (a refused cursor, or a
        refused `ending_before=last`, says nothing about the feed)."""
        try:
            return self._client.get_page(
                self._token_for(district_id),
                EVENTS_PATH,
                params,
                label=f"District {self._label_for(district_id)}",
            )
        except CleverAPIError as exc:
            if exc.status in _UNAVAILABLE_STATUSES and not raw:
                said = f', Clever said "{exc.detail}"' if exc.detail else ""
                raise EventsUnavailable(exc.status, f"HTTP {exc.status}{said}") from None
            raise


def _first_id(page: Page) -> str | None:
    records = page.records()
    return str(records[0]["id"]) if records else None
