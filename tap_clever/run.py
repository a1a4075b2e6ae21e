"""One run of the tap across districts: which districts, with which tokens, read how (snapshot
or events), paced per token, and which failed.

The tap wires settings and streams; streams ask this object about districts. Everything here
lives for one run only: what must outlive it is in the Singer state.
"""

from __future__ import annotations

import typing as t
from functools import cached_property

from tap_clever import districts, streams
from tap_clever.errors import CleverDistrictsFailedError, CleverError
from tap_clever.ratelimit import RateLimitTracker
from tap_clever.sync_plan import DistrictPlan, history_from_state, plan_district, utc_now_iso

if t.TYPE_CHECKING:
    from singer_sdk import Stream

    from tap_clever.tap import TapClever


class SyncRun:
    """The districts of one run and what happens to each."""

    def __init__(self, tap: TapClever) -> None:
        self._tap = tap
        self._failures: dict[str, str] = {}
        self._district_names: dict[str, str] = {}
        self._rate_limits: dict[str, RateLimitTracker] = {}

    @cached_property
    def district_access(self) -> dict[str, districts.DistrictAccess]:
        """Every district to sync, by id, in a stable order (resolved on first use)."""
        config = self._tap.config
        has_app_credentials = bool(config.get("client_id") and config.get("client_secret"))
        tokens = districts.configured_tokens(config)
        if not tokens and not has_app_credentials:
            msg = (
                "No Clever credentials configured. Set one of: auth_token (one district), "
                "district_tokens (a list), or client_id and client_secret (every district of "
                "the application), e.g. TAP_CLEVER_CLIENT_ID / TAP_CLEVER_CLIENT_SECRET."
            )
            raise CleverError(msg)
        session = districts.new_session(user_agent=f"{self._tap.name}/{self._tap.plugin_version}")
        found: list[districts.DistrictAccess] = []
        if has_app_credentials:
            found += districts.discover_district_tokens(
                session, config["oauth_url"], config["client_id"], config["client_secret"]
            )
        resolved, unresolved = districts.resolve_configured_tokens(
            session, self._tap.api_base_url, tokens
        )
        found += resolved
        for failure in unresolved:
            self._tap.logger.error("%s", failure.error)
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
        self._tap.logger.info("Syncing %d district(s): %s", len(access), ", ".join(access))
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
        events = t.cast("streams.EventsStream", self._tap.streams["events"])
        self._check_event_record_types(events)
        snapshot_id = utc_now_iso()
        plans: dict[str, DistrictPlan] = {}
        for district_id in self.district_access:
            try:
                plan = plan_district(
                    district_id,
                    history_from_state(self._tap.state, district_id),
                    events,
                    events_selected=events.selected,
                    snapshot_id=snapshot_id,
                )
            except CleverError as exc:
                self.district_failed(district_id, "events (sync plan)", exc)
                continue
            if plan.snapshot:
                self._tap.logger.info(
                    "District %s: full snapshot (%s).",
                    self.district_label(district_id),
                    plan.reason,
                )
            else:
                self._tap.logger.info(
                    "District %s: %s.", self.district_label(district_id), plan.reason
                )
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
        wanted = self._tap.config.get("event_record_types")
        if not wanted or not events.selected:
            return
        stale = [
            stream.name
            for stream in self._tap.streams.values()
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

    # --- failures ---------------------------------------------------------------------------

    def district_failed(self, district_id: str, stream_name: str, error: CleverError) -> None:
        """Record a district's failure; with a single district, fail the run at once."""
        if len(self.district_access) == 1 and not self._failures:
            raise error
        self._tap.logger.error(
            "District %s failed in stream '%s'; its other streams are skipped this run, its "
            "bookmarks stay where they were, and the other districts go on. %s",
            self.district_label(district_id),
            stream_name,
            error,
        )
        self._failures[district_id] = f"{stream_name}: {error}"

    def raise_if_finished_with_failures(self, stream: Stream) -> None:
        """After the last selected stream, fail the run if any district failed."""
        selected = [s for s in self._tap.streams.values() if s.selected]
        if not self._failures or not selected or stream is not selected[-1]:
            return
        lines = [f"{len(self._failures)} district(s) failed; the others were synced:"]
        lines += [
            f"- {self.district_label(key)}: {reason}" for key, reason in self._failures.items()
        ]
        raise CleverDistrictsFailedError("\n".join(lines))
