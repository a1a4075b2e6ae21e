"""tap-clever: wires the settings and the streams (a run's districts are in run.py)."""

from __future__ import annotations

import re
import typing as t
from contextvars import ContextVar
from functools import cached_property

from singer_sdk import Stream, Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError
from typing_extensions import override

from tap_clever import settings_check, streams
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
# Seconds to connect, and for the next bytes of a response: Clever sends a page of 10000 users
# in seconds; two minutes of silence means the connection is dead, so the attempt is retried.
DEFAULT_REQUEST_TIMEOUT = 120

# Set while the command line builds the tap of a sync (see `TapClever.invoke`).
_COMMAND_LINE_SYNC: ContextVar[bool] = ContextVar("command_line_sync", default=False)

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
            # Or the text of a JSON list: Meltano passes it so (see districts.token_list).
            th.CustomType({"type": ["array", "string"], "items": {"type": "string"}}),
            secret=True,
            title="District-app tokens",
            description="Bearer tokens, one per district, all synced in one run: a list, or "
            'the text of a JSON list (\'["token1","token2"]\').',
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
            "request_timeout",
            th.IntegerType(minimum=1),
            default=DEFAULT_REQUEST_TIMEOUT,
            title="Request timeout",
            description="Seconds to wait to connect to Clever, and for the next bytes of a "
            "response, before the attempt counts as failed and is retried (default 120).",
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
        th.Property(
            "district_shard",
            th.StringType,
            title="District shard",
            description="i/n: sync only shard i of n (1 <= i <= n), for n runs in parallel, "
            "each with its own state id. A district's shard is a hash of its id: the same on "
            "every run, whether its token is configured or discovered. Default: every district.",
        ),
        th.Property(
            "pii_mode",
            th.StringType(allowed_values=["keep", "hash", "drop"]),
            default="keep",
            title="Personal data",
            description="What the tap does to personal fields (names, emails, dob, phones, "
            "addresses, usernames; see docs/privacy.md) of every record and event: keep them, "
            "hash them (HMAC-SHA256 with pii_salt), or drop them (null).",
        ),
        th.Property(
            "pii_salt",
            th.StringType,
            secret=True,
            title="Personal data salt",
            description="Secret key of pii_mode hash (at least 16 characters). Keep it stable: "
            "a new salt changes every hash.",
        ),
    ).to_dict()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        try:
            super().__init__(*args, **kwargs)
        except ConfigValidationError as error:
            if type(error) is not ConfigValidationError:
                raise  # the tap's own, already in its own words
            # The SDK's messages name the setting, not the fix, and quote the value (a token,
            # for a mistyped district_tokens): say what to set instead, showing no secret.
            raise settings_check.SettingsError(
                settings_check.value_problems(self.config, error.errors or [])
            ) from None
        # As the SDK's validation: not for discovery, which needs no settings.
        if kwargs.get("validate_config", True):
            problems = settings_check.value_problems(self.config)
            if problems:
                raise settings_check.SettingsError(problems)
        self.run = SyncRun(self)
        if _COMMAND_LINE_SYNC.get():
            self.run.check_before_sync()

    @classmethod
    @override
    def invoke(cls, *args: t.Any, **kwargs: t.Any) -> None:
        # The SDK's command-line sync builds the tap and at once calls `sync_all`, which is
        # final: the tap built for it checks at the end of `__init__` what the sync needs of
        # Clever, before the first message. Discovery and --about do not come through here.
        token = _COMMAND_LINE_SYNC.set(True)
        try:
            super().invoke(*args, **kwargs)
        finally:
            _COMMAND_LINE_SYNC.reset(token)

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
