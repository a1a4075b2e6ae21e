"""One stream per Clever record type, plus the events feed."""

from __future__ import annotations

import typing as t
from functools import cached_property
from urllib.parse import ParseResult

from singer_sdk import Stream

from tap_clever.client import CleverStream
from tap_clever.errors import CleverAPIError
from tap_clever.schema import event_schema, snapshot_record_schema, snapshots_schema
from tap_clever.sync_plan import utc_now_iso

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    from singer_sdk.helpers.types import Context

    from tap_clever.tap import TapClever


class SnapshotStream(CleverStream):
    """A record type read whole, for the districts whose plan this run is a snapshot.

    Each record carries `_clever_snapshot_id`, the snapshot it was read in, so the warehouse can
    tell the latest complete snapshot's records from those that silently left the source.
    """

    @property
    def partitions(self) -> list[dict[str, t.Any]] | None:
        return [{"district": district_id} for district_id in self._tap.run.snapshot_district_ids()]

    def post_process(
        self, row: dict[str, t.Any], context: Context | None = None
    ) -> dict[str, t.Any] | None:
        row["_clever_snapshot_id"] = self._tap.run.plan_for((context or {})["district"]).snapshot_id
        return row


class DistrictsStream(SnapshotStream):
    """The district a token belongs to (one record per district)."""

    name = "districts"
    path = "/districts"
    schema = snapshot_record_schema("District")

    def get_url_params(
        self, context: Context | None, next_page_token: ParseResult | None
    ) -> dict[str, t.Any]:
        return {}  # /districts takes no paging parameters: a token sees one district.

    def post_process(
        self, row: dict[str, t.Any], context: Context | None = None
    ) -> dict[str, t.Any] | None:
        # Later error messages name the district, not just its id.
        self._tap.run.remember_district_name(row["id"], row.get("name"))
        return super().post_process(row, context)


class SchoolsStream(SnapshotStream):
    name = "schools"
    path = "/schools"
    schema = snapshot_record_schema("School")


class TermsStream(SnapshotStream):
    name = "terms"
    path = "/terms"
    schema = snapshot_record_schema("Term")


class CoursesStream(SnapshotStream):
    name = "courses"
    path = "/courses"
    schema = snapshot_record_schema("Course")


class SectionsStream(SnapshotStream):
    name = "sections"
    path = "/sections"
    schema = snapshot_record_schema("Section")


class ResourcesStream(SnapshotStream):
    name = "resources"
    path = "/resources"
    schema = snapshot_record_schema("Resource")


class UsersStream(SnapshotStream):
    """Every user with all their roles; `user_roles` narrows it to users holding those roles."""

    name = "users"
    path = "/users"
    schema = snapshot_record_schema("User")

    _role: str | None = None

    @cached_property
    def roles(self) -> list[str]:
        return list(dict.fromkeys(self.config.get("user_roles") or []))

    def filter_params(self) -> dict[str, t.Any]:
        return {"role": self._role} if self._role else {}

    def read_district(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        if len(self.roles) <= 1:
            self._role = self.roles[0] if self.roles else None
            yield from self.request_records(context)
            return
        # Clever filters on one role per request. A user holding two of the wanted roles comes
        # back once per role: emit it once (only such users need remembering).
        emitted_multi_role: set[str] = set()
        for role in self.roles:
            self._role = role
            for user in self.request_records(context):
                held = [r for r in self.roles if r in (user.get("roles") or {})]
                if len(held) > 1:
                    if user["id"] in emitted_multi_role:
                        continue
                    emitted_multi_role.add(user["id"])
                yield user
        self._role = None


class EventsStream(CleverStream):
    """Clever's change feed, oldest first, read from each district's bookmark onwards."""

    name = "events"
    path = "/events"
    schema = event_schema()
    replication_key = "id"
    # Event ids are ObjectIDs: fixed-width hex that sorts in feed order, so the bookmark is
    # simply the last id read, and a run stopped at any page resumes right after it.
    is_sorted = True

    def filter_params(self) -> dict[str, t.Any]:
        record_types = self.config.get("event_record_types") or []
        return {"record_type": list(record_types)} if record_types else {}

    def get_url_params(
        self, context: Context | None, next_page_token: ParseResult | None
    ) -> dict[str, t.Any]:
        params = super().get_url_params(context, next_page_token)
        bookmark = self.get_starting_replication_key_value(context)
        if bookmark:
            params["starting_after"] = bookmark
        return params

    @cached_property
    def user_roles(self) -> frozenset[str]:
        return frozenset(self.config.get("user_roles") or [])

    def is_in_scope(self, event: dict[str, t.Any]) -> bool:
        """With `user_roles` set, a users event counts if the user holds one of those roles
        after the change or held one before it (so a role dropped still reaches the
        warehouse); every other event counts."""
        if not self.user_roles or not str(event.get("type", "")).startswith("users."):
            return True
        data = event.get("data") or {}
        for state in (data.get("object"), data.get("previous_attributes")):
            roles = (state or {}).get("roles")
            if isinstance(roles, dict) and self.user_roles & roles.keys():
                return True
        return False

    def read_district(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        last_read: str | None = None
        for event in super().read_district(context):
            last_read = event["id"]
            if self.is_in_scope(event):
                yield event
        state = self.get_context_state(context)
        # Events left out by `user_roles` still move the bookmark: they were read, on purpose
        # not loaded, and must not hold the bookmark back until Clever expires them.
        if last_read and last_read > (state.get("replication_key_value") or ""):
            state.update(replication_key="id", replication_key_value=last_read)
        # Read to the end of the feed: no event up to now can have expired unseen.
        state["synced_at"] = utc_now_iso()

    # --- probing the feed for the sync plan (sync_plan.EventFeed) -----------------------------

    def _first_id(self, district_id: str, params: dict[str, t.Any]) -> str | None:
        data = self.fetch_page(district_id, params)["data"]
        return str(data[0]["data"]["id"]) if data else None

    def oldest_event_id(self, district_id: str) -> str | None:
        return self._first_id(district_id, {"limit": 1})

    def newest_event_id(self, district_id: str) -> str | None:
        # `ending_before=last` is how Clever's own client libraries read the newest event; it
        # is observed behaviour, not documented, so an answer that does not fit falls back to
        # paging forward to the end of the feed.
        try:
            newest = self._first_id(district_id, {"ending_before": "last", "limit": 1})
        except CleverAPIError:
            newest = None
        if newest is not None:
            return newest
        last: str | None = None
        params: dict[str, t.Any] = {"limit": self.page_size}
        while True:
            data = self.fetch_page(district_id, params)["data"]
            if not data:
                return last
            last = str(data[-1]["data"]["id"])
            params = {"limit": self.page_size, "starting_after": last}

    def knows_cursor(self, district_id: str, event_id: str) -> bool:
        try:
            self.fetch_page(district_id, {"starting_after": event_id, "limit": 1})
        except CleverAPIError as exc:
            if exc.status in {400, 404}:
                return False
            raise
        return True


class SnapshotsStream(Stream):
    """One record per district snapshot completed in this run: which snapshot, from which event.

    Synced last, once every snapshot stream has read the district without failing; its state
    tells later runs that the district has a complete snapshot to build on.
    """

    name = "snapshots"
    primary_keys: t.ClassVar[list[str]] = ["district", "snapshot_id"]
    schema = snapshots_schema()

    _tap: TapClever

    @property
    def partitions(self) -> list[dict[str, t.Any]] | None:
        return [{"district": district_id} for district_id in self._tap.run.snapshot_district_ids()]

    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        district_id = (context or {}).get("district")
        if district_id is None:
            return  # no snapshot completed this run: the SDK syncs an empty context instead
        plan = self._tap.run.plan_for(district_id)
        record = {
            "district": plan.district_id,
            "snapshot_id": plan.snapshot_id,
            "event_cursor": plan.event_cursor,
            "reason": plan.reason,
            "completed_at": utc_now_iso(),
        }
        self.get_context_state(context).update(
            snapshot_id=plan.snapshot_id, event_cursor=plan.event_cursor
        )
        yield record

    def finalize_state_progress_markers(self, state: dict[str, t.Any] | None = None) -> None:
        super().finalize_state_progress_markers(state)
        self._tap.run.raise_if_finished_with_failures(self)
