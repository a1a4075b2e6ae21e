"""One stream per Clever record type, plus the events feed and the snapshots it completes.

Streams are declarations: the endpoint, the schema, the query that reads a district, and what
to make of its records. HTTP is the client's (`client.py`); reading districts in parallel and
keeping track of them is the run's (`run.py`). Every stream's partitions are the districts
(`{"district": <id>}`), so the SDK keeps state per district and adds the district id to records
that lack it (events).
"""

from __future__ import annotations

import datetime as dt
import typing as t
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property

from singer_sdk import Stream
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.singerlib import RecordMessage
from typing_extensions import override

from tap_clever.batch_files import JsonLinesFileBatcher, writes_json_lines
from tap_clever.client import page_records
from tap_clever.errors import CleverAPIError, CleverError
from tap_clever.privacy import PrivacyPolicy, event_record_type
from tap_clever.schema import event_schema, snapshot_record_schema, snapshots_schema
from tap_clever.sync_plan import utc_now_iso

if t.TYPE_CHECKING:
    from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig
    from singer_sdk.helpers.types import Context
    from singer_sdk.singerlib import SelectionMask

    from tap_clever.client import Page
    from tap_clever.tap import TapClever

API_VERSION_PATH = "/v3.1"


@dataclass(frozen=True)
class EndpointRead:
    """One list request that reads (part of) a district, followed page by page to its end."""

    path: str
    params: dict[str, t.Any] = field(default_factory=dict)


class CleverStream(Stream):
    """A Clever v3.1 list endpoint, read for every district."""

    primary_keys: t.ClassVar[list[str]] = ["id"]
    # Values pass through as Clever sent them: nothing to coerce, and skipping the SDK's
    # per-record schema walk is most of the tap's throughput.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    #: The list endpoint under /v3.1.
    path: t.ClassVar[str]
    #: Whether a district whose token Clever refuses this endpoint (403) is skipped with a
    #: warning rather than failed.
    skip_when_forbidden: t.ClassVar[bool] = False
    #: Whether the records may go out as files (BATCH messages) when `batch_config` is set.
    sends_batches: t.ClassVar[bool] = False

    _tap: TapClever

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        # Read when the tap starts, not at the first record: settings that do not fit stop the
        # run with a configuration error before any request.
        self.privacy = PrivacyPolicy.from_config(self.config)

    @property
    @override
    def partitions(self) -> list[dict[str, t.Any]] | None:
        return [{"district": district_id} for district_id in self._tap.run.syncable_district_ids()]

    @override
    def post_process(
        self, row: dict[str, t.Any], context: Context | None = None
    ) -> dict[str, t.Any] | None:
        # Here, not in the message writer: post_process also feeds the BATCH files.
        return self.privacy.protect(self.name, row)

    @cached_property
    def page_size(self) -> int:
        return int(self.config["page_size"])

    def filter_params(self) -> dict[str, t.Any]:
        """Query parameters that select what the stream reads (kept on every page)."""
        return {}

    def endpoint_reads(self, district_id: str) -> list[EndpointRead]:
        """The list requests that read one district, in order (planned on the sync's thread,
        sent from a worker thread)."""
        params = {"limit": self.page_size, **self.filter_params()}
        return [EndpointRead(API_VERSION_PATH + self.path, params)]

    def district_records(
        self, pages: Iterable[Page], context: Context
    ) -> Iterable[dict[str, t.Any]]:
        """A district's records from its pages; a stream that judges records overrides this.

        Each page is decoded and checked whole before its first record is yielded, so a
        malformed page emits nothing and state never moves past the last complete page.
        """
        return page_records(pages)

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        district_id = (context or {}).get("district")
        if context is None or district_id is None:
            return  # no district to read this run: the SDK syncs an empty context instead
        try:
            yield from self.district_records(self._tap.run.pages(self, district_id), context)
        except CleverAPIError as exc:
            if exc.status == 403 and self.skip_when_forbidden:
                self._tap.run.district_forbidden(district_id, self.name, exc)
                return
            self._fail_district(district_id, exc)
        except CleverError as exc:
            self._fail_district(district_id, exc)

    def _fail_district(self, district_id: str, error: CleverError) -> None:
        # Emit the state reached so far (the last complete page) before anything else: the
        # rerun then resumes there instead of re-reading what was already loaded.
        self._write_state_message()
        self._tap.run.district_failed(district_id, self.name, error)

    @override
    def finalize_state_progress_markers(self, state: dict[str, t.Any] | None = None) -> None:
        super().finalize_state_progress_markers(state)
        # The SDK calls this after each stream's sync.
        self._tap.run.finish_stream(self)

    @cached_property
    def _every_property_selected(self) -> bool:
        return all(self.mask.values())

    @cached_property
    def _records_pass_unchanged(self) -> bool:
        """Whether each record goes out exactly as read: every property selected, and no
        stream map or flattening configured (the SDK's BATCH path applies neither)."""
        return self._every_property_selected and all(
            type(stream_map) is SameRecordTransform
            and not stream_map.flattening_enabled
            and stream_map.stream_alias == self.name
            for stream_map in self.stream_maps
        )

    @override
    def get_batch_config(self, config: t.Mapping[str, t.Any]) -> BatchConfig | None:
        batch_config = super().get_batch_config(config)
        if batch_config is None or not self.sends_batches or not self._records_pass_unchanged:
            return None  # RECORD messages, which select, map and flatten as configured
        return batch_config

    @override
    def get_batches(
        self, batch_config: BatchConfig, context: Context | None = None
    ) -> Iterable[tuple[BaseBatchFileEncoding, list[str]]]:
        if not writes_json_lines(batch_config):
            yield from super().get_batches(batch_config, context)
            return
        batcher = JsonLinesFileBatcher(self.tap_name, self.name, batch_config)
        # What the SDK's own get_batches batches: the records as the sync yields them, state
        # kept, no RECORD message written (a private method: pinned in test_sdk_pins.py).
        records = self._sync_records(context, write_messages=False)
        for manifest in batcher.get_batches(records):
            yield batch_config.encoding, manifest

    @override
    def _generate_record_messages(
        self, record: dict[str, t.Any]
    ) -> Generator[RecordMessage, None, None]:
        # The SDK walks every record against the selection mask to drop deselected properties:
        # half the tap's CPU on nested user records. When nothing is deselected (the usual
        # catalog) the walk cannot change the record, so skip it; otherwise keep the SDK's path.
        # A private SDK method: tests/tap/test_sdk_pins.py pins it against the SDK's own.
        if not self._every_property_selected:
            yield from super()._generate_record_messages(record)
            return
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=self._stream_version,
                    time_extracted=dt.datetime.now(dt.UTC),
                )


class SnapshotStream(CleverStream):
    """A record type read whole, for the districts whose plan this run is a snapshot.

    Each record carries `_clever_snapshot_id`, the snapshot it was read in, so the warehouse can
    tell the latest complete snapshot's records from those that silently left the source. A
    record type Clever refuses to the district's token (403: not a Secure Sync district) is
    skipped with a warning: the snapshot holds what the application may read.
    """

    skip_when_forbidden = True
    # Whole record types, the bulk of a run: as files. Their state holds no bookmark, so a
    # STATE written while a file is still open (a district failing) claims nothing unsent.
    sends_batches = True

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        # A full read keeps nothing in the state: one empty bookmark per stream, not one per
        # district (with a thousand districts, every STATE message would carry thousands).
        self.state_partitioning_keys = ()

    @property
    @override
    def partitions(self) -> list[dict[str, t.Any]] | None:
        return [{"district": district_id} for district_id in self._tap.run.snapshot_district_ids()]

    @override
    def post_process(
        self, row: dict[str, t.Any], context: Context | None = None
    ) -> dict[str, t.Any] | None:
        district_id = (context or {})["district"]
        # What the SDK does for partitioned state: a record without a district gets its own.
        row.setdefault("district", district_id)
        row["_clever_snapshot_id"] = self._tap.run.plan_for(district_id).snapshot_id
        return super().post_process(row, context)


class DistrictsStream(SnapshotStream):
    """The district a token belongs to (one record per district)."""

    name = "districts"
    path = "/districts"
    schema = snapshot_record_schema("District")

    @override
    def endpoint_reads(self, district_id: str) -> list[EndpointRead]:
        # /districts takes no paging parameters: a district token sees one district.
        return [EndpointRead(API_VERSION_PATH + self.path)]

    @override
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

    @cached_property
    def roles(self) -> list[str]:
        return list(dict.fromkeys(self.config.get("user_roles") or []))

    @override
    def endpoint_reads(self, district_id: str) -> list[EndpointRead]:
        # Clever filters on one role per request.
        url = API_VERSION_PATH + self.path
        if not self.roles:
            return [EndpointRead(url, {"limit": self.page_size})]
        return [EndpointRead(url, {"limit": self.page_size, "role": r}) for r in self.roles]

    @override
    def district_records(
        self, pages: Iterable[Page], context: Context
    ) -> Iterable[dict[str, t.Any]]:
        # A user holding two of the wanted roles comes back once per role: emit it once (only
        # such users need remembering).
        emitted_multi_role: set[str] = set()
        for user in super().district_records(pages, context):
            held = [r for r in self.roles if r in (user.get("roles") or {})]
            if len(held) > 1:
                if user["id"] in emitted_multi_role:
                    continue
                emitted_multi_role.add(user["id"])
            yield user


class EventsStream(CleverStream):
    """Clever's change feed, oldest first, read from each district's bookmark onwards."""

    name = "events"
    path = "/events"
    schema = event_schema()
    replication_key = "id"
    # RECORD messages, not files: the bookmark moves with each event, and a STATE written when
    # a district fails mid-feed must not cover events still in an unsent file.
    sends_batches = False
    # Event ids are ObjectIDs: fixed-width hex that sorts in feed order, so the bookmark is
    # simply the last id read, and a run stopped at any page resumes right after it.
    is_sorted = True

    @property
    @override
    def partitions(self) -> list[dict[str, t.Any]] | None:
        return [{"district": district_id} for district_id in self._tap.run.event_district_ids()]

    @override
    def filter_params(self) -> dict[str, t.Any]:
        record_types = self.config.get("event_record_types") or []
        return {"record_type": list(record_types)} if record_types else {}

    @override
    def endpoint_reads(self, district_id: str) -> list[EndpointRead]:
        (read,) = super().endpoint_reads(district_id)
        # The bookmark the run started with (this stream has not moved it yet when its reads
        # are planned), read without creating the district's partition: a district that fails
        # first must not get a bookmark. The SDK's starting marker is not written yet either.
        bookmark = self._tap.run.histories[district_id].bookmark
        if bookmark:
            read.params["starting_after"] = bookmark
        return [read]

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

    @cached_property
    def _record_type_masks(self) -> dict[str, SelectionMask]:
        """The catalog selection of each record type whose stream deselects a property: an
        event's copy of the record must not carry what the stream itself leaves out. (A stream
        deselected whole leaves its events alone: `event_record_types` leaves those out.)"""
        return {
            name: stream.mask
            for name, stream in self._tap.streams.items()
            if isinstance(stream, CleverStream)
            and stream is not self
            and stream.selected
            and not stream._every_property_selected
        }

    @override
    def post_process(
        self, row: dict[str, t.Any], context: Context | None = None
    ) -> dict[str, t.Any] | None:
        mask = self._record_type_masks.get(event_record_type(row))
        return self.privacy.protect_event(row, mask)

    @override
    def district_records(
        self, pages: Iterable[Page], context: Context
    ) -> Iterator[dict[str, t.Any]]:
        last_read: str | None = None
        for event in super().district_records(pages, context):
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


class SnapshotsStream(Stream):
    """One record per district snapshot completed in this run: which snapshot, from which event.

    Synced last, once every snapshot stream has read the district without failing; its state
    tells later runs that the district has a complete snapshot to build on.
    """

    name = "snapshots"
    primary_keys: t.ClassVar[list[str]] = ["district", "snapshot_id"]
    schema = snapshots_schema()

    _tap: TapClever

    @override
    def get_batch_config(self, config: t.Mapping[str, t.Any]) -> BatchConfig | None:
        return None  # a record a district, sent as a RECORD after every file it completes

    @property
    @override
    def partitions(self) -> list[dict[str, t.Any]] | None:
        return [{"district": district_id} for district_id in self._tap.run.snapshot_district_ids()]

    @override
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
            snapshot_id=plan.snapshot_id,
            event_cursor=plan.event_cursor,
            # /oauth/tokens does not name a district: later runs that read only its events
            # name it in their messages from here.
            district_name=self._tap.run.district_name(district_id),
        )
        yield record

    @override
    def finalize_state_progress_markers(self, state: dict[str, t.Any] | None = None) -> None:
        super().finalize_state_progress_markers(state)
        self._tap.run.finish_stream(self)
