"""tap-clever: wires the settings and the streams (a run's districts are in run.py)."""

from __future__ import annotations

import re
import typing as t
from functools import cached_property

from singer_sdk import Stream, Tap
from singer_sdk import typing as th
from typing_extensions import override

from tap_clever import districts, streams
from tap_clever.run import SyncRun
from tap_clever.singer_output import BufferedMsgSpecWriter

USER_ROLES = ["student", "teacher", "staff", "contact", "district_admin"]
EVENT_RECORD_TYPES = ["districts", "schools", "users", "sections", "terms", "courses", "resources"]
# 10000 is Clever's maximum page size: the fewest requests (each costs ~a round trip and one of
# the 1200 a minute a token may make) for pages that still fit easily in memory (~15 MB of users).
DEFAULT_PAGE_SIZE = 10000
# Requests on the wire at once, each district's on its own token. Clever's rate limit is per
# token, so districts do not share a budget; what they share is this machine and its network.
DEFAULT_PARALLEL_DISTRICTS = 16

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
    message_writer_class = BufferedMsgSpecWriter

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
            "max_parallel_districts",
            th.IntegerType(minimum=1, maximum=64),
            default=DEFAULT_PARALLEL_DISTRICTS,
            title="Districts read at once",
            description="How many districts have a request in flight at once (1 to 64), each "
            "paced by its own token's rate limit; a district waiting for its token's "
            "rate-limit window does not count. 1 reads them one after another.",
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
        self.run = SyncRun(self)

    @override
    def discover_streams(self) -> list[Stream]:
        return [stream_type(tap=self) for stream_type in STREAM_TYPES]

    @property
    @override
    def streams(self) -> dict[str, Stream]:
        # The SDK orders streams by name; the sync needs the order of STREAM_TYPES.
        ordered = sorted(super().streams.values(), key=lambda s: STREAM_TYPES.index(type(s)))
        return {stream.name: stream for stream in ordered}

    @cached_property
    def api_base_url(self) -> str:
        """The configured API host, without a trailing slash or a version path."""
        url = str(self.config["api_url"]).rstrip("/")
        return re.sub(r"/v\d+(\.\d+)?$", "", url)


if __name__ == "__main__":
    TapClever.cli()
