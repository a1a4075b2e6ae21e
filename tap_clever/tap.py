"""tap-clever: wires the settings, the districts to sync, and the streams."""

from __future__ import annotations

import re
import typing as t
from functools import cached_property

from singer_sdk import Stream, Tap
from singer_sdk import typing as th
from singer_sdk.contrib.msgspec import MsgSpecWriter

from tap_clever import districts, streams
from tap_clever.errors import CleverDistrictsFailedError, CleverError
from tap_clever.ratelimit import RateLimitTracker
from tap_clever.sync_plan import DistrictPlan, history_from_state, plan_district, utc_now_iso

USER_ROLES = ["student", "teacher", "staff", "contact", "district_admin"]
EVENT_RECORD_TYPES = ["districts", "schools", "users", "sections", "terms", "courses", "resources"]
# 10000 is Clever's maximum page size: the fewest requests (each costs ~a round trip and one of
# the 1200 a minute a token may make) for pages that still fit easily in memory (~15 MB of users).
DEFAULT_PAGE_SIZE = 10000

# Synced in this order: the snapshot streams, then the events after the snapshot's cursor, then
# `snapshots`, which records a district's snapshot as complete only once all the rest succeeded.
STREAM_TYPES: list[type[Stream]] = [
    streams.DistrictsStream,
    streams.SchoolsStream,
    streams.TermsStream,
    streams.CoursesStream,
    streams.SectionsStream,
    streams.UsersStream,
    streams.ResourcesStream,
    streams.EventsStream,
    streams.SnapshotsStream,
]


class TapClever(Tap):
    """Singer tap for Clever rostering data: every district of an application in one run."""

    name = "tap-clever"
    message_writer_class = MsgSpecWriter

    config_jsonschema = th.PropertiesList(
        th.Property(
            "api_url",
            th.URIType,
            default="https://api.clever.com",
            title="API URL",
            description="Clever API host. The tap requests /v3.1/... under it.",
        ),
        th.Property(
            "auth_token",
            th.StringType,
            secret=True,
            title="District-app token",
            description="Bearer token of one district (a district-app token, not Instant Login).",
        ),
        th.Property(
            "district_tokens",
            th.ArrayType(th.StringType),
            secret=True,
            title="District-app tokens",
            description="Bearer tokens, one per district, all synced in one run.",
        ),
        th.Property(
            "client_id",
            th.StringType,
            title="Client ID",
            description="The application's client id: with client_secret, the tap discovers "
            "every district token of the application from /oauth/tokens.",
        ),
        th.Property(
            "client_secret",
            th.StringType,
            secret=True,
            title="Client secret",
            description="The application's client secret (used only for /oauth/tokens).",
        ),
        th.Property(
            "oauth_url",
            th.URIType,
            default="https://clever.com",
            title="OAuth URL",
            description="Clever identity host serving /oauth/tokens.",
        ),
        th.Property(
            "page_size",
            th.IntegerType(minimum=1, maximum=10000),
            default=DEFAULT_PAGE_SIZE,
            title="Page size",
            description="Records per request (Clever's `limit`, 1 to 10000).",
        ),
        th.Property(
            "user_roles",
            th.ArrayType(th.StringType(allowed_values=USER_ROLES)),
            title="User roles",
            description="Sync only users holding one of these roles (default: all users).",
        ),
        th.Property(
            "event_record_types",
            th.ArrayType(th.StringType(allowed_values=EVENT_RECORD_TYPES)),
            title="Event record types",
            description="Read only events of these record types (default: all).",
        ),
    ).to_dict()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        districts.reject_instant_login_tokens(self.config)
        self._failures: dict[str, str] = {}
        self._district_names: dict[str, str] = {}
        self._rate_limits: dict[str, RateLimitTracker] = {}

    def discover_streams(self) -> list[Stream]:
        return [stream_type(tap=self) for stream_type in STREAM_TYPES]

    @property
    def streams(self) -> dict[str, Stream]:
        # The SDK orders streams by name; the sync needs the order of STREAM_TYPES.
        ordered = sorted(super().streams.values(), key=lambda s: STREAM_TYPES.index(type(s)))
        return {stream.name: stream for stream in ordered}

    # --- districts ----------------------------------------------------------------------------

    @cached_property
    def api_base_url(self) -> str:
        """The configured API host, without a trailing slash or a version path."""
        url = str(self.config["api_url"]).rstrip("/")
        return re.sub(r"/v\d+(\.\d+)?$", "", url)

    @cached_property
    def district_access(self) -> dict[str, districts.DistrictAccess]:
        """Every district to sync, by id, in a stable order (resolved on first use)."""
        config = self.config
        has_app_credentials = bool(config.get("client_id") and config.get("client_secret"))
        tokens = districts.configured_tokens(config)
        if not tokens and not has_app_credentials:
            msg = (
                "No Clever credentials configured. Set one of: auth_token (one district), "
                "district_tokens (a list), or client_id and client_secret (every district of "
                "the application), e.g. TAP_CLEVER_CLIENT_ID / TAP_CLEVER_CLIENT_SECRET."
            )
            raise CleverError(msg)
        session = districts.new_session(user_agent=f"{self.name}/{self.plugin_version}")
        found: list[districts.DistrictAccess] = []
        if has_app_credentials:
            found += districts.discover_district_tokens(
                session, config["oauth_url"], config["client_id"], config["client_secret"]
            )
        resolved, unresolved = districts.resolve_configured_tokens(
            session, self.api_base_url, tokens
        )
        found += resolved
        for failure in unresolved:
            self.logger.error("%s", failure.error)
            self._failures[failure.source] = str(failure.error)
        if not found:
            if len(unresolved) == 1:
                raise unresolved[0].error
            msg = "No district could be read with the configured credentials: " + "; ".join(
                str(failure.error) for failure in unresolved
            )
            raise CleverError(msg)
        access = {a.district_id: a for a in districts.deduplicate(found)}
        for a in access.values():
            self.remember_district_name(a.district_id, a.name)
        self.logger.info("Syncing %d district(s): %s", len(access), ", ".join(access))
        return access

    def syncable_district_ids(self) -> list[str]:
        """Districts to read, less those that already failed in this run."""
        plans = self.district_plans
        return [d for d in self.district_access if d in plans and d not in self._failures]

    def snapshot_district_ids(self) -> list[str]:
        """Districts whose plan this run is a full snapshot, less those that failed."""
        return [d for d in self.syncable_district_ids() if self.district_plans[d].snapshot]

    def plan_for(self, district_id: str) -> DistrictPlan:
        return self.district_plans[district_id]

    @cached_property
    def district_plans(self) -> dict[str, DistrictPlan]:
        """Snapshot or incremental, per district, decided once before the first request of
        the first stream (so a snapshot's event cursor precedes all of its reads)."""
        events = t.cast("streams.EventsStream", self.streams["events"])
        self._check_event_record_types(events)
        snapshot_id = utc_now_iso()
        plans: dict[str, DistrictPlan] = {}
        for district_id in self.district_access:
            try:
                plan = plan_district(
                    district_id,
                    history_from_state(self.state, district_id),
                    events,
                    events_selected=events.selected,
                    snapshot_id=snapshot_id,
                )
            except CleverError as exc:
                self.district_failed(district_id, "events (sync plan)", exc)
                continue
            if plan.snapshot:
                self.logger.info(
                    "District %s: full snapshot (%s).",
                    self.district_label(district_id),
                    plan.reason,
                )
            else:
                self.logger.info("District %s: %s.", self.district_label(district_id), plan.reason)
            plans[district_id] = plan
        return plans

    def token_for(self, district_id: str) -> str:
        return self.district_access[district_id].token

    def rate_limit_for(self, district_id: str | None) -> RateLimitTracker:
        """The rate-limit window of the district's token (Clever counts per token)."""
        return self._rate_limits.setdefault(district_id or "", RateLimitTracker())

    def remember_district_name(self, district_id: str, name: str | None) -> None:
        if name:
            self._district_names[district_id] = name

    def district_label(self, district_id: str) -> str:
        name = self._district_names.get(district_id)
        return f"'{name}' ({district_id})" if name else district_id

    def _check_event_record_types(self, events: Stream) -> None:
        """Refuse an `event_record_types` that would leave a selected record type stale: its
        snapshot is read only on a district's first run, and its changes would be skipped."""
        wanted = self.config.get("event_record_types")
        if not wanted or not events.selected:
            return
        stale = [
            stream.name
            for stream in self.streams.values()
            if isinstance(stream, streams.SnapshotStream)
            and stream.selected
            and stream.name not in wanted
        ]
        if stale:
            msg = (
                f"event_record_types leaves out {', '.join(stale)}, whose streams are selected: "
                "after the first snapshot their changes would never reach the warehouse. Add "
                "them to event_record_types, or deselect those streams."
            )
            raise CleverError(msg)

    # --- failures -----------------------------------------------------------------------------

    def district_failed(self, district_id: str, stream_name: str, error: CleverError) -> None:
        """Record a district's failure; with a single district, fail the run at once."""
        if len(self.district_access) == 1:
            raise error
        self.logger.error(
            "District %s failed in stream '%s'; its other streams are skipped this run, its "
            "bookmarks stay where they were, and the other districts go on. %s",
            self.district_label(district_id),
            stream_name,
            error,
        )
        self._failures[district_id] = f"{stream_name}: {error}"

    def raise_if_finished_with_failures(self, stream: Stream) -> None:
        """After the last selected stream, fail the run if any district failed."""
        selected = [s for s in self.streams.values() if s.selected]
        if not self._failures or not selected or stream is not selected[-1]:
            return
        lines = [f"{len(self._failures)} district(s) failed; the others were synced:"]
        lines += [
            f"- {self.district_label(key)}: {reason}" for key, reason in self._failures.items()
        ]
        raise CleverDistrictsFailedError("\n".join(lines))


if __name__ == "__main__":
    TapClever.cli()
