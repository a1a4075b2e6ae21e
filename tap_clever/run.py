"""One run of the tap across districts: which districts, with which tokens, read how (snapshot
or events), read in parallel, and which failed.

The tap wires settings and streams; streams ask this object about districts and for their
pages. Everything here lives for one run only: what must outlive it is in the Singer state.
"""

from __future__ import annotations

import typing as t
from collections import Counter
from collections.abc import Iterator
from functools import cached_property

from tap_clever import districts, settings_check
from tap_clever.client import CleverClient, Page
from tap_clever.errors import (
    CleverAPIError,
    CleverConnectionError,
    CleverDistrictsFailedError,
    CleverError,
)
from tap_clever.event_feed import ClientEventFeed
from tap_clever.parallel import OrderedParallelReader, ReadGate, map_in_parallel
from tap_clever.shards import DistrictShard
from tap_clever.streams import CleverStream, SnapshotStream
from tap_clever.sync_plan import (
    DistrictHistory,
    DistrictPlan,
    histories_from_state,
    plan_district,
    utc_now_iso,
)

if t.TYPE_CHECKING:
    from singer_sdk import Stream

    from tap_clever.tap import TapClever


#: JSON of pages read ahead for districts the sync has not reached yet (a 10000-user page is
#: about 11 MB): enough for the other districts to read on while one waits out its rate limit.
READ_AHEAD_BYTES = 64 * 1024 * 1024
#: Districts in progress at once. Most of them wait (for their token's rate-limit window, a
#: retry, or the output); `max_parallel_districts` bounds the requests on the wire. A thousand
#: tokens whose windows another application spent then wait out one window together, not one
#: after another. A waiting thread costs a few kilobytes.
DISTRICTS_IN_PROGRESS = 1024


class SyncRun:
    """The districts of one run and what happens to each."""

    def __init__(self, tap: TapClever) -> None:
        self._tap = tap
        self._failures: dict[str, str] = {}
        self._district_names: dict[str, str] = {}
        self._repaired_values: Counter[tuple[str, str]] = Counter()
        self._reader: OrderedParallelReader[tuple[str, str], Page] | None = None

    @cached_property
    def parallel_districts(self) -> int:
        """How many districts have a request on the wire at once (each with its own token and
        rate limit)."""
        return int(self._tap.config["max_parallel_districts"])

    @cached_property
    def client(self) -> CleverClient:
        return CleverClient(
            self._tap.api_base_url,
            user_agent=f"{self._tap.name}/{self._tap.plugin_version}",
            max_in_flight=self.parallel_districts,
            logger=self._tap.logger,
            timeout_seconds=float(self._tap.config["request_timeout"]),
        )

    # --- districts ------------------------------------------------------------------------------

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
        found: list[districts.DistrictAccess] = []
        if has_app_credentials:
            found += districts.discover_district_tokens(
                self.client, config["oauth_url"], config["client_id"], config["client_secret"]
            )
        resolved, unresolved = districts.resolve_configured_tokens(
            self.client, tokens, workers=DISTRICTS_IN_PROGRESS
        )
        found += resolved
        if not found:
            # The error says it all: logging each failure too would print it twice.
            if len(unresolved) == 1:
                raise unresolved[0].error
            msg = "No district could be read with the configured credentials: " + "; ".join(
                str(failure.error) for failure in unresolved
            )
            raise CleverError(msg)
        shard = self.shard
        for failure in unresolved:
            # A token whose district is unknown is reported by one shard only: the one its
            # setting's position falls in.
            if shard is None or shard.holds(failure.source):
                self._tap.logger.error("%s", failure.error)
                self._failures[failure.source] = str(failure.error)
        access = {a.district_id: a for a in districts.deduplicate(found)}
        if shard is not None:
            held = {d: a for d, a in access.items() if shard.holds(d)}
            self._tap.logger.info(
                "Shard %s (district_shard): %d of the %d district(s) found.",
                shard,
                len(held),
                len(access),
            )
            access = held
        # A token discovered through /oauth/tokens does not name its district: its last
        # snapshot's name does, so that a run reading only events names it in every message.
        for district_id, history in histories_from_state(self._tap.state, access).items():
            self.remember_district_name(district_id, history.name)
        for a in access.values():
            self.remember_district_name(a.district_id, a.name)
        self._tap.logger.info(
            "Syncing %d district(s), up to %d requests at a time: %s",
            len(access),
            min(len(access), self.parallel_districts),
            ", ".join(access),
        )
        return access

    def check_before_sync(self) -> None:
        """Fail before the first message, in one line, if the run cannot read Clever at all.

        No credentials; a Clever host that cannot be connected to (retrying would only delay
        the same failure by minutes); credentials Clever rejects. Raised as a configuration
        error, which the SDK's command line prints without a traceback. Clever failing to
        answer (5xx, timeouts) is not a setting: it keeps its retries and its own error.
        """
        problem = settings_check.credentials_problem(self._tap.config)
        if problem:
            raise settings_check.SettingsError([problem])
        hosts = [("api_url", self._tap.api_base_url)]
        if settings_check.has_app_credentials(self._tap.config):
            hosts.append(("oauth_url", str(self._tap.config["oauth_url"])))
        for setting, url in hosts:
            problem = settings_check.unreachable_problem(
                self.client.session, setting, url, timeout=self.client.timeout_seconds
            )
            if problem:
                raise settings_check.SettingsError([problem])
        if not any(stream.selected for stream in self._tap.streams.values()):
            return
        try:
            # Resolved here rather than by the first stream, before its SCHEMA message.
            self.district_access  # noqa: B018
        except CleverConnectionError:
            raise
        except CleverError as error:
            raise settings_check.SettingsError([" ".join(str(error).split())]) from None

    @cached_property
    def shard(self) -> DistrictShard | None:
        """The share of the districts this run takes (`district_shard`), or None for all."""
        return DistrictShard.parse(self._tap.config.get("district_shard"))

    def syncable_district_ids(self) -> list[str]:
        """Districts to read, less those that already failed in this run."""
        plans = self.district_plans
        return [d for d in self.district_access if d in plans and d not in self._failures]

    def snapshot_district_ids(self) -> list[str]:
        """Districts whose plan this run is a full snapshot, less those that failed."""
        return [d for d in self.syncable_district_ids() if self.district_plans[d].snapshot]

    def event_district_ids(self) -> list[str]:
        """Districts whose events this run reads, less those that failed."""
        return [d for d in self.syncable_district_ids() if self.district_plans[d].events]

    def plan_for(self, district_id: str) -> DistrictPlan:
        return self.district_plans[district_id]

    @cached_property
    def histories(self) -> dict[str, DistrictHistory]:
        """What the state said of each district when the run started."""
        return histories_from_state(self._tap.state, self.district_access)

    @cached_property
    def district_plans(self) -> dict[str, DistrictPlan]:
        """Snapshot or incremental, per district, decided once before the first request of
        the first stream (so a snapshot's event cursor precedes all of its reads). The event
        feeds are probed in parallel."""
        events = self._tap.streams["events"]
        self._check_event_record_types(events)
        snapshot_id = utc_now_iso()
        feed = ClientEventFeed(
            self.client,
            token_for=self.token_for,
            label_for=self.district_label,
            page_size=int(self._tap.config["page_size"]),
        )

        def plan(district_id: str) -> DistrictPlan:
            return plan_district(
                district_id,
                self.histories[district_id],
                feed,
                events_selected=events.selected,
                snapshot_id=snapshot_id,
            )

        plans: dict[str, DistrictPlan] = {}
        for district_id, outcome in map_in_parallel(
            plan, list(self.district_access), workers=DISTRICTS_IN_PROGRESS, name="sync-plan"
        ):
            if isinstance(outcome, CleverError):
                self.district_failed(district_id, "events (sync plan)", outcome)
                continue
            if isinstance(outcome, Exception):
                raise outcome
            self._log_plan(outcome)
            plans[district_id] = outcome
        return plans

    def _log_plan(self, plan: DistrictPlan) -> None:
        label = self.district_label(plan.district_id)
        if plan.events_unavailable:
            self._tap.logger.warning(
                "District %s: the Events API is not available to this application for this "
                "district (%s). It is synced by a full snapshot on every run, which still "
                "removes deleted records. Enabling events for the application in the Clever "
                "dashboard (a Secure Sync district is needed) would make runs read only the "
                "changes, and keep each change in the warehouse's event history.",
                label,
                plan.events_unavailable,
            )
        elif plan.snapshot:
            self._tap.logger.info("District %s: full snapshot (%s).", label, plan.reason)
        else:
            self._tap.logger.info("District %s: %s.", label, plan.reason)

    def token_for(self, district_id: str) -> str:
        return self.district_access[district_id].token

    def remember_district_name(self, district_id: str, name: str | None) -> None:
        if name:
            self._district_names[district_id] = name

    def district_name(self, district_id: str) -> str | None:
        return self._district_names.get(district_id)

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
            if isinstance(stream, SnapshotStream) and stream.selected and stream.name not in wanted
        ]
        if stale:
            msg = (
                f"event_record_types leaves out {', '.join(stale)}, whose streams are selected: "
                "after the first snapshot their changes would never reach the warehouse. Add "
                "them to event_record_types, or deselect those streams."
            )
            raise CleverError(msg)

    # --- pages ----------------------------------------------------------------------------------

    def pages(self, stream: CleverStream, district_id: str) -> Iterator[Page]:
        """The pages of one district of a stream.

        On the first district of the first stream that reads Clever, every district of that
        stream and of the streams after it starts being read (`max_parallel_districts`
        requests at a time), in the order the SDK syncs them: the next stream's districts are
        read while this stream's last ones are written.
        """
        key = (stream.name, district_id)
        if self._reader is None or key not in self._reader:
            self._reader = self._read_ahead_from(stream)
        for page in self._reader.items(key):
            if page.repaired_values:
                self._repaired_values[district_id, stream.name] += page.repaired_values
            yield page

    def close(self) -> None:
        """Stop reading ahead: the run is over, or failed. No request is sent after this but
        those already on the wire."""
        if self._reader is not None:
            self._reader.close()

    def _read_ahead_from(self, first: CleverStream) -> OrderedParallelReader[tuple[str, str], Page]:
        self.close()
        streams = [s for s in self._tap.streams.values() if isinstance(s, CleverStream)]
        following = [s for s in streams[streams.index(first) :] if s.selected]
        # The requests are planned here, on the sync's thread: planning reads the state.
        reads = {
            (stream.name, partition["district"]): stream.endpoint_reads(partition["district"])
            for stream in following
            for partition in stream.partitions or []
        }
        by_name = {stream.name: stream for stream in following}

        def read(key: tuple[str, str], gate: ReadGate) -> Iterator[Page]:
            stream_name, district = key
            token, label = self.token_for(district), f"District {self.district_label(district)}"
            endpoints = reads.get(key) or by_name[stream_name].endpoint_reads(district)
            for endpoint in endpoints:
                yield from self.client.pages(
                    token, endpoint.path, endpoint.params, label=label, gate=gate
                )

        return OrderedParallelReader(
            list(reads),
            read,
            workers=DISTRICTS_IN_PROGRESS,
            budget=READ_AHEAD_BYTES,
            size=lambda page: len(page.body),
            name="districts",
        )

    def finish_stream(self, stream: Stream) -> None:
        """After a stream's last district: report what was repaired; after the last stream,
        stop the readers and fail the run if a district failed."""
        selected = [s for s in self._tap.streams.values() if s.selected]
        if selected and stream is selected[-1]:
            self.close()
        for (district_id, stream_name), count in sorted(self._repaired_values.items()):
            if stream_name == stream.name:
                self._tap.logger.warning(
                    "District %s: %d value(s) of %s held text that is not valid Unicode (a lone "
                    "UTF-16 surrogate, such as an emoji cut in half by the source system); "
                    "each damaged character was replaced by U+FFFD.",
                    self.district_label(district_id),
                    count,
                    stream_name,
                )
        self._raise_if_finished_with_failures(stream)

    # --- failures -------------------------------------------------------------------------------

    def district_failed(self, district_id: str, stream_name: str, error: CleverError) -> None:
        """Record a district's failure; with a single district, fail the run at once."""
        if len(self.district_access) == 1 and not self._failures:
            self.close()
            raise error
        self._tap.logger.error(
            "District %s failed in stream '%s'; its other streams are skipped this run, its "
            "bookmarks move no further than the last complete page read (the next run resumes "
            "there), and the other districts go on. %s",
            self.district_label(district_id),
            stream_name,
            error,
        )
        self._failures[district_id] = f"{stream_name}: {error}"

    def district_forbidden(self, district_id: str, stream_name: str, error: CleverAPIError) -> None:
        """A record type the district's token may not read (403): skipped, not a failure."""
        self._tap.logger.warning(
            "District %s: Clever refused %s to this application (HTTP 403%s), so the "
            "district's snapshot holds none. A district that is not a Secure Sync district "
            "shares only /districts with a district-app token; otherwise check the "
            "application's scopes in the Clever dashboard.",
            self.district_label(district_id),
            stream_name,
            f', Clever said "{error.detail}"' if error.detail else "",
        )

    def _raise_if_finished_with_failures(self, stream: Stream) -> None:
        """After the last selected stream, fail the run if any district failed."""
        selected = [s for s in self._tap.streams.values() if s.selected]
        if not self._failures or not selected or stream is not selected[-1]:
            return
        lines = [f"{len(self._failures)} district(s) failed; the others were synced:"]
        lines += [
            f"- {self.district_label(key)}: {reason}" for key, reason in self._failures.items()
        ]
        raise CleverDistrictsFailedError("\n".join(lines))
